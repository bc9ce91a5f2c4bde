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

# The JupyterLab panel (extensions/scope_jupyterlab, see extensions/README.md): its own
# small distribution, so installing Scope's Python packages never needs Node. Build the
# JavaScript and install the prebuilt extension only when its sources changed since the
# last time (or Scope was just reinstalled): the first build takes about a minute.
ext=extensions/scope_jupyterlab
ext_stamp=.venv/.scope-jupyterlab-installed
changed() {
    [ ! -f "$ext_stamp" ] || [ "$stamp" -nt "$ext_stamp" ] || [ -n "$(find "$ext" \
        \( -name node_modules -o -name lib -o -name labextension \) -prune -o \
        -type f -newer "$ext_stamp" -print -quit)" ]
}
if changed; then
    # jlpm and jupyter-builder live in the venv; hatch-jupyter-builder runs jlpm too.
    export PATH="$PWD/.venv/bin:$PATH"
    (cd "$ext" && jlpm install --silent && jlpm build:prod >/dev/null)
    .venv/bin/python -m pip install --quiet --no-deps --no-build-isolation "./$ext" 2>&1 \
        | grep -v "is ignored" || true
    .venv/bin/jupyter labextension list 2>&1 | grep "scope-jupyterlab.*enabled.*OK" >/dev/null
    .venv/bin/jupyter server extension list 2>&1 | grep "scope_lab.jupyter.*enabled" >/dev/null
    touch "$ext_stamp"
fi
