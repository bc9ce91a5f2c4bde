#!/usr/bin/env bash
# Create .venv (if missing) and install Scope with everything for development.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
# Re-install only when pyproject.toml changed since the last successful install.
stamp=.venv/.scope-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "is ignored" || true
    .venv/bin/python -m pip install --quiet -e '.[dev]' 2>&1 | grep -v "is ignored" || true
    .venv/bin/python -c "import scope_api.app, scope_lab, jupyterlab, nbval" 
    touch "$stamp"
fi
