"""Prompts: create, list (tag, text search), read, update, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from scope_api.deps import ContextDep, ExistingPrompt, PageDep, Reader, SessionDep, Writer
from scope_api.pagination import Page
from scope_api.schemas.common import error_responses
from scope_api.schemas.prompts import PromptCreate, PromptOut, PromptUpdate
from scope_api.services import prompts
from scope_api.services.prompts import PromptView

router = APIRouter(prefix="/prompts", tags=["prompts"],
                   responses=error_responses(400, 401, 403, 422))


def prompt_out(view: PromptView) -> PromptOut:
    p = view.prompt
    return PromptOut(name=p.name, description=p.description, tags=[t.tag for t in p.tags],
                     production_version=view.production_version,
                     latest_version=view.latest_version, created_by=p.created_by,
                     created_at=p.created_at, updated_at=p.updated_at)


@router.get("", response_model=Page[PromptOut])
def list_prompts(principal: Reader, session: SessionDep, ctx: ContextDep, page: PageDep,
                 tag: Annotated[str | None, Query(max_length=64)] = None,
                 q: Annotated[str | None, Query(max_length=200)] = None) -> Page[PromptOut]:
    """Prompts of the tenant, newest first; ``tag`` filters exactly, ``q`` searches
    name and description (case-insensitive)."""
    views, cursor = prompts.list_page(session, tenant_id=principal.tenant_id, tag=tag, q=q,
                                      codec=ctx.cursors, page=page)
    return Page(data=[prompt_out(v) for v in views], next_cursor=cursor)


@router.post("", status_code=201, response_model=PromptOut,
             responses=error_responses(409, 413))
def create_prompt(body: PromptCreate, principal: Writer, session: SessionDep) -> PromptOut:
    prompt = prompts.create(session, tenant_id=principal.tenant_id, name=body.name,
                            description=body.description, tags=body.tags,
                            created_by=principal.subject)
    return prompt_out(PromptView(prompt, None, None))


@router.get("/{name}", response_model=PromptOut, responses=error_responses(404))
def get_prompt(principal: Reader, prompt: ExistingPrompt, session: SessionDep) -> PromptOut:
    return prompt_out(prompts.view(session, prompt))


@router.patch("/{name}", response_model=PromptOut, responses=error_responses(404, 413))
def update_prompt(principal: Writer, prompt: ExistingPrompt, body: PromptUpdate,
                  session: SessionDep) -> PromptOut:
    prompt = prompts.update(session, tenant_id=principal.tenant_id, name=prompt.name,
                            description=body.description, tags=body.tags)
    return prompt_out(prompts.view(session, prompt))


@router.delete("/{name}", status_code=204, responses=error_responses(404))
def delete_prompt(principal: Writer, prompt: ExistingPrompt, session: SessionDep,
                  ctx: ContextDep) -> Response:
    """Delete a prompt with all its versions and promotion history."""
    prompts.delete(session, tenant_id=principal.tenant_id, name=prompt.name,
                   cache=ctx.production_cache)
    return Response(status_code=204)
