"""The baseline for the engine-overhead benchmark: the least a Python LLM gateway does.

One FastAPI ``async def`` route on Scope's path, ``POST /api/v1/executions``, taking
the benchmark's request body. It checks an HS256 access token (algorithm pinned,
``aud``/``iss``/``exp`` checked), validates the body with a pydantic model, fills the
benchmark's two-message template by string replacement, calls the provider through
one shared ``httpx.AsyncClient`` (OpenAI Chat Completions), reads the answer and its
usage, and returns them with the call's latency. No database, no registry, no span,
no retries, no cost: what any FastAPI + httpx gateway pays on this machine before it
does anything of its own. With ``BENCH_HTTP_CLIENT=aiohttp`` it calls the provider
through one ``aiohttp.ClientSession`` instead (no httpx at all): the leanest client
there is in Python, so the floor for a FastAPI gateway.

Served by the benchmark (``bench_engine_overhead.py --serve bare``), in the same timing
middleware and with the same uvicorn settings as Scope. Configuration (environment):
``BENCH_JWT_SECRET`` (required, at least 32 bytes), ``BENCH_PROVIDER_URL`` (the
provider's OpenAI-compatible base URL, ``.../v1``) and ``BENCH_PROVIDER_KEY`` (its API
key; the simulator takes any).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import httpx
import jwt
from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

ISSUER, AUDIENCE = "scope", "scope-api"
VARIABLE = re.compile(r"\{\{\s*(\w+)\s*\}\}")


class ExecutionIn(BaseModel):
    prompt: str = Field(min_length=1, max_length=128)
    label: str | None = None
    provider: str = Field(min_length=1, max_length=128)
    model: str = Field(min_length=1, max_length=200)
    variables: dict[str, str | int | float] = {}
    parameters: dict[str, Any] = {}


def create_app(template: list[dict[str, str]]) -> FastAPI:
    """The app, answering every execution with ``template`` filled from its variables."""
    secret = os.environ.get("BENCH_JWT_SECRET", "")
    if len(secret.encode()) < 32:
        raise RuntimeError("set BENCH_JWT_SECRET to an HS256 secret of at least 32 bytes")
    key = secret.encode()
    provider_url = os.environ["BENCH_PROVIDER_URL"].rstrip("/")
    provider_key = os.environ.get("BENCH_PROVIDER_KEY", "sk-bench")
    headers = {"authorization": f"Bearer {provider_key}"}
    post: dict[str, Callable[[dict[str, Any]], Awaitable[tuple[int, Any]]]] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if os.environ.get("BENCH_HTTP_CLIENT", "httpx") == "aiohttp":
            async with aiohttp.ClientSession(
                    headers=headers, timeout=aiohttp.ClientTimeout(total=30)) as session:
                async def post_aiohttp(payload: dict[str, Any]) -> tuple[int, Any]:
                    async with session.post(f"{provider_url}/chat/completions",
                                            json=payload) as response:
                        return response.status, await response.json()
                post["call"] = post_aiohttp
                yield
        else:
            async with httpx.AsyncClient(timeout=30, headers=headers) as client:
                async def post_httpx(payload: dict[str, Any]) -> tuple[int, Any]:
                    response = await client.post(f"{provider_url}/chat/completions",
                                                 json=payload)
                    return response.status_code, response.json()
                post["call"] = post_httpx
                yield

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)

    @app.post("/api/v1/executions", status_code=201)
    async def execute(body: ExecutionIn, request: Request) -> dict[str, Any]:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise HTTPException(401, "missing bearer token")
        try:
            jwt.decode(token, key, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
                       options={"require": ["exp", "iat", "aud", "iss", "sub"]})
        except jwt.PyJWTError:
            raise HTTPException(401, "invalid access token") from None
        missing = {name for message in template
                   for name in VARIABLE.findall(message["content"])} - body.variables.keys()
        if missing:
            raise HTTPException(422, f"missing variables: {sorted(missing)}")
        messages = [{"role": message["role"],
                     "content": VARIABLE.sub(lambda m: str(body.variables[m.group(1)]),
                                             message["content"])}
                    for message in template]
        started = time.perf_counter()
        status, answer = await post["call"](
            {"model": body.model, "messages": messages, **body.parameters})
        latency_ms = (time.perf_counter() - started) * 1000
        if status != 200:
            raise HTTPException(502, f"provider answered {status}")
        return {"status": "succeeded", "output": answer["choices"][0]["message"]["content"],
                "input_tokens": answer["usage"]["prompt_tokens"],
                "output_tokens": answer["usage"]["completion_tokens"],
                "latency_ms": latency_ms}

    return app


def access_token(secret: str, lifetime_s: int = 3600) -> str:
    """An access token this app accepts."""
    now = int(time.time())
    return jwt.encode({"sub": "bench", "tid": "bench", "typ": "access", "iss": ISSUER,
                       "aud": AUDIENCE, "iat": now, "exp": now + lifetime_s},
                      secret, algorithm="HS256")
