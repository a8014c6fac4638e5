#!/usr/bin/env bash
# Fetch the console's vendored browser libraries again from the npm registry (`npm pack`, pinned
# versions) and copy their built files and licences into apps/console/src/lmp_console/static/vendor/.
# Run it after changing a version below; commit what it changes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vendor="$root/apps/console/src/lmp_console/static/vendor"
HTMX_VERSION=2.0.11
CHARTJS_VERSION=4.6.1

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "htmx.org@$HTMX_VERSION" "chart.js@$CHARTJS_VERSION" >/dev/null
mkdir htmx chartjs
tar -xzf "htmx.org-$HTMX_VERSION.tgz" -C htmx
tar -xzf "chart.js-$CHARTJS_VERSION.tgz" -C chartjs

mkdir -p "$vendor"
cp htmx/package/dist/htmx.min.js "$vendor/htmx.min.js"
cp htmx/package/LICENSE "$vendor/htmx.LICENSE"
cp chartjs/package/dist/chart.umd.min.js "$vendor/chart.umd.min.js"
cp chartjs/package/LICENSE.md "$vendor/chart.js.LICENSE.md"
cat > "$vendor/VERSIONS" <<VERSIONS
htmx.org $HTMX_VERSION (BSD Zero Clause: htmx.LICENSE)
chart.js $CHARTJS_VERSION (MIT: chart.js.LICENSE.md)
fetched by scripts/vendor_console_assets.sh with npm pack
VERSIONS
echo "vendored into $vendor:"
ls -l "$vendor"
