"""Executions: run a prompt version on a model; browse what ran, with tokens and cost."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scope_lab._async.resources._base import AsyncResource, segment
from scope_lab._config import EXECUTION_TIMEOUT
from scope_lab._progress import progress
from scope_lab.models import Execution

if TYPE_CHECKING:
    import pandas as pd


class AsyncExecutions(AsyncResource):
    """``scope.executions``: one prompt, one model, one answer, and what it cost."""

    async def create(self, prompt: str, *, provider: str, model: str,
                     variables: Mapping[str, Any] | None = None, version: int | None = None,
                     label: str | None = None,
                     parameters: Mapping[str, Any] | None = None) -> Execution:
        """Render the prompt (``version``, or ``label``; default: production) and run it.

        A provider that fails (after the server's retries) raises
        :class:`scope_lab.ProviderError` or :class:`scope_lab.ProviderTimeout`; the failed
        execution is still recorded (its id is in the error's ``details``). A missing
        variable raises :class:`scope_lab.ValidationError` naming it and nothing runs.
        """
        if version is None and label is None:
            label = "production"
        body = {"prompt": prompt, "version": version, "label": label, "provider": provider,
                "model": model, "variables": dict(variables or {}),
                "parameters": dict(parameters or {})}
        body = {k: v for k, v in body.items() if v is not None}
        return Execution.model_validate(await self._api.json(
            "POST", "/executions", json=body, http_timeout=EXECUTION_TIMEOUT))

    async def retrieve(self, id: str) -> Execution:
        """One execution by id."""
        return Execution.model_validate(
            await self._api.json("GET", f"/executions/{segment(id)}"))

    async def list(self, *, prompt: str | None = None, provider: str | None = None,
                   model: str | None = None, status: str | None = None,
                   since: datetime | str | None = None,
                   limit: int | None = None) -> AsyncIterator[Execution]:
        """Executions, newest first, filtered; pages are fetched as you iterate."""
        async for execution in self._api.items(
                "/executions", Execution.model_validate,
                _filters(prompt, provider, model, status, since), limit=limit):
            yield execution

    async def to_dataframe(self, *, prompt: str | None = None, provider: str | None = None,
                           model: str | None = None, status: str | None = None,
                           since: datetime | str | None = None, limit: int | None = None,
                           show_progress: bool = True) -> pd.DataFrame:
        """Executions as a DataFrame, one row each (columns: see :mod:`scope_lab.frames`)."""
        from scope_lab.frames import executions_frame

        rows: list[dict[str, Any]] = []
        with progress(desc="executions", unit="row", disable=not show_progress) as bar:
            async for row in self._api.pages(
                    "/executions", _filters(prompt, provider, model, status, since),
                    limit=limit):
                rows.append(row)
                bar.update(1)
        return executions_frame(rows)


def _filters(prompt: str | None, provider: str | None, model: str | None, status: str | None,
             since: datetime | str | None) -> dict[str, Any]:
    return {"prompt": prompt, "provider": provider, "model": model, "status": status,
            "since": since.isoformat() if isinstance(since, datetime) else since}
