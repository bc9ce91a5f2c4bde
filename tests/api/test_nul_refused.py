"""The NUL character (U+0000) in a request: a 422 locating it, on SQLite and PostgreSQL
alike, and nothing stored. PostgreSQL cannot store NUL in text: each of these was a 500
there (and stored on SQLite)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.factories import V1, Api

MESSAGE = "must not contain the NUL character (U+0000)"


def _refused(response: httpx.Response, loc: list[Any]) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["errors"] == [{"loc": loc, "msg": MESSAGE}]
    assert error["message"] == ".".join(str(part) for part in loc) + f": {MESSAGE}"
    assert error["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize(("path", "body", "loc"), [
    ("/prompts", {"name": "p", "description": "a\x00b"}, ["body", "description"]),
    ("/prompts", {"name": "p", "tags": ["ok", "x\x00"]}, ["body", "tags", 1]),
    ("/api-keys", {"name": "ci\x00", "role": "viewer"}, ["body", "name"]),
    ("/golden-sets", {"name": "g", "description": "\x00"}, ["body", "description"]),
    ("/providers", {"name": "p", "kind": "simulator", "options": {"h\x00": 1}},
     ["body", "options", "h\ufffd"]),
])
async def test_bodies_holding_nul_are_refused_and_nothing_is_stored(
        api: Api, path: str, body: dict[str, Any], loc: list[Any]) -> None:
    headers = await api.headers()
    before = (await api.client.get(f"{V1}{path}", headers=headers)).json()["data"]
    _refused(await api.client.post(f"{V1}{path}", json=body, headers=headers), loc)
    assert (await api.client.get(f"{V1}{path}", headers=headers)).json()["data"] == before


async def test_version_content_and_metadata_holding_nul_are_refused(api: Api) -> None:
    headers = await api.headers()
    name = (await api.create_prompt(headers))["name"]
    versions = f"{V1}/prompts/{name}/versions"
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "\x00"}]
    _refused(await api.client.post(versions, json={"content": chat}, headers=headers),
             ["body", "content", 1, "content"])
    _refused(await api.client.post(versions, json={"content": "Hi", "metadata": {
        "owner": {"team": "a\x00"}}}, headers=headers), ["body", "metadata", "owner", "team"])
    _refused(await api.client.patch(f"{V1}/prompts/{name}", json={"description": "\x00"},
                                    headers=headers), ["body", "description"])
    assert (await api.client.get(versions, headers=headers)).json()["data"] == []


async def test_exchanging_a_key_holding_nul_is_refused_before_any_lookup(api: Api) -> None:
    _refused(await api.client.post(f"{V1}/auth/token", json={"api_key": "scope_\x00"}),
             ["body", "api_key"])


async def test_nul_in_the_path_or_the_query_is_refused(api: Api) -> None:
    headers = await api.headers()
    _refused(await api.client.get(f"{V1}/prompts/a%00b", headers=headers), ["path"])
    _refused(await api.client.get(f"{V1}/prompts", params={"tag": "x\x00"}, headers=headers),
             ["query", "tag"])
    _refused(await api.client.get(f"{V1}/executions?model=%00&limit=5", headers=headers),
             ["query", "model"])
    # A body is not even read when the URL is refused.
    _refused(await api.client.post(f"{V1}/prompts?x=%00", json={"name": "p"},
                                   headers=headers), ["query", "x"])
    assert (await api.client.get(f"{V1}/prompts", headers=headers)).json()["data"] == []


async def test_the_text_backslash_u0000_is_not_a_nul(api: Api) -> None:
    """JSON's ``\\\\u0000`` is a backslash and the text "u0000": stored as sent."""
    headers = await api.headers()
    description = "C:\\u0000 and \\\\u0000 are paths, not NULs"
    created = await api.create_prompt(headers, description=description)
    assert created["description"] == description
    raw = json.dumps({"name": "q", "description": description}).encode()
    assert b"\\\\u0000" in raw
    response = await api.client.post(f"{V1}/prompts", content=raw,
                                      headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["description"] == description


async def test_golden_uploads_holding_nul_name_the_item(api: Api) -> None:
    headers = await api.headers()
    name = "nul-set"
    assert (await api.client.post(f"{V1}/golden-sets", json={"name": name},
                                  headers=headers)).status_code == 201
    items = f"{V1}/golden-sets/{name}/items"

    async def upload(content: bytes, content_type: str) -> httpx.Response:
        return await api.client.post(items, content=content,
                                     headers={**headers, "Content-Type": content_type})

    listed = json.dumps([{"variables": {"q": "fine"}}, {"variables": {"q": "a\x00"}}])
    _refused(await upload(listed.encode(), "application/json"),
             ["body", 1, "variables", "q"])
    lines = "\n".join(json.dumps(item) for item in (
        {"variables": {"q": "fine"}}, {"variables": {"q": "ok"}, "expected": "\x00"}))
    _refused(await upload(lines.encode(), "application/x-ndjson"),
             ["body", "line", 2, "expected"])
    csv_text = 'q,expected\nfine,yes\n"a\x00b",no\n'
    _refused(await upload(csv_text.encode(), "text/csv"), ["body", "line", 3, "variables", "q"])
    count = (await api.client.get(f"{V1}/golden-sets/{name}", headers=headers)).json()
    assert count["item_count"] == 0
    # The text "\u0000" in a CSV cell is six characters, not a NUL.
    response = await upload(b'q,expected\n\\u0000,yes\n', "text/csv")
    assert response.status_code == 201, response.text
    listed_items = (await api.client.get(items, headers=headers)).json()["data"]
    assert [i["variables"] for i in listed_items] == [{"q": "\\u0000"}]
