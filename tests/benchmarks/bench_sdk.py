"""Benchmark of the Python SDK: import time and the cached ``prompts.get``.

Not a test: it prints figures. Run it from the repository root::

    .venv/bin/python tests/benchmarks/bench_sdk.py

* **import**: a fresh interpreter per sample (20 samples, median, bytecode cached),
  timing ``import scope_lab`` alone and ``from scope_lab import Scope`` (the client,
  with httpx and pydantic), measured inside the child so interpreter start-up is
  excluded.
* **cached get**: a real ``scope serve`` on SQLite with one published prompt; after
  one fetch, 100,000 calls to ``scope.prompts.get(name)`` are timed in batches of
  1,000 (so the timer's own cost is amortised); the per-call figure is the batch
  time / 1,000, reported as the median and p99 over the 100 batches. The same for
  ``AsyncScope`` (``await client.prompts.get(name)`` inside one running loop).

Targets (issue 5): cached get median ≤ 2 µs; import under 150 ms.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from scope_lab import AsyncScope, Scope  # noqa: E402
from tests.live import serve  # noqa: E402

CALLS = 100_000
BATCH = 1_000


def import_ms(statement: str, samples: int = 20) -> float:
    """Median wall time of ``statement`` in a fresh interpreter, in ms.

    With bytecode caching on, as on a user's machine (these machines set
    PYTHONDONTWRITEBYTECODE, which would recompile every module on every import).
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    code = f"import time; t=time.perf_counter(); {statement}; print(time.perf_counter()-t)"

    def once() -> float:
        return float(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                    text=True, check=True, cwd=REPO, env=env).stdout) * 1000

    once()  # writes the bytecode caches
    return statistics.median(once() for _ in range(samples))


def per_call_us(batches: list[float]) -> tuple[float, float]:
    per_call = sorted(b / BATCH * 1e6 for b in batches)
    return statistics.median(per_call), per_call[int(len(per_call) * 0.99) - 1]


def bench_sync(scope: Scope, name: str) -> tuple[float, float]:
    get = scope.prompts.get
    get(name)
    batches = []
    for _ in range(CALLS // BATCH):
        start = time.perf_counter()
        for _ in range(BATCH):
            get(name)
        batches.append(time.perf_counter() - start)
    return per_call_us(batches)


async def bench_async(client: AsyncScope, name: str) -> tuple[float, float]:
    get = client.prompts.get
    await get(name)
    batches = []
    for _ in range(CALLS // BATCH):
        start = time.perf_counter()
        for _ in range(BATCH):
            await get(name)
        batches.append(time.perf_counter() - start)
    return per_call_us(batches)


def main() -> None:
    print(f"python {sys.version.split()[0]} on {sys.platform}")
    print(f"import scope_lab                     {import_ms('import scope_lab'):7.1f} ms "
          "(target < 150)")
    print(f"from scope_lab import Scope          "
          f"{import_ms('from scope_lab import Scope'):7.1f} ms")
    with serve(None) as server:
        with Scope(server.base_url, server.api_key) as scope:
            scope.prompts.create("bench")
            scope.versions.create("bench", "Hello {{ name }}, welcome to {{ place }}.")
            scope.versions.promote("bench", 1)
            median, p99 = bench_sync(scope, "bench")
            print(f"Scope.prompts.get (cached)           {median:7.3f} µs median, "
                  f"{p99:.3f} µs p99 over {CALLS:,} calls (target ≤ 2 µs median)")
            prompt = scope.prompts.get("bench")
            start = time.perf_counter()
            for _ in range(10_000):
                prompt.render(name="Ada", place="Scope")
            print(f"Prompt.render (2 variables)          "
                  f"{(time.perf_counter() - start) / 10_000 * 1e6:7.3f} µs per call")

        async def run_async() -> tuple[float, float]:
            async with AsyncScope(server.base_url, server.api_key) as client:
                return await bench_async(client, "bench")

        median, p99 = asyncio.run(run_async())
        print(f"AsyncScope.prompts.get (cached)      {median:7.3f} µs median, "
              f"{p99:.3f} µs p99 over {CALLS:,} calls")


if __name__ == "__main__":
    main()
