#!/usr/bin/env bash
# Fetch the console's graph library again from the npm registry (`npm pack`, pinned version) and
# copy its built file and licence into apps/console/src/lmp_console/static/vendor/: cytoscape.js
# draws a practice's lineage across cities (/cities/{city}/practices/{id}/lineage).
# Run it after changing the version below; commit what it changes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vendor="$root/apps/console/src/lmp_console/static/vendor"
CYTOSCAPE_VERSION=3.35.0

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "cytoscape@$CYTOSCAPE_VERSION" >/dev/null
mkdir cytoscape
tar -xzf "cytoscape-$CYTOSCAPE_VERSION.tgz" -C cytoscape

mkdir -p "$vendor"
cp cytoscape/package/dist/cytoscape.min.js "$vendor/cytoscape.min.js"
cp cytoscape/package/LICENSE "$vendor/cytoscape.LICENSE"
cat > "$vendor/cytoscape.VERSION" <<VERSION
cytoscape $CYTOSCAPE_VERSION (MIT: cytoscape.LICENSE)
fetched by scripts/vendor_console_graph.sh with npm pack
VERSION
echo "vendored into $vendor:"
ls -l "$vendor"/cytoscape*
