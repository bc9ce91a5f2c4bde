"""Versions, their life cycle, promotion history, and the production fetch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from scope_api.context import AppContext
from scope_api.deps import (
    ContextDep,
    ExistingPrompt,
    PageDep,
    PromptName,
    Reader,
    SessionDep,
    VersionNumber,
    Writer,
    get_context,
)
from scope_api.models import Promotion, PromptVersion
from scope_api.pagination import Page
from scope_api.production_cache import Entry
from scope_api.schemas.common import error_responses
from scope_api.schemas.prompts import (
    PromoteRequest,
    PromotionOut,
    VersionCreate,
    VersionOut,
    VersionStatus,
)
from scope_api.services import versions

router = APIRouter(prefix="/prompts/{name}", tags=["versions"],
                   responses=error_responses(400, 401, 403, 404, 422))


def version_out(name: str, v: PromptVersion) -> VersionOut:
    return VersionOut(prompt=name, number=v.number, status=VersionStatus(v.status),
                      content=v.content, variables=v.variables, metadata=v.metadata_,
                      message=v.message, created_by=v.created_by, created_at=v.created_at)


def _promotion_out(p: Promotion) -> PromotionOut:
    return PromotionOut(version=p.version, previous_version=p.previous_version,
                        promoted_by=p.promoted_by, promoted_at=p.created_at, reason=p.reason)


# The production fetch is the first route of this router on purpose: routes are
# matched in order, and this is the request apps make all day.
def _load_production(ctx: AppContext, tenant_id: str, name: str) -> bytes:
    with ctx.database.unit_of_work(write=False) as session:
        version = versions.production(session, tenant_id=tenant_id, name=name)
        return version_out(name, version).model_dump_json().encode()


@router.get("/production", response_model=VersionOut,
            responses={304: {"description": "not modified (If-None-Match matched the ETag)"}})
async def production_version(principal: Reader, name: PromptName,
                             request: Request) -> Response:
    """The published version, for apps. Answered from memory; supports ``If-None-Match``."""
    ctx = get_context(request)  # not ContextDep: one dependency level less on the hot path
    cache = ctx.production_cache
    key = (principal.tenant_id, name)
    entry: Entry | None = cache.get(key)
    if entry is None:
        generation = cache.generation(key)
        body = await run_in_threadpool(_load_production, ctx, principal.tenant_id, name)
        entry = cache.put(key, body, generation)
    headers = {"ETag": entry.etag, "Cache-Control": "private, no-cache"}
    if request.headers.get("if-none-match") == entry.etag:
        return Response(status_code=304, headers=headers)
    return Response(entry.body, media_type="application/json", headers=headers)


@router.get("/versions", response_model=Page[VersionOut])
def list_versions(principal: Reader, prompt: ExistingPrompt, session: SessionDep,
                  ctx: ContextDep, page: PageDep,
                  status: Annotated[VersionStatus | None, Query()] = None) -> Page[VersionOut]:
    """Versions, newest first, optionally only those with ``status``."""
    rows, cursor = versions.list_page(session, prompt=prompt,
                                      status=status.value if status else None,
                                      codec=ctx.cursors, page=page)
    return Page(data=[version_out(prompt.name, v) for v in rows], next_cursor=cursor)


@router.post("/versions", status_code=201, response_model=VersionOut,
             responses=error_responses(413))
def create_version(principal: Writer, prompt: ExistingPrompt, body: VersionCreate,
                   session: SessionDep) -> VersionOut:
    """Add an immutable draft version numbered after the last one."""
    content = body.content if isinstance(body.content, str) \
        else [m.model_dump() for m in body.content]
    version = versions.create(session, tenant_id=principal.tenant_id, name=prompt.name,
                              content=content, metadata=body.metadata, message=body.message,
                              created_by=principal.subject)
    return version_out(prompt.name, version)


@router.get("/versions/{number}", response_model=VersionOut)
def get_version(principal: Reader, prompt: ExistingPrompt, number: VersionNumber,
                session: SessionDep) -> VersionOut:
    return version_out(prompt.name, versions.get(session, prompt=prompt, number=number))


@router.post("/versions/{number}/promote", response_model=VersionOut,
             responses=error_responses(409, 413))
def promote_version(principal: Writer, prompt: ExistingPrompt, number: VersionNumber,
                    session: SessionDep, ctx: ContextDep,
                    body: PromoteRequest | None = None) -> VersionOut:
    """Publish this draft; the published version (if any) is archived; one history record."""
    version = versions.promote(session, tenant_id=principal.tenant_id, name=prompt.name,
                               number=number, reason=body.reason if body else None,
                               actor=principal.subject, cache=ctx.production_cache)
    return version_out(prompt.name, version)


@router.post("/versions/{number}/archive", response_model=VersionOut,
             responses=error_responses(409, 413))
def archive_version(principal: Writer, prompt: ExistingPrompt, number: VersionNumber,
                    session: SessionDep, ctx: ContextDep) -> VersionOut:
    """Archive a draft or the published version (the prompt then has no production version)."""
    version = versions.archive(session, tenant_id=principal.tenant_id, name=prompt.name,
                               number=number, cache=ctx.production_cache)
    return version_out(prompt.name, version)


@router.post("/versions/{number}/unarchive", response_model=VersionOut,
             responses=error_responses(409, 413))
def unarchive_version(principal: Writer, prompt: ExistingPrompt, number: VersionNumber,
                      session: SessionDep) -> VersionOut:
    """Return an archived version to draft, so it can be promoted again."""
    version = versions.unarchive(session, tenant_id=principal.tenant_id, name=prompt.name,
                                 number=number)
    return version_out(prompt.name, version)


@router.get("/promotions", response_model=Page[PromotionOut])
def list_promotions(principal: Reader, prompt: ExistingPrompt, session: SessionDep,
                    ctx: ContextDep, page: PageDep) -> Page[PromotionOut]:
    """Promotion history, newest first."""
    rows, cursor = versions.promotions_page(session, prompt=prompt, codec=ctx.cursors,
                                            page=page)
    return Page(data=[_promotion_out(p) for p in rows], next_cursor=cursor)
