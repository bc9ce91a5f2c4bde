"""Versions of a prompt and their life cycle.

Transitions (anything else is ``409 conflict``)::

    draft ──promote──▶ published ──archive / superseded──▶ archived
      │                                                       │
      └──────────────archive──────────────▶ archived ──unarchive──▶ draft

Promotion is one transaction: lock the prompt row, archive the published
version, publish the new one, record the history. The lock serialises
concurrent promoters of one prompt (``SELECT … FOR UPDATE`` on PostgreSQL; on
SQLite every write transaction is ``BEGIN IMMEDIATE``); the partial unique
index on published versions is the backstop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scope_api import templating
from scope_api.errors import Conflict, NotFound, ValidationFailed
from scope_api.models import Promotion, Prompt, PromptVersion
from scope_api.pagination import CursorCodec, PageRequest, paginate
from scope_api.production_cache import ProductionCache, invalidate_on_commit
from scope_api.services import prompts


def derive_variables(content: str | list[dict[str, str]]) -> list[str]:
    """The content's variables; ``422`` naming the offending construct if it is not allowed."""
    try:
        return templating.content_variables(content)
    except templating.TemplateSyntaxError as exc:
        raise ValidationFailed(f"invalid template: {exc.message}",
                               loc=["body", "content"]) from None


def create(session: Session, *, tenant_id: str, name: str, content: str | list[dict[str, str]],
           metadata: dict[str, Any], message: str, created_by: str | None) -> PromptVersion:
    variables = derive_variables(content)
    prompt = prompts.get(session, tenant_id=tenant_id, name=name, lock=True)
    last = session.scalar(select(func.max(PromptVersion.number))
                          .where(PromptVersion.prompt_id == prompt.id)) or 0
    version = PromptVersion(prompt_id=prompt.id, number=last + 1, status="draft",
                            content=content, variables=variables, metadata_=metadata,
                            message=message, created_by=created_by)
    session.add(version)
    session.flush()
    return version


def get(session: Session, *, prompt: Prompt, number: int) -> PromptVersion:
    version = session.scalar(select(PromptVersion).where(PromptVersion.prompt_id == prompt.id,
                                                         PromptVersion.number == number))
    if version is None:
        raise NotFound(f"version {number} of prompt '{prompt.name}' not found")
    return version


def list_page(session: Session, *, prompt: Prompt, status: str | None, codec: CursorCodec,
              page: PageRequest) -> tuple[Sequence[PromptVersion], str | None]:
    query = select(PromptVersion).where(PromptVersion.prompt_id == prompt.id)
    if status:
        query = query.where(PromptVersion.status == status)
    return paginate(session, query, codec=codec, scope=f"versions:{prompt.id}:{status or ''}",
                    request=page, created_at=PromptVersion.created_at, id_=PromptVersion.id)


def published(session: Session, *, prompt: Prompt) -> PromptVersion | None:
    return session.scalar(select(PromptVersion).where(PromptVersion.prompt_id == prompt.id,
                                                      PromptVersion.status == "published"))


def production(session: Session, *, tenant_id: str, name: str) -> PromptVersion:
    """The published version of ``name``; ``404`` if there is none."""
    prompt = prompts.get(session, tenant_id=tenant_id, name=name)
    version = published(session, prompt=prompt)
    if version is None:
        raise NotFound(f"prompt '{name}' has no published version")
    return version


def promote(session: Session, *, tenant_id: str, name: str, number: int, reason: str | None,
            actor: str, cache: ProductionCache) -> PromptVersion:
    prompt = prompts.get(session, tenant_id=tenant_id, name=name, lock=True)
    version = get(session, prompt=prompt, number=number)
    if version.status == "published":
        raise Conflict(f"version {number} of '{name}' is already published")
    if version.status == "archived":
        raise Conflict(f"version {number} of '{name}' is archived; unarchive it before promoting")
    previous = published(session, prompt=prompt)
    if previous is not None:
        previous.status = "archived"
        session.flush()  # before publishing, so the one-published index never sees two
    version.status = "published"
    session.add(Promotion(prompt_id=prompt.id, version=number,
                          previous_version=previous.number if previous else None,
                          promoted_by=actor, reason=reason))
    session.flush()
    invalidate_on_commit(session, cache, (tenant_id, name))
    return version


def archive(session: Session, *, tenant_id: str, name: str, number: int,
            cache: ProductionCache) -> PromptVersion:
    prompt = prompts.get(session, tenant_id=tenant_id, name=name, lock=True)
    version = get(session, prompt=prompt, number=number)
    if version.status == "archived":
        raise Conflict(f"version {number} of '{name}' is already archived")
    was_published = version.status == "published"
    version.status = "archived"
    session.flush()
    if was_published:
        invalidate_on_commit(session, cache, (tenant_id, name))
    return version


def unarchive(session: Session, *, tenant_id: str, name: str, number: int) -> PromptVersion:
    prompt = prompts.get(session, tenant_id=tenant_id, name=name, lock=True)
    version = get(session, prompt=prompt, number=number)
    if version.status != "archived":
        raise Conflict(f"version {number} of '{name}' is {version.status}; "
                       "only archived versions can be unarchived")
    version.status = "draft"
    session.flush()
    return version


def promotions_page(session: Session, *, prompt: Prompt, codec: CursorCodec,
                    page: PageRequest) -> tuple[Sequence[Promotion], str | None]:
    query = select(Promotion).where(Promotion.prompt_id == prompt.id)
    return paginate(session, query, codec=codec, scope=f"promotions:{prompt.id}", request=page,
                    created_at=Promotion.created_at, id_=Promotion.id)
