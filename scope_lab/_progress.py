"""Progress bars for long calls: ``tqdm.auto`` picks a notebook widget or a terminal bar.

tqdm is imported on first use so that ``import scope_lab`` stays light. Set
``TQDM_DISABLE=1`` to silence every bar (tqdm reads its own environment variables).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def progress(*, total: int | None = None, desc: str, unit: str = "it",
             leave: bool = True, disable: bool | None = False) -> Iterator[Any]:
    """A progress bar to ``update(n)`` while work advances; closed when the block ends."""
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit, leave=leave, dynamic_ncols=True,
               disable=disable)
    try:
        yield bar
    finally:
        bar.close()
