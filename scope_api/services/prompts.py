"""Prompts: create, read, list with tag and text search, update, delete."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from scope_api.db import add_unique
from scope_api.errors import Conflict, NotFound
from scope_api.models import Prompt, PromptTag, PromptVersion
from scope_api.models.base import utcnow
from scope_api.pagination import CursorCodec, PageRequest, paginate
from scope_api.production_cache import ProductionCache, invalidate_on_commit


@dataclass(frozen=True)
class PromptView:
    """A prompt with the version numbers clients ask about most."""

    prompt: Prompt
    production_version: int | None
    latest_version: int | None


def get(session: Session, *, tenant_id: str, name: str, lock: bool = False) -> Prompt:
    """The prompt ``name`` of this tenant; with ``lock``, its row is locked until commit."""
    query = select(Prompt).where(Prompt.tenant_id == tenant_id, Prompt.name == name)
    if lock:
        query = query.with_for_update()
    prompt = session.scalar(query.options(selectinload(Prompt.tags)))
    if prompt is None:
        raise NotFound(f"prompt '{name}' not found")
    return prompt


def views(session: Session, prompts: Sequence[Prompt]) -> list[PromptView]:
    """Attach production and latest version numbers, in two queries for the whole page."""
    ids = [prompt.id for prompt in prompts]
    latest: dict[str, int] = {
        row[0]: row[1] for row in session.execute(
            select(PromptVersion.prompt_id, func.max(PromptVersion.number))
            .where(PromptVersion.prompt_id.in_(ids)).group_by(PromptVersion.prompt_id))}
    published: dict[str, int] = {
        row[0]: row[1] for row in session.execute(
            select(PromptVersion.prompt_id, PromptVersion.number)
            .where(PromptVersion.prompt_id.in_(ids), PromptVersion.status == "published"))}
    return [PromptView(p, published.get(p.id), latest.get(p.id)) for p in prompts]


def view(session: Session, prompt: Prompt) -> PromptView:
    return views(session, [prompt])[0]


def create(session: Session, *, tenant_id: str, name: str, description: str,
           tags: list[str], created_by: str | None) -> Prompt:
    if session.scalar(select(Prompt.id).where(Prompt.tenant_id == tenant_id,
                                              Prompt.name == name)):
        raise Conflict(f"prompt '{name}' already exists")
    prompt = Prompt(tenant_id=tenant_id, name=name, description=description,
                    created_by=created_by, tags=[PromptTag(tag=t) for t in sorted(set(tags))])
    add_unique(session, prompt, conflict=f"prompt '{name}' already exists")
    return prompt


def list_page(session: Session, *, tenant_id: str, tag: str | None, q: str | None,
              codec: CursorCodec, page: PageRequest) -> tuple[list[PromptView], str | None]:
    query = select(Prompt).where(Prompt.tenant_id == tenant_id).options(
        selectinload(Prompt.tags))
    if tag:
        query = query.where(Prompt.id.in_(select(PromptTag.prompt_id)
                                          .where(PromptTag.tag == tag)))
    if q:
        query = query.where(or_(Prompt.name.icontains(q, autoescape=True),
                                Prompt.description.icontains(q, autoescape=True)))
    scope = "prompts:" + json.dumps([tenant_id, tag, q])  # JSON: no ambiguous separators
    rows, cursor = paginate(session, query, codec=codec, scope=scope, request=page,
                            created_at=Prompt.created_at, id_=Prompt.id)
    return views(session, rows), cursor


def update(session: Session, *, tenant_id: str, name: str, description: str | None,
           tags: list[str] | None) -> Prompt:
    prompt = get(session, tenant_id=tenant_id, name=name, lock=True)
    if description is not None:
        prompt.description = description
    if tags is not None:
        wanted = sorted(set(tags))
        current = {t.tag: t for t in prompt.tags}
        prompt.tags = [current.get(t) or PromptTag(tag=t) for t in wanted]
    prompt.updated_at = utcnow()  # tag changes alone would not touch the prompt row
    session.flush()
    return prompt


def delete(session: Session, *, tenant_id: str, name: str, cache: ProductionCache) -> None:
    """Delete a prompt with its versions and history."""
    prompt = get(session, tenant_id=tenant_id, name=name, lock=True)
    session.delete(prompt)
    session.flush()
    invalidate_on_commit(session, cache, (tenant_id, name))
