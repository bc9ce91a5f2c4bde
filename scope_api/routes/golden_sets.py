"""Golden sets: create, list, read, delete; upload items in bulk and page through them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response

from scope_api.deps import ContextDep, PageDep, PrincipalDep, SessionDep, require
from scope_api.models import GoldenItem, GoldenSet
from scope_api.pagination import Page
from scope_api.schemas.common import NAME_PATTERN, error_responses
from scope_api.schemas.golden_sets import (
    GoldenItemIn,
    GoldenItemOut,
    GoldenSetCreate,
    GoldenSetOut,
    ItemsAdded,
)
from scope_api.schemas.golden_uploads import CSV, JSON, JSON_LINES, UploadLimits, decode_items
from scope_api.security.principal import Principal
from scope_api.services import golden_sets

router = APIRouter(prefix="/golden-sets", tags=["golden sets"],
                   responses=error_responses(400, 401, 403, 422))

UPLOAD_PATH_PATTERN = r"/golden-sets/[^/]+/items"
"""The upload route, for its own body-size limit (``SCOPE_GOLDEN_SET_MAX_BODY_BYTES``)."""

SetReader = Annotated[Principal, Depends(require("golden_sets:read"))]
SetWriter = Annotated[Principal, Depends(require("golden_sets:write"))]
GoldenSetName = Annotated[str, Path(pattern=NAME_PATTERN, description="golden set name")]


def _lookup(request: Request, session: SessionDep, principal: PrincipalDep,
            name: GoldenSetName) -> GoldenSet:
    # A dependency, so a missing (or other tenant's) set is a 404 before the body is
    # looked at; a delete locks the row.
    return golden_sets.get(session, tenant_id=principal.tenant_id, name=name,
                           lock=request.method == "DELETE")


ExistingSet = Annotated[GoldenSet, Depends(_lookup)]


def _check_exists(ctx: ContextDep, principal: PrincipalDep, name: GoldenSetName) -> None:
    # Its own short read transaction, not the request's session: the upload is decoded
    # before the write transaction begins, so SQLite's write lock (taken by the
    # session's first statement) is not held while megabytes of items are parsed.
    with ctx.database.unit_of_work(write=False) as session:
        golden_sets.get(session, tenant_id=principal.tenant_id, name=name)


SetExists = Annotated[None, Depends(_check_exists)]
"""404 for a missing (or another tenant's) set, before the body is even read."""


@dataclass(frozen=True)
class Upload:
    body: bytes
    content_type: str | None


async def _upload(request: Request) -> Upload:
    # Read in the event loop; decoding and storing run in the route's worker thread.
    return Upload(await request.body(), request.headers.get("content-type"))


def set_out(s: GoldenSet) -> GoldenSetOut:
    return GoldenSetOut(name=s.name, description=s.description, item_count=s.item_count,
                        created_by=s.created_by, created_at=s.created_at,
                        updated_at=s.updated_at)


def item_out(i: GoldenItem) -> GoldenItemOut:
    return GoldenItemOut(id=i.id, position=i.position, variables=i.variables,
                         expected=i.expected, metadata=i.metadata_, created_at=i.created_at)


@router.get("", response_model=Page[GoldenSetOut])
def list_sets(principal: SetReader, session: SessionDep, ctx: ContextDep,
              page: PageDep) -> Page[GoldenSetOut]:
    """The tenant's golden sets, newest first."""
    rows, cursor = golden_sets.list_page(session, tenant_id=principal.tenant_id,
                                         codec=ctx.cursors, page=page)
    return Page(data=[set_out(s) for s in rows], next_cursor=cursor)


@router.post("", status_code=201, response_model=GoldenSetOut,
             responses=error_responses(409, 413))
def create_set(body: GoldenSetCreate, principal: SetWriter,
               session: SessionDep) -> GoldenSetOut:
    """Create an empty golden set; `409` if the name is taken. Add items with
    `POST /golden-sets/{name}/items`."""
    return set_out(golden_sets.create(session, tenant_id=principal.tenant_id, name=body.name,
                                      description=body.description,
                                      created_by=principal.subject))


@router.get("/{name}", response_model=GoldenSetOut, responses=error_responses(404))
def get_set(principal: SetReader, golden_set: ExistingSet) -> GoldenSetOut:
    return set_out(golden_set)


@router.delete("/{name}", status_code=204, responses=error_responses(404))
def delete_set(principal: SetWriter, golden_set: ExistingSet,
               session: SessionDep) -> Response:
    """Delete a set with its items. Runs of the set are kept: they still show its name
    and their results."""
    golden_sets.delete(session, golden_set=golden_set)
    return Response(status_code=204)


@router.get("/{name}/items", response_model=Page[GoldenItemOut], responses=error_responses(404))
def list_items(principal: SetReader, golden_set: ExistingSet, session: SessionDep,
               ctx: ContextDep, page: PageDep) -> Page[GoldenItemOut]:
    """The set's items in the order they were added (`position` 0, 1, …). Items added
    while you page appear at the end: none is skipped or served twice."""
    rows, cursor = golden_sets.items_page(session, golden_set=golden_set, codec=ctx.cursors,
                                          page=page)
    return Page(data=[item_out(i) for i in rows], next_cursor=cursor)


_TEXT = {"schema": {"type": "string"}}
_UPLOAD_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    JSON: {"schema": {"type": "array", "items": GoldenItemIn.model_json_schema()}},
    **dict.fromkeys(JSON_LINES, _TEXT),
    CSV: _TEXT,
}}}


