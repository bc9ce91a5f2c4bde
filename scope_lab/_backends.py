"""What differs between the blocking and the asyncio client: sleeping and background work.

The async sources in ``scope_lab/_async`` call ``self._backend``; the generated sync
sources get :class:`SyncBackend` in its place (see ``scripts/gen_sync.py``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any


class SyncBackend:
    """Blocking sleep; background work on daemon threads."""

    def __init__(self) -> None:
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``."""
        time.sleep(seconds)

    def spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on a daemon thread, so a refresh never delays the caller."""
        thread = threading.Thread(target=self._run, args=(fn, *args), name="scope-refresh",
                                  daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def _run(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def drain(self, timeout: float = 10.0) -> None:
        """Wait for background work (used when the client closes)."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)


class AsyncBackend:
    """asyncio sleep; background work as tasks on the running loop."""

    def __init__(self) -> None:
        # The loop keeps only weak references to tasks: hold them until they finish.
        self._tasks: set[asyncio.Task[Any]] = set()

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` without blocking the loop."""
        await asyncio.sleep(seconds)

    def spawn(self, fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
        """Schedule ``fn(*args)`` as a task on the running loop."""
        task = asyncio.get_running_loop().create_task(fn(*args))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for background tasks (used when the client closes)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
