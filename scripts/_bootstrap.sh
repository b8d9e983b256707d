# Sourced by scripts/serve and scripts/test: a virtualenv in .venv with the locked packages
# (requirements.txt, or requirements-dev.txt for the tests), each checked against its hash.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
PIP_VERSION=26.3  # the installer itself; scripts/lock compiles with the same pip
requirements="${1:-requirements.txt}"
if [ ! -x .venv/bin/python ]; then
  echo "creating the virtualenv .venv"
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.installed-$(cat requirements.txt "$requirements" | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --disable-pip-version-check -q "pip==$PIP_VERSION"
  echo "installing $(grep -c '^[A-Za-z0-9]' "$requirements") locked packages from $requirements into .venv..."
  .venv/bin/python -m pip install --disable-pip-version-check --require-hashes -r "$requirements"
  touch "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
