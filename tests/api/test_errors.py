"""Bad input and failures: every error has the one error body, and nothing leaks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from scope_api.app import create_app
from scope_api.config import Settings
from tests.conftest import JWT_KEY
from tests.factories import V1, Api

UNREACHABLE_DB = "postgresql+psycopg://postgres@127.0.0.1:1/none"


def _assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The error body of API.md, with the request id also in ``X-Request-ID``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details", "request_id"}, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], dict)
    assert error["request_id"]
    assert response.headers["x-request-id"] == error["request_id"]
    return error


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://scope.test")


async def test_malformed_json_is_a_bad_request(api: Api) -> None:
    headers = {**await api.headers(), "Content-Type": "application/json"}
    for raw in (b'{"name": "x"', b"{'name': 'x'}", b"not json", b'{"name": "x"}}'):
        response = await api.client.post(f"{V1}/prompts", headers=headers, content=raw)
        _assert_error(response, 400, "bad_request")


async def test_wrong_types_are_validation_errors(api: Api) -> None:
    headers = await api.headers()
    for body in ({"name": 5}, {"name": None}, {"name": "ok", "tags": "a,b"},
                 {"name": "ok", "tags": [1]}, {"name": "ok", "description": ["x"]}, [], "x"):
        response = await api.client.post(f"{V1}/prompts", headers=headers, json=body)
        error = _assert_error(response, 422, "validation_error")
        assert error["details"]["errors"], body
        for item in error["details"]["errors"]:
            assert set(item) == {"loc", "msg"}
    assert (await api.client.get(f"{V1}/prompts", headers=headers)).json()["data"] == []


async def test_missing_body_is_a_validation_error(api: Api) -> None:
    response = await api.client.post(f"{V1}/prompts", headers=await api.headers())
    _assert_error(response, 422, "validation_error")


async def test_unknown_routes_are_404_with_error_body(api: Api) -> None:
    headers = await api.headers()
    for path in (f"{V1}/nope", "/nope", f"{V1}/prompts/x/nope", "/"):
        error = _assert_error(await api.client.get(path, headers=headers), 404, "not_found")
        assert path in error["message"]
    # Without a token too: an unknown route does not need authentication to be unknown.
    _assert_error(await api.client.get(f"{V1}/nope"), 404, "not_found")


async def test_wrong_method_is_405_with_error_body(api: Api) -> None:
    headers = await api.headers()
    for method, path in (("PUT", f"{V1}/prompts"), ("DELETE", f"{V1}/prompts"),
                         ("POST", f"{V1}/health"), ("PUT", f"{V1}/prompts/x/versions/1")):
        response = await api.client.request(method, path, headers=headers, json={})
        error = _assert_error(response, 405, "method_not_allowed")
        assert method in error["message"]
        assert response.headers["allow"]


async def test_oversized_body_with_content_length(api: Api) -> None:
    headers = {**await api.headers(), "Content-Type": "application/json"}
    limit = api.context.settings.max_body_bytes
    assert limit == 1024 * 1024
    body = b'{"name": "big", "description": "' + b"x" * limit + b'"}'
    response = await api.client.post(f"{V1}/prompts", headers=headers, content=body)
    assert "content-length" in {k.lower() for k in response.request.headers}
    error = _assert_error(response, 413, "payload_too_large")
    assert error["details"]["max_bytes"] == limit
    assert (await api.client.get(f"{V1}/prompts/big", headers=headers)).status_code == 404


async def test_oversized_chunked_body(api: Api) -> None:
    headers = {**await api.headers(), "Content-Type": "application/json"}
    limit = api.context.settings.max_body_bytes
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"name": "big", "description": "'
        for _ in range(limit // 65536 + 2):
            sent += 65536
            yield b"x" * 65536
        yield b'"}'

    response = await api.client.post(f"{V1}/prompts", headers=headers, content=chunks())
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    _assert_error(response, 413, "payload_too_large")
    assert (await api.client.get(f"{V1}/prompts/big", headers=headers)).status_code == 404


async def test_chunked_body_under_the_limit_is_accepted(api: Api) -> None:
    headers = {**await api.headers(), "Content-Type": "application/json"}

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "chunked", '
        yield b'"description": "' + b"y" * 9_000 + b'"}'

    response = await api.client.post(f"{V1}/prompts", headers=headers, content=chunks())
    assert response.status_code == 201, response.text
    assert len(response.json()["description"]) == 9_000


async def test_out_of_range_numbers_are_validation_errors(api: Api) -> None:
    headers = await api.headers()
    name = (await api.create_prompt(headers))["name"]
    _assert_error(await api.client.get(f"{V1}/prompts", headers=headers,
                                       params={"limit": 1000}), 422, "validation_error")
    for path in (f"/versions/{99999999999}", f"/versions/{2**63}", "/versions/-1",
                 f"/versions/{99999999999}/promote"):
        method = "POST" if path.endswith("promote") else "GET"
        response = await api.client.request(method, f"{V1}/prompts/{name}{path}",
                                            headers=headers)
        _assert_error(response, 422, "validation_error")


async def test_request_id_is_echoed_when_sane_and_replaced_otherwise(api: Api) -> None:
    headers = await api.headers()
    sane = await api.client.get(f"{V1}/prompts/missing", headers={**headers,
                                                                  "X-Request-ID": "req-42.a_b"})
    assert _assert_error(sane, 404, "not_found")["request_id"] == "req-42.a_b"

    for insane in ("has spaces", "x" * 65, "semi;colon", "<script>"):
        response = await api.client.get(f"{V1}/prompts/missing",
                                        headers={**headers, "X-Request-ID": insane})
        request_id = _assert_error(response, 404, "not_found")["request_id"]
        assert request_id != insane
        assert insane not in response.text

    # Successful responses carry an id too, and every request gets a new one.
    first = await api.client.get(f"{V1}/prompts", headers=headers)
    second = await api.client.get(f"{V1}/prompts", headers=headers)
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_413_and_400_carry_the_request_id(api: Api) -> None:
    headers = {**await api.headers(), "Content-Type": "application/json",
               "X-Request-ID": "trace-me"}
    big = await api.client.post(f"{V1}/prompts", headers=headers,
                                content=b"x" * (api.context.settings.max_body_bytes + 1))
    assert _assert_error(big, 413, "payload_too_large")["request_id"] == "trace-me"
    bad = await api.client.post(f"{V1}/prompts", headers=headers, content=b"{")
    assert _assert_error(bad, 400, "bad_request")["request_id"] == "trace-me"


async def test_unexpected_exception_is_500_without_details(settings: Settings) -> None:
    app = create_app(settings)

    @app.get(f"{V1}/explode")
    def explode() -> None:
        raise RuntimeError("secret-db-password")

    async with app.router.lifespan_context(app), _client(app) as client:
        response = await client.get(f"{V1}/explode", headers={"X-Request-ID": "boom-1"})
        error = _assert_error(response, 500, "internal")
        assert error["request_id"] == "boom-1"
        assert error["details"] == {}
        assert "secret-db-password" not in response.text
        assert "Traceback" not in response.text
        assert "RuntimeError" not in response.text
        # The app keeps serving afterwards.
        assert (await client.get(f"{V1}/health")).status_code == 200


async def test_health_ok(api: Api) -> None:
    response = await api.client.get(f"{V1}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "spans": {
        "exporting": False, "exported": 0, "failed": 0, "dropped": 0}}


async def test_health_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    settings = Settings(database_url=UNREACHABLE_DB, data_dir=tmp_path / "data",
                        jwt_keys=[JWT_KEY])
    app = create_app(settings)
    async with app.router.lifespan_context(app), _client(app) as client:
        response = await client.get(f"{V1}/health")
        assert response.status_code == 503, response.text
        body = response.json()
        assert body["database"] != "ok"
        assert body["status"] != "ok"
        assert "password" not in response.text
