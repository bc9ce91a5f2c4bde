"""Test runs: create (validated up front), read, list, results, cancel.

Creating a run checks everything that can be checked before money is spent: the
golden set, the prompt and each version, each target (provider, model allowed,
JSON mode), the scorers, and that every item renders with every version (a missing
variable is a ``422`` listing the items and names, and nothing is executed). Then
one transaction inserts the run and one cell per (item, version, target); the run
worker (``engine.runs``) takes it from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, and_, insert, or_, select
from sqlalchemy.orm import Session

from scope_api import templating
from scope_api.engine import requests
from scope_api.errors import Conflict, NotFound, ValidationFailed
from scope_api.models import GoldenItem, GoldenSet, Prompt, PromptVersion, Run, RunCell
from scope_api.models.base import new_id, utcnow
from scope_api.models.runs import CELL_DONE, RUN_ACTIVE
from scope_api.pagination import CursorCodec, PageRequest, paginate
from scope_api.schemas.runs import RunCreate
from scope_api.scorers import scorer_name
from scope_api.services import golden_sets, prompts, providers, versions

MAX_PROBLEMS = 20  # render problems listed in one 422; the message gives the total


class Item(NamedTuple):
    """What a run needs of a golden item (columns, not ORM objects: sets are large)."""

    id: str
    position: int
    variables: dict[str, Any]


class Checked(NamedTuple):
    """A run's golden set, prompt, versions and items, all found and renderable."""

    dataset: GoldenSet
    prompt: Prompt
    versions: list[PromptVersion]
    items: list[Item]


def check(session: Session, *, tenant_id: str, set_name: str, body: RunCreate,
          max_cells: int) -> Checked:
    """Everything :func:`create` and the estimate need, validated; ``404``/``422`` if not.
    A run of more than ``max_cells`` cells is refused before its items are read."""
    dataset = golden_sets.get(session, tenant_id=tenant_id, name=set_name)
    cells = dataset.item_count * len(body.versions) * len(body.targets)
    if cells > max_cells:
        raise ValidationFailed(
            f"the run would have {cells:,} cells ({dataset.item_count:,} items × "
            f"{len(body.versions)} versions × {len(body.targets)} targets); a run may have "
            f"at most {max_cells:,} (SCOPE_RUN_MAX_CELLS): split the golden set or run "
            "fewer versions or targets at a time", loc=["body"])
    prompt = prompts.get(session, tenant_id=tenant_id, name=body.prompt)
    chosen = [versions.get(session, prompt=prompt, number=n) for n in body.versions]
    parameters = requests.parameters_of(body.parameters)
    for index, target in enumerate(body.targets):
        provider = providers.get(session, tenant_id=tenant_id, name=target.provider)
        try:
            adapter = requests.choose_adapter(kind=provider.kind, provider=provider.name,
                                              model=target.model,
                                              enabled_models=list(provider.enabled_models))
            requests.completion_request(target.model, "", parameters, adapter,
                                        provider=provider.name)
        except ValidationFailed as exc:
            raise ValidationFailed(exc.message, loc=["body", "targets", index]) from None
    for spec in body.scorers:
        judge_provider = getattr(spec, "provider", None)
        if judge_provider is not None:
            providers.get(session, tenant_id=tenant_id, name=judge_provider)
    items = [Item(*row) for row in session.execute(
        select(GoldenItem.id, GoldenItem.position, GoldenItem.variables)
        .where(GoldenItem.golden_set_id == dataset.id).order_by(GoldenItem.position))]
    if not items:
        raise ValidationFailed(f"golden set '{set_name}' has no items",
                               loc=["path", "name"])
    _check_renders(chosen, items)
    return Checked(dataset, prompt, chosen, items)


def _check_renders(chosen: Sequence[PromptVersion], items: Sequence[Item]) -> None:
    problems: list[dict[str, Any]] = []
    count = 0
    for version in chosen:
        for item in items:
            try:
                templating.render_content(version.content, item.variables)
            except templating.MissingVariablesError as exc:
                message = f"version {version.number}: missing variables: {', '.join(exc.names)}"
            except templating.TemplateError as exc:
                message = f"version {version.number}: {exc.message}"
            else:
                continue
            count += 1
            if len(problems) < MAX_PROBLEMS:
                problems.append({"loc": ["items", item.position, item.id], "msg": message})
    if problems:
        first = problems[0]["msg"]
        raise ValidationFailed(
            f"{count} item/version pairs cannot be rendered (first: item "
            f"{problems[0]['loc'][1]}, {first}); nothing was executed", errors=problems)


