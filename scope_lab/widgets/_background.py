"""Widget work on worker threads, so a slow server never freezes the kernel.

A button click or a message from the browser is handled on the kernel's main
thread; anything that talks to Scope is submitted here instead and the handler
returns at once. ``on_busy`` hears how many jobs are in flight, so the widget can
show a busy indicator. A job reports its own errors in the widget; its future
still carries the exception for code that waits on it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class Jobs:
    """A small thread pool that counts its jobs in flight."""

    def __init__(self, workers: int, *, on_busy: Callable[[int], None]) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers,
                                        thread_name_prefix="scope-widget")
        # Reentrant, so that an on_busy callback may read in_flight.
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._futures: set[Future[Any]] = set()
        self._on_busy = on_busy

    @property
    def in_flight(self) -> int:
        """Jobs submitted and not finished."""
        with self._lock:
            return len(self._futures)

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn(*args)`` on a worker thread; return its future at once."""
        with self._lock:
            future = self._pool.submit(fn, *args)
            self._futures.add(future)
            # Reported under the lock so that counts reach the widget in order.
            self._on_busy(len(self._futures))
        future.add_done_callback(self._done)
        return future

    def wait(self, timeout: float | None = None) -> None:
        """Block until no job is in flight (and the widget was told); TimeoutError if not."""
        with self._idle:
            if not self._idle.wait_for(lambda: not self._futures, timeout):
                raise TimeoutError(
                    f"{len(self._futures)} widget job(s) still running after {timeout} s")

    def close(self) -> None:
        """Stop taking jobs and drop those not started; running ones finish on their own."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _done(self, future: Future[Any]) -> None:
        with self._lock:
            self._futures.discard(future)
            self._on_busy(len(self._futures))
            self._idle.notify_all()
