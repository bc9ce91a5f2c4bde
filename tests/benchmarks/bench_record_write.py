"""Benchmark of an execution record's write: a pooled connection per commit against
the execution recorder's kept one (``db.Writer``).

Not a test: it prints figures. Run it from the repository root::

    .venv/bin/python tests/benchmarks/bench_record_write.py [--commits 3000] [--rounds 4]
    .venv/bin/python tests/benchmarks/bench_record_write.py --backend postgresql

Each commit writes what one ``POST /executions`` writes (its ``executions`` row and its
``execution_spans`` row, or ``--batch`` of each) into a migrated database. On SQLite
(the default), in WAL mode as the server has it: automatic checkpoints off, a
``PASSIVE`` checkpoint from another connection every 125 commits (the server's every
0.25 s at 500/s). On PostgreSQL (``--backend postgresql``), a fresh ``scope_bench_*``
database on the local server (``SCOPE_BENCH_POSTGRES_URL``, as for the other
benchmarks), dropped at the end; the pool pings each connection it hands out, as the
server's does. The two ways take turns, each on a fresh database, for ``--rounds``
rounds; reported per commit: CPU time of the process (the database server's is not
counted) and wall time, and their medians over the rounds. CPU time is the steadier
figure on a machine whose speed drifts.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from scope_api.db import Database, build_engine  # noqa: E402
from scope_api.engine.record import EXECUTIONS, SPANS  # noqa: E402
from scope_api.migrate import upgrade  # noqa: E402
from scope_api.services import tenants  # noqa: E402
from tests.benchmarks.bench_production_fetch import postgres_database  # noqa: E402

CHECKPOINT_EVERY = 125
Pair = tuple[dict[str, Any], dict[str, Any]]


def execution(tenant_id: str) -> Pair:
    """Rows shaped like the engine's for a two-message chat call (``record.rows``)."""
    execution_id, trace_id = uuid.uuid4().hex, uuid.uuid4().hex
    now = datetime.now(UTC)
    row = {"id": execution_id, "tenant_id": tenant_id, "prompt": "support-reply",
           "prompt_id": None, "version": 3, "provider": "sim", "provider_id": None,
           "model": "gpt-4o-mini", "status": "succeeded",
           "rendered": {"messages": [
               {"role": "system", "content": "You answer for Acme's support team. " * 3},
               {"role": "user", "content": "Where is my order 1234? It was due Monday."}],
               "parameters": {"max_tokens": 64}},
           "output": "Your order left our warehouse on Tuesday. " * 3, "error": None,
           "input_tokens": 52, "output_tokens": 31, "latency_ms": 0.41,
           "cost_usd": "0.0000264", "warnings": [], "trace_id": trace_id,
           "span_id": trace_id[:16], "created_by": "api_key:bench", "created_at": now}
    span = {"trace_id": trace_id, "span_id": trace_id[:16], "tenant_id": tenant_id,
            "execution_id": execution_id, "name": "chat gpt-4o-mini", "start": now,
            "duration_ms": 0.52, "status": "OK", "prompt": "support-reply",
            "model": "gpt-4o-mini",
            "attributes": {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                           "gen_ai.request.model": "gpt-4o-mini",
                           "gen_ai.response.model": "gpt-4o-mini",
                           "gen_ai.usage.input_tokens": 52, "gen_ai.usage.output_tokens": 31,
                           "gen_ai.response.finish_reasons": ["stop"],
                           "scope.prompt.name": "support-reply", "scope.prompt.version": 3,
                           "scope.cost_usd": 2.64e-05}}
    return row, span


@contextlib.contextmanager
def fresh_database(backend: str, work_dir: Path) -> Iterator[str]:
    """The URL of a new, migrated database of ``backend``."""
    if backend == "sqlite":
        url = f"sqlite:///{work_dir / f'{uuid.uuid4().hex[:8]}.db'}"
        upgrade(url)
        yield url
        return
    with postgres_database() as url:
        upgrade(url)
        yield url


def measure(url: str, way: str, commits: int, batch: int) -> tuple[float, float]:
    """(CPU µs, wall µs) per commit of ``batch`` executions, on the database at ``url``."""
    database = Database(build_engine(url, background_checkpoints=True))
    try:
        with database.unit_of_work() as session:
            tenant_id = tenants.get_or_create(session, "bench").id
        batches = [[execution(tenant_id) for _ in range(batch)] for _ in range(commits)]
        writer = database.writer()
        insert: Callable[[Any], None] = (
            database.insert_many if way == "pooled" else writer.insert_many)
        cpu, wall = time.process_time(), time.perf_counter()
        for n, pairs in enumerate(batches):
            insert([(EXECUTIONS, [row for row, _ in pairs]), (SPANS, [s for _, s in pairs])])
            if database.is_sqlite and n % CHECKPOINT_EVERY == 0:
                with database.engine.connect() as connection:
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        writer.close()
        return cpu / commits * 1e6, wall / commits * 1e6
    finally:
        database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=1, help="executions per commit")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args(argv)
    name = "SQLite" if args.backend == "sqlite" else "PostgreSQL"
    print(f"execution record writes on {name}: {args.commits} commits of {args.batch} "
          f"execution(s) each, {args.rounds} rounds, the two ways taking turns", flush=True)
    figures: dict[str, list[tuple[float, float]]] = {"pooled": [], "kept": []}
    with tempfile.TemporaryDirectory(prefix="scope-bench-write-") as tmp:
        for round_ in range(1, args.rounds + 1):
            for way, results in figures.items():
                with fresh_database(args.backend, Path(tmp)) as url:
                    cpu, wall = measure(url, way, args.commits, args.batch)
                results.append((cpu, wall))
                print(f"  round {round_} {way:<6}: {cpu:7.1f} µs CPU, {wall:7.1f} µs wall "
                      "per commit", flush=True)
    for way, results in figures.items():
        print(f"{way:<6} median: {statistics.median(c for c, _ in results):7.1f} µs CPU, "
              f"{statistics.median(w for _, w in results):7.1f} µs wall per commit "
              f"({'a pool checkout per commit' if way == 'pooled' else 'db.Writer, kept'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