def create(session: Session, *, tenant_id: str, set_name: str, body: RunCreate,
           created_by: str | None, max_cells: int) -> Run:
    """Insert the run and its cells (after :func:`check`), status ``queued``."""
    dataset, prompt, chosen, items = check(session, tenant_id=tenant_id, set_name=set_name,
                                           body=body, max_cells=max_cells)
    run = Run(id=new_id(), tenant_id=tenant_id, golden_set=dataset.name,
              golden_set_id=dataset.id, prompt=prompt.name, prompt_id=prompt.id,
              versions=[v.number for v in chosen],
              targets=[{"provider": t.provider, "model": t.model} for t in body.targets],
              scorers=[{**s.model_dump(mode="json", exclude_none=True),
                        "name": scorer_name(s)} for s in body.scorers],
              parameters=body.parameters.model_dump(exclude_none=True),
              concurrency=body.concurrency, use_cache=body.cache,
              budget_usd=None if body.budget_usd is None else repr(body.budget_usd),
              status="queued", total=len(items) * len(chosen) * len(body.targets),
              created_by=created_by, created_at=utcnow())
    session.add(run)
    session.flush()
    rows = [{"id": new_id(), "run_id": run.id, "item_id": item.id,
             "item_position": item.position, "version": version.number,
             "provider": target.provider, "model": target.model, "status": "pending",
             "attempts": 0, "scores": {}, "score_details": {}, "cached": False}
            for item in items for version in chosen for target in body.targets]
    cells = cast(Table, RunCell.__table__)  # Core: the ORM's bulk path costs more
    for start in range(0, len(rows), 5_000):
        session.execute(insert(cells), rows[start:start + 5_000])
    return run


def get(session: Session, *, tenant_id: str, run_id: str, lock: bool = False) -> Run:
    query = select(Run).where(Run.tenant_id == tenant_id, Run.id == run_id)
    if lock:
        query = query.with_for_update()
    run = session.scalar(query)
    if run is None:
        raise NotFound(f"run '{run_id}' not found")
    return run


def list_page(session: Session, *, tenant_id: str, golden_set: str | None,
              codec: CursorCodec, page: PageRequest) -> tuple[Sequence[Run], str | None]:
    """The tenant's runs, newest first, optionally of one golden set (by name)."""
    query = select(Run).where(Run.tenant_id == tenant_id)
    if golden_set is not None:
        query = query.where(Run.golden_set == golden_set)
    return paginate(session, query, codec=codec, scope=f"runs:{tenant_id}:{golden_set}",
                    request=page, created_at=Run.created_at, id_=Run.id)


def results_page(session: Session, *, run: Run, codec: CursorCodec, page: PageRequest,
                 since: datetime | None = None) -> tuple[Sequence[RunCell], str | None]:
    """Completed cells in item order (then id), so pages stay stable while the run goes on;
    with ``since``, only those completed at or after it."""
    # The cursor is bound to ``since`` too: a page boundary means nothing under another.
    scope = f"results:{run.id}:{'' if since is None else since.astimezone(UTC).isoformat()}"
    query = select(RunCell).where(RunCell.run_id == run.id, RunCell.status.in_(CELL_DONE))
    if since is not None:
        query = query.where(RunCell.completed_at >= since)
    if page.cursor:
        position, cell_id = codec.decode_key(scope, page.cursor)
        query = query.where(or_(RunCell.item_position > position,
                                and_(RunCell.item_position == position,
                                     RunCell.id > cell_id)))
    rows = session.scalars(query.order_by(RunCell.item_position, RunCell.id)
                           .limit(page.limit + 1)).all()
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    return rows, codec.encode_key(scope, [rows[-1].item_position, rows[-1].id])


def cancel(session: Session, *, tenant_id: str, run_id: str) -> Run:
    """Stop a queued or running run; finished cells are kept. ``409`` if it already ended."""
    run = get(session, tenant_id=tenant_id, run_id=run_id, lock=True)
    if run.status not in RUN_ACTIVE:
        raise Conflict(f"run '{run_id}' already ended ({run.status})")
    # Cells not done stay pending: workers claim cells of active runs only, and cancel
    # their in-flight calls for this run when they next look (within a second).
    run.status = "cancelled"
    run.finished_at = utcnow()
    return run
