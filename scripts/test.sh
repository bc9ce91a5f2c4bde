#!/usr/bin/env bash
# Set up and run the whole test suite: lint, types, then pytest on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "== ruff"; .venv/bin/ruff check scope_api scope_lab tests
echo "== mypy"; .venv/bin/mypy
echo "== pytest"
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: failing loudly" >&2
    exit 1
fi
exit "$status"
