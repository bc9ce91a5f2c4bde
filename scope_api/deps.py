"""Dependency aliases used by the routes: context, session, principal, permissions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.orm import Session

from scope_api.context import AppContext
from scope_api.errors import Forbidden, Unauthenticated
from scope_api.models import Prompt
from scope_api.pagination import DEFAULT_LIMIT, MAX_LIMIT, PageRequest
from scope_api.schemas.common import NAME_PATTERN
from scope_api.security.principal import Principal
from scope_api.services import prompts

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


async def _context(request: Request) -> AppContext:
    # ``async``: FastAPI runs a plain ``def`` dependency in the thread pool, a
    # thread hop per request for what is an attribute read.
    return get_context(request)


ContextDep = Annotated[AppContext, Depends(_context)]


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: commit if the route returns, roll back if it raises."""
    database = get_context(request).database
    with database.unit_of_work(write=request.method not in _READ_METHODS) as session:
        yield session


# scope="function": commit before the response is sent, so a client never sees
# a success whose transaction then fails to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_principal(request: Request) -> Principal:
    return _principal(request)


def _principal(request: Request) -> Principal:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthenticated("missing Authorization: Bearer <token> header")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("Authorization header must be 'Bearer <token>'")
    claims = get_context(request).tokens.verify(token)
    return Principal(subject=claims.subject, tenant_id=claims.tenant_id,
                     tenant_name=claims.tenant_name, role=claims.role)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(permission: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that returns the principal if its role grants ``permission``.

    It reads the token itself rather than depending on :func:`get_principal`: each
    dependency costs FastAPI's resolver more than the (cached) token check does."""

    async def check(request: Request) -> Principal:
        principal = _principal(request)
        if not principal.can(permission):
            raise Forbidden(f"role '{principal.role}' lacks permission '{permission}'",
                            details={"permission": permission})
        return principal

    return check


def page_request(limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
                 cursor: Annotated[str | None, Query(max_length=2048)] = None) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor)


PageDep = Annotated[PageRequest, Depends(page_request)]

PromptName = Annotated[str, Path(pattern=NAME_PATTERN, description="prompt name")]
VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1, description="version number")]
ResourceId = Annotated[str, Path(min_length=1, max_length=64)]

Reader = Annotated[Principal, Depends(require("prompts:read"))]
Writer = Annotated[Principal, Depends(require("prompts:write"))]
KeyAdmin = Annotated[Principal, Depends(require("api_keys:manage"))]
UserAdmin = Annotated[Principal, Depends(require("users:manage"))]


def _lookup_prompt(request: Request, session: SessionDep, principal: PrincipalDep,
                   name: PromptName) -> Prompt:
    # Resolved as a dependency so a missing (or other tenant's) prompt is a 404
    # before the request body is even validated; writes lock its row.
    return prompts.get(session, tenant_id=principal.tenant_id, name=name,
                       lock=request.method not in _READ_METHODS)


ExistingPrompt = Annotated[Prompt, Depends(_lookup_prompt)]