@router.post("/{name}/items", status_code=201, response_model=ItemsAdded,
             responses=error_responses(404, 413, 415), openapi_extra=_UPLOAD_BODY)
def add_items(principal: SetWriter, _exists: SetExists,
              upload: Annotated[Upload, Depends(_upload)], session: SessionDep,
              ctx: ContextDep, name: GoldenSetName) -> ItemsAdded:
    """Append items to the set, all or nothing; `201` with how many were added and the
    set's new `item_count`.

    The body is one of (by `Content-Type`; UTF-8):

    - `application/json`: a list `[{"variables": {…}, "expected": "…" | null,
      "metadata": {…}}]`; `expected` defaults to null, `metadata` to `{}`.
    - `application/x-ndjson` or `application/jsonl`: one such object per line.
    - `text/csv`: a header row, then one item per row. Column `expected` (an empty cell
      is null), `metadata` (a JSON object; empty: `{}`), `variables` (a JSON object of
      variables), and every other column is a variable whose value is the cell's text.

    Variable names are `[A-Za-z_][A-Za-z0-9_]*`. A bad item is a `422` whose
    `details.errors` locate it: `["body", i, …]` (0-based index) for JSON,
    `["body", "line", n, …]` (1-based line; the CSV header is line 1) for JSON Lines and
    CSV; up to 100 errors are listed and nothing is added. Malformed JSON or CSV is `400`,
    another `Content-Type` `415`.

    Limits (defaults; the server's settings change them): the body, 64 MiB
    (`SCOPE_GOLDEN_SET_MAX_BODY_BYTES`; over it, `413`); 100,000 items per request
    (`SCOPE_GOLDEN_SET_MAX_ITEMS_PER_REQUEST`); 1,000,000 items per set
    (`SCOPE_GOLDEN_SET_MAX_ITEMS`); 64 KiB per item as JSON
    (`SCOPE_GOLDEN_SET_MAX_ITEM_BYTES`). Over a count or item limit: `422` naming it.
    """
    items = decode_items(upload.body, upload.content_type,
                         UploadLimits.from_settings(ctx.settings))
    golden_set = golden_sets.add_items(session, tenant_id=principal.tenant_id, name=name,
                                       items=items,
                                       max_items=ctx.settings.golden_set_max_items)
    return ItemsAdded(added=len(items), item_count=golden_set.item_count)
