"""Pagination: limits, complete and stable paging, and tamper-proof cursors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from scope_api.errors import BadRequest
from scope_api.services import prompts, tenants
from tests.factories import V1, Api


def _assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    return error


def _seed_prompts(api: Api, count: int, *, tenant: str = "acme", prefix: str = "p") -> list[str]:
    """``count`` prompts made in one transaction (fast), oldest first."""
    names = [f"{prefix}-{i:03d}" for i in range(count)]
    with api.context.database.unit_of_work() as session:
        tenant_id = tenants.get_or_create(session, tenant).id
        for name in names:
            prompts.create(session, tenant_id=tenant_id, name=name, description="",
                           tags=[], created_by="tests")
    return names


async def _page(api: Api, headers: dict[str, str], path: str = "/prompts",
                **params: Any) -> dict[str, Any]:
    response = await api.client.get(f"{V1}{path}", headers=headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"data", "next_cursor"}
    return body


async def test_default_limit_is_50(api: Api) -> None:
    headers = await api.headers()
    _seed_prompts(api, 51)
    first = await _page(api, headers)
    assert len(first["data"]) == 50
    assert isinstance(first["next_cursor"], str)
    rest = await _page(api, headers, cursor=first["next_cursor"])
    assert len(rest["data"]) == 1
    assert rest["next_cursor"] is None


async def test_limit_bounds(api: Api) -> None:
    headers = await api.headers()
    _seed_prompts(api, 3)
    assert len((await _page(api, headers, limit=1))["data"]) == 1
    assert len((await _page(api, headers, limit=200))["data"]) == 3
    for bad in ("0", "201", "-1", "abc", "1.5", ""):
        response = await api.client.get(f"{V1}/prompts", headers=headers,
                                        params={"limit": bad})
        error = _assert_error(response, 422, "validation_error")
        assert ["query", "limit"] in [e["loc"] for e in error["details"]["errors"]], bad


async def test_pages_cover_every_row_once_in_order(api: Api) -> None:
    headers = await api.headers()
    names = _seed_prompts(api, 23)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 5}
        if cursor:
            params["cursor"] = cursor
        body = await _page(api, headers, **params)
        pages += 1
        seen += [p["name"] for p in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert len(body["data"]) == 5
    assert pages == 5
    assert seen == list(reversed(names))  # newest first, each exactly once


async def test_exact_multiple_of_limit_ends_with_null_cursor(api: Api) -> None:
    headers = await api.headers()
    _seed_prompts(api, 10)
    first = await _page(api, headers, limit=5)
    second = await _page(api, headers, limit=5, cursor=first["next_cursor"])
    assert len(second["data"]) == 5
    assert second["next_cursor"] is None


async def test_filters_are_kept_while_paging(api: Api) -> None:
    headers = await api.headers()
    _seed_prompts(api, 6, prefix="alpha")
    _seed_prompts(api, 6, prefix="beta")
    first = await _page(api, headers, q="alpha", limit=4)
    second = await _page(api, headers, q="alpha", limit=4, cursor=first["next_cursor"])
    names = [p["name"] for p in first["data"] + second["data"]]
    assert sorted(names) == [f"alpha-{i:03d}" for i in range(6)]
    assert second["next_cursor"] is None


def _flip(text: str, index: int) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1:]


async def test_tampered_cursors_are_bad_requests(api: Api) -> None:
    headers = await api.headers()
    _seed_prompts(api, 3)
    name = (await api.create_prompt(headers))["name"]
    for _ in range(3):
        await api.create_version(headers, name)
    cursor = (await _page(api, headers, limit=1))["next_cursor"]
    versions_cursor = (await _page(api, headers, f"/prompts/{name}/versions",
                                   limit=1))["next_cursor"]
    filtered_cursor = (await _page(api, headers, q="p-", limit=1))["next_cursor"]
    assert cursor
    assert versions_cursor
    assert filtered_cursor
    payload, signature = cursor.split(".")
    # Sanity: the untouched cursor works.
    assert (await _page(api, headers, limit=1, cursor=cursor))["data"]

    tampered = {
        "payload char flipped": _flip(cursor, 0),
        "payload char flipped (middle)": _flip(cursor, len(payload) // 2),
        "signature char flipped": _flip(cursor, len(payload) + 1),
        "signature dropped": payload,
        "signature of nothing": f"{payload}.",
        "extra part": f"{cursor}.x",
        "garbage": "not-a-cursor",
        "garbage with dot": "%%%.$$$",
        "json payload": '{"s":"prompts","t":"2020-01-01T00:00:00+00:00","i":"x"}',
        "versions cursor on prompts": versions_cursor,
        "cursor of another filter": filtered_cursor,
        "swapped parts": f"{signature}.{payload}",
    }
    for label, bad in tampered.items():
        response = await api.client.get(f"{V1}/prompts", headers=headers,
                                        params={"limit": 1, "cursor": bad})
        error = _assert_error(response, 400, "bad_request")
        assert "cursor" in error["message"], label
    # And the other way round: a prompts cursor on the versions list.
    response = await api.client.get(f"{V1}/prompts/{name}/versions", headers=headers,
                                    params={"cursor": cursor})
    _assert_error(response, 400, "bad_request")


async def test_cursor_of_another_tenant_is_refused(api: Api) -> None:
    _seed_prompts(api, 3, tenant="globex")
    _seed_prompts(api, 3, tenant="acme")
    theirs = (await _page(api, await api.headers(tenant="globex"), limit=1))["next_cursor"]
    response = await api.client.get(f"{V1}/prompts", headers=await api.headers(tenant="acme"),
                                    params={"cursor": theirs})
    _assert_error(response, 400, "bad_request")


async def test_paging_is_stable_under_concurrent_inserts(api: Api) -> None:
    headers = await api.headers()
    original = set(_seed_prompts(api, 25, prefix="orig"))
    seen: list[str] = []
    cursor = None
    batch = 0
    while True:
        params: dict[str, Any] = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        body = await _page(api, headers, **params)
        seen += [p["name"] for p in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        for _ in range(5):  # new prompts arrive between page fetches
            await api.create_prompt(headers, name=f"new-{batch:03d}")
            batch += 1
    assert batch == 15  # 4 pages: 3 gaps of 5 inserts
    assert len(seen) == len(set(seen)), "a row was served twice"
    assert set(seen) == original, "a row was skipped (or a new one leaked into later pages)"
    total = await _page(api, headers, limit=200)
    assert len(total["data"]) == 40


def test_cursors_survive_signing_key_rotation() -> None:
    """A cursor signed before a key rotation still works while the old key is in the ring."""
    from datetime import UTC, datetime

    from scope_api.pagination import CursorCodec, Position

    position = Position(datetime(2026, 11, 26, 10, 0, tzinfo=UTC), "abc")
    old_cursor = CursorCodec(b"old-key").encode("prompts", position)

    assert CursorCodec(b"new-key", b"old-key").decode("prompts", old_cursor) == position
    with pytest.raises(BadRequest):
        CursorCodec(b"new-key").decode("prompts", old_cursor)
