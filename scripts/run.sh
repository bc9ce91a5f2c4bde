#!/usr/bin/env bash
# Set up and run Scope's main job: the API on its embedded SQLite database plus
# JupyterLab with the quickstart notebook, all on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

export SCOPE_DATA_DIR="${SCOPE_DATA_DIR:-$PWD/.scope}"
mkdir -p "$SCOPE_DATA_DIR"
# A local admin key, made once and kept (0600) so the notebooks can sign in.
key_file="$SCOPE_DATA_DIR/dev-api-key"
if [ -z "${SCOPE_BOOTSTRAP_API_KEY:-}" ]; then
    if [ ! -f "$key_file" ]; then
        (umask 077; .venv/bin/python -c "import secrets; print('scope_' + secrets.token_urlsafe(32))" > "$key_file")
    fi
    SCOPE_BOOTSTRAP_API_KEY="$(cat "$key_file")"
fi
export SCOPE_BOOTSTRAP_API_KEY
API_PORT="${SCOPE_PORT:-8000}"
LAB_PORT="${SCOPE_LAB_PORT:-8888}"
export SCOPE_BASE_URL="http://127.0.0.1:$API_PORT"
export SCOPE_API_KEY="$SCOPE_BOOTSTRAP_API_KEY"

.venv/bin/scope serve --host 127.0.0.1 --port "$API_PORT" &
api_pid=$!
trap 'kill $api_pid 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 60); do
    if .venv/bin/python -c "import httpx,sys; sys.exit(httpx.get('$SCOPE_BASE_URL/api/v1/health').status_code != 200)" 2>/dev/null; then
        break
    fi
    sleep 0.5
done
echo "Scope API: $SCOPE_BASE_URL/api/v1 (docs: $SCOPE_BASE_URL/api/v1/docs)"
echo "Admin API key for tenant 'default' is in $key_file"
lab_args=(--ip 127.0.0.1 --port "$LAB_PORT")
# Jupyter refuses to start as root (containers, CI machines) unless told it may.
if [ "$(id -u)" -eq 0 ]; then
    lab_args+=(--allow-root)
fi
.venv/bin/jupyter lab "${lab_args[@]}" notebooks/01_quickstart.ipynb
