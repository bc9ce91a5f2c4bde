"""Golden sets: named test datasets, filled from lists, CSV or JSONL files, or DataFrames."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import nullcontext

from scope_lab._async.resources._base import AsyncResource, segment
from scope_lab._progress import progress
from scope_lab._uploads import BATCH_ITEMS, ItemsSource, batches
from scope_lab.errors import APIError
from scope_lab.models import GoldenItem, GoldenSet


class AsyncGoldenSets(AsyncResource):
    """``scope.golden_sets``: the datasets test runs are made of."""

    async def list(self, *, limit: int | None = None) -> AsyncIterator[GoldenSet]:
        """Every golden set of the tenant, newest first, fetched lazily."""
        async for golden_set in self._api.items("/golden-sets", GoldenSet.model_validate,
                                                limit=limit):
            yield golden_set

    async def create(self, name: str, *, description: str = "",
                     items: ItemsSource | None = None) -> GoldenSet:
        """A new golden set, filled with ``items`` if given (see :meth:`add_items`).

        The set is created first: if adding the items fails, it exists with the
        batches that were stored (the error says how many).
        """
        created = GoldenSet.model_validate(await self._api.json(
            "POST", "/golden-sets", json={"name": name, "description": description}))
        if items is None:
            return created
        return await self.add_items(name, items)

    async def retrieve(self, name: str) -> GoldenSet:
        """One golden set, with its ``item_count``."""
        return GoldenSet.model_validate(
            await self._api.json("GET", f"/golden-sets/{segment(name)}"))

    async def delete(self, name: str) -> None:
        """Delete a set and its items; its runs stay readable."""
        await self._api.request("DELETE", f"/golden-sets/{segment(name)}")

    async def add_items(self, name: str, items: ItemsSource, *,
                        batch_size: int = BATCH_ITEMS) -> GoldenSet:
        """Append items and return the set with its new ``item_count``.

        ``items`` is a list of records (``{"variables": {…}, "expected": …, "metadata":
        {…}}``, or flat: ``expected`` and ``metadata`` keys, every other key a variable),
        a pandas DataFrame (the same rule for columns; empty cells are left out), or the
        path of a ``.csv``, ``.jsonl``/``.ndjson`` or ``.json`` file. Requests carry at
        most ``batch_size`` items; each is stored all or nothing, so if one fails the
        error's notes say how many items were added before it.
        """
        planned = batches(items, batch_size=batch_size)
        path = f"/golden-sets/{segment(name)}/items"
        added = 0
        bar_context = progress(total=sum(b.count for b in planned), desc=name, unit="item",
                               leave=False) if len(planned) > 1 else nullcontext(_NoBar())
        with bar_context as bar:
            for batch in planned:
                try:
                    await self._api.request("POST", path, content=batch.body,
                                            headers={"Content-Type": batch.content_type})
                except APIError as exc:
                    if len(planned) > 1:
                        exc.add_note(
                            f"this batch of {batch.count} items starts at {batch.where()} "
                            "of your data (indexes and line numbers in the error count from "
                            f"there); {added} items were added before it, none of this "
                            "batch")
                    raise
                added += batch.count
                bar.update(batch.count)
        return await self.retrieve(name)

    async def items(self, name: str, *,
                    limit: int | None = None) -> AsyncIterator[GoldenItem]:
        """The set's items in the order they were added, fetched lazily."""
        async for item in self._api.items(f"/golden-sets/{segment(name)}/items",
                                          GoldenItem.model_validate, limit=limit):
            yield item


class _NoBar:
    """Stands in for a progress bar when one request does it all."""

    def update(self, n: int) -> None:
        pass
