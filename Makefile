.PHONY: run test setup bench bench-engine lint

run:    ## set up and run the API (SQLite) + JupyterLab with the quickstart
	scripts/run.sh

test:   ## set up and run the whole test suite (SQLite and PostgreSQL)
	scripts/test.sh

setup:
	scripts/setup.sh

lint:
	scripts/setup.sh && .venv/bin/ruff check scope_api scope_lab tests && .venv/bin/mypy

bench:  ## production-fetch benchmark; prints figures (see tests/benchmarks/README.md)
	scripts/setup.sh && .venv/bin/python tests/benchmarks/bench_production_fetch.py

bench-engine:  ## engine overhead per execution, then span cost; exits 1 if a target is missed
	scripts/setup.sh || exit 1; status=0; \
	.venv/bin/python tests/benchmarks/bench_engine_overhead.py || status=1; \
	.venv/bin/python tests/benchmarks/bench_spans.py || status=1; \
	exit $$status
