# Sourced by ./lmp and ./test: makes `uv` available on a fresh machine with Python 3.11+.
UV_VERSION="0.13.9"
if ! command -v uv >/dev/null 2>&1; then
  if ! python3 -m pip --version >/dev/null 2>&1; then
    echo "pip is missing: install Python 3.11+ with pip, or install uv from https://docs.astral.sh/uv/" >&2
    exit 1
  fi
  python3 -m pip install --quiet --disable-pip-version-check "uv==${UV_VERSION}" 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check --user "uv==${UV_VERSION}"
  export PATH="$HOME/.local/bin:$PATH"
fi
