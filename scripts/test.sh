#!/usr/bin/env bash
# Set up and run the whole test suite: lint, types, then pytest on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "== ruff"; .venv/bin/ruff check scope_api scope_lab tests
echo "== mypy"; .venv/bin/mypy
echo "== pytest"
set +e
# Two workers (pytest-xdist; each has its own databases): the suite is ~18 minutes
# alone on a slow 2-core machine, ~12 on two. SCOPE_TEST_WORKERS=0 runs it in one process.
.venv/bin/python -m pytest -n "${SCOPE_TEST_WORKERS:-2}" "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: failing loudly" >&2
    exit 1
fi
exit "$status"
