"""The baseline for the production-fetch benchmark: FastAPI + a JWT check, nothing else.

One ``async def`` GET route on the same path as Scope's production fetch. It
verifies an HS256 access token from the ``Authorization`` header the way a
careful hand-written service would (algorithm pinned, ``aud``/``iss``/``exp``
checked, same key length as Scope's) and returns a dict shaped and sized like a
Scope prompt version. No database, no cache, no middleware: the cost of
"FastAPI answering an authenticated GET" on this machine.

Served by the benchmark with::

    uvicorn --app-dir tests/benchmarks --factory bare_app:create_app \\
        --loop uvloop --http httptools --no-access-log --workers 1

Configuration (environment): ``BENCH_JWT_SECRET`` (the HS256 secret, required),
``BENCH_JWT_ISSUER`` (default ``scope``), ``BENCH_JWT_AUDIENCE`` (default
``scope-api``).

The sample prompt below is also what the benchmark seeds into Scope, so both
servers return bodies of about the same size.
"""

from __future__ import annotations

import os
from typing import Any

import jwt
from fastapi import FastAPI, HTTPException, Request

#: Content of every benchmark prompt version (Scope's seed and this app's reply).
PROMPT_CONTENT: list[dict[str, str]] = [
    {"role": "system",
     "content": "You are a support assistant for {{ product }}. Answer in {{ language }}, "
                "in at most three short paragraphs. Cite the relevant help-centre article "
                "when there is one, and never invent order numbers, prices or dates. If the "
                "question is about billing, ask for the account email before anything else."},
    {"role": "user",
     "content": "Customer tier: {{ tier }}\nPrevious messages:\n{{ history }}\n\n"
                "Question: {{ question }}"},
]
PROMPT_VARIABLES = ["history", "language", "product", "question", "tier"]
PROMPT_METADATA: dict[str, Any] = {"model": "gpt-4o-mini", "temperature": 0.2,
                                   "max_tokens": 512, "team": "support"}
PROMPT_MESSAGE = "Tighten the billing instructions"
PROMPT_CREATED_BY = "api_key:bench"


def create_app() -> FastAPI:
    """The app; reads its JWT settings from the environment."""
    secret = os.environ.get("BENCH_JWT_SECRET", "")
    if len(secret.encode()) < 32:
        raise RuntimeError("set BENCH_JWT_SECRET to an HS256 secret of at least 32 bytes")
    key = secret.encode()
    issuer = os.environ.get("BENCH_JWT_ISSUER", "scope")
    audience = os.environ.get("BENCH_JWT_AUDIENCE", "scope-api")
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/api/v1/prompts/{name}/production")
    async def production(name: str, request: Request) -> dict[str, Any]:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise HTTPException(401, "missing bearer token")
        try:
            claims = jwt.decode(token, key, algorithms=["HS256"], audience=audience,
                                issuer=issuer,
                                options={"require": ["exp", "iat", "aud", "iss", "sub"]})
        except jwt.PyJWTError:
            raise HTTPException(401, "invalid access token") from None
        if claims.get("typ") != "access" or not claims.get("tid"):
            raise HTTPException(401, "invalid access token")
        return {"prompt": name, "number": 1, "status": "published",
                "content": PROMPT_CONTENT, "variables": PROMPT_VARIABLES,
                "metadata": PROMPT_METADATA, "message": PROMPT_MESSAGE,
                "created_by": PROMPT_CREATED_BY, "created_at": "2025-01-01T00:00:00Z"}

    return app
