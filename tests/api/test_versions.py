"""Versions: numbering, content, derived variables, listing, and the status life cycle."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select

from scope_api.models import Prompt, PromptVersion
from tests.factories import V1, Api

VERSION_FIELDS = {"prompt", "number", "status", "content", "variables", "metadata", "message",
                  "created_by", "created_at"}


def _assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["code"] == code
    return error


async def _prompt(api: Api, headers: dict[str, str], versions: int = 0) -> str:
    name: str = (await api.create_prompt(headers))["name"]
    for _ in range(versions):
        await api.create_version(headers, name)
    return name


async def _act(api: Api, headers: dict[str, str], name: str, number: int,
               action: str) -> httpx.Response:
    return await api.client.post(f"{V1}/prompts/{name}/versions/{number}/{action}",
                                 headers=headers)


async def _status(api: Api, headers: dict[str, str], name: str, number: int) -> str:
    response = await api.client.get(f"{V1}/prompts/{name}/versions/{number}", headers=headers)
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


def _published_in_db(api: Api, name: str) -> list[int]:
    with api.context.database.unit_of_work(write=False) as session:
        return list(session.scalars(
            select(PromptVersion.number).join(Prompt, Prompt.id == PromptVersion.prompt_id)
            .where(Prompt.name == name, PromptVersion.status == "published")))


# --- creation ---------------------------------------------------------------------------


async def test_numbers_count_up_per_prompt(api: Api) -> None:
    headers = await api.headers(role="editor")
    first, second = await _prompt(api, headers), await _prompt(api, headers)
    numbers = [(await api.create_version(headers, first))["number"] for _ in range(3)]
    assert numbers == [1, 2, 3]
    assert (await api.create_version(headers, second))["number"] == 1
    assert (await api.create_version(headers, first))["number"] == 4
    prompt = (await api.client.get(f"{V1}/prompts/{first}", headers=headers)).json()
    assert prompt["latest_version"] == 4


async def test_text_version_fields(api: Api) -> None:
    headers = await api.headers(role="editor")
    name = await _prompt(api, headers)
    response = await api.client.post(f"{V1}/prompts/{name}/versions", headers=headers, json={
        "content": "Hello {{ name }}, you owe {{amount}}. Bye {{ name }}.",
        "metadata": {"model": "gpt-4o-mini", "temperature": 0.2}, "message": "first draft"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == VERSION_FIELDS
    assert body["prompt"] == name
    assert body["number"] == 1
    assert body["status"] == "draft"
    assert body["content"] == "Hello {{ name }}, you owe {{amount}}. Bye {{ name }}."
    assert body["variables"] == ["name", "amount"]
    assert body["metadata"] == {"model": "gpt-4o-mini", "temperature": 0.2}
    assert body["message"] == "first draft"
    assert body["created_by"]
    assert body["created_at"].endswith("Z")
    datetime.fromisoformat(body["created_at"])

    fetched = await api.client.get(f"{V1}/prompts/{name}/versions/1", headers=headers)
    assert fetched.status_code == 200
    assert fetched.json() == body


async def test_chat_version_variables_are_ordered_and_deduplicated(api: Api) -> None:
    headers = await api.headers(role="editor")
    name = await _prompt(api, headers)
    content = [
        {"role": "system", "content": "You are {{ persona }}. Be {{ tone | default('calm') }}."},
        {"role": "user", "content": "{% if vip %}Dear {{ customer }}, {% endif %}{{ question }}"},
        {"role": "assistant", "content": "Noted, {{ customer }}."},
        {"role": "user", "content": "{% for item in items %}- {{ item }}{% endfor %}{{ tone }}"},
    ]
    version = await api.create_version(headers, name, content=content)
    assert version["content"] == content
    assert version["variables"] == ["persona", "tone", "vip", "customer", "question", "items"]


async def test_variables_cannot_be_set_by_the_client(api: Api) -> None:
    headers = await api.headers(role="editor")
    name = await _prompt(api, headers)
    response = await api.client.post(f"{V1}/prompts/{name}/versions", headers=headers,
                                     json={"content": "Hi {{ a }}", "variables": ["b"]})
    _assert_error(response, 422, "validation_error")


async def test_invalid_templates_are_refused_naming_the_construct(api: Api) -> None:
    headers = await api.headers(role="editor")
    name = await _prompt(api, headers)
    cases: list[tuple[Any, str]] = [
        ("{{ name | upper }}", "filter 'upper'"),
        ("{{ user.name }}", "user.name"),
        ('{% include "other" %}', "include"),
        ("{% macro m() %}x{% endmacro %}", "macro"),
        ([{"role": "system", "content": "ok"},
          {"role": "user", "content": "{{ q | upper }}"}], "filter 'upper'"),
        ("{% if x %}unclosed", "syntax"),
    ]
    for content, construct in cases:
        response = await api.client.post(f"{V1}/prompts/{name}/versions", headers=headers,
                                         json={"content": content})
        error = _assert_error(response, 422, "validation_error")
        assert construct in error["message"], (content, error["message"])
        assert error["details"]["errors"][0]["loc"] == ["body", "content"]
    chat = await api.client.post(f"{V1}/prompts/{name}/versions", headers=headers, json={
        "content": [{"role": "system", "content": "ok"},
                    {"role": "user", "content": "{{ q | upper }}"}]})
    assert "messages[1]" in chat.json()["error"]["message"]
    # Nothing was stored, and numbering is not consumed by refused versions.
    assert (await api.create_version(headers, name))["number"] == 1


async def test_bad_content_shapes_are_refused(api: Api) -> None:
    headers = await api.headers(role="editor")
    name = await _prompt(api, headers)
    for body in ({}, {"content": 5}, {"content": [{"role": "robot", "content": "x"}]},
                 {"content": [{"role": "user"}]}, {"content": "x", "unknown": 1}):
        response = await api.client.post(f"{V1}/prompts/{name}/versions", headers=headers,
                                         json=body)
        _assert_error(response, 422, "validation_error")


async def test_versions_are_immutable(api: Api) -> None:
    headers = await api.headers(role="admin")
    name = await _prompt(api, headers, versions=1)
    path = f"{V1}/prompts/{name}/versions/1"
    for method in ("PATCH", "PUT", "DELETE"):
        response = await api.client.request(method, path, headers=headers,
                                            json={"content": "changed"})
        error = _assert_error(response, 405, "method_not_allowed")
        assert method in error["message"]
        assert "GET" in response.headers["allow"]
    unchanged = (await api.client.get(path, headers=headers)).json()
    assert unchanged["content"] == "Hello {{ name }}!"


async def test_unknown_version_is_404(api: Api) -> None:
    headers = await api.headers()
    name = await _prompt(api, headers, versions=1)
    error = _assert_error(await api.client.get(f"{V1}/prompts/{name}/versions/2",
                                               headers=headers), 404, "not_found")
    assert "2" in error["message"]
    for action in ("promote", "archive", "unarchive"):
        _assert_error(await _act(api, headers, name, 7, action), 404, "not_found")
    _assert_error(await api.client.get(f"{V1}/prompts/{name}/versions/0", headers=headers),
                  422, "validation_error")
    _assert_error(await api.client.get(f"{V1}/prompts/{name}/versions/one", headers=headers),
                  422, "validation_error")


async def test_versions_of_unknown_prompt_are_404(api: Api) -> None:
    headers = await api.headers()
    for method, path in (("GET", "/versions"), ("POST", "/versions"), ("GET", "/versions/1"),
                         ("GET", "/promotions"), ("GET", "/production")):
        response = await api.client.request(method, f"{V1}/prompts/ghost{path}",
                                            headers=headers, json={"content": "x"})
        _assert_error(response, 404, "not_found")


async def test_list_newest_first_with_status_filter(api: Api) -> None:
    headers = await api.headers(role="editor")
    name = await _prompt(api, headers, versions=5)
    assert (await api.promote(headers, name, 2)).status_code == 200
    assert (await api.promote(headers, name, 4)).status_code == 200  # archives 2
    assert (await _act(api, headers, name, 1, "archive")).status_code == 200

    async def numbers(**params: str) -> list[int]:
        response = await api.client.get(f"{V1}/prompts/{name}/versions", headers=headers,
                                        params=params)
        assert response.status_code == 200, response.text
        return [v["number"] for v in response.json()["data"]]

    assert await numbers() == [5, 4, 3, 2, 1]
    assert await numbers(status="draft") == [5, 3]
    assert await numbers(status="published") == [4]
    assert await numbers(status="archived") == [2, 1]
    _assert_error(await api.client.get(f"{V1}/prompts/{name}/versions", headers=headers,
                                       params={"status": "deleted"}), 422, "validation_error")


async def test_burst_of_concurrent_creations_numbers_without_gaps(api: Api) -> None:
    headers = await api.headers(role="editor")
    name = await _prompt(api, headers)
    responses = await asyncio.gather(*[
        api.client.post(f"{V1}/prompts/{name}/versions", headers=headers,
                        json={"content": f"variant {i} for {{{{ who }}}}"})
        for i in range(10)])
    assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
    assert sorted(r.json()["number"] for r in responses) == list(range(1, 11))
    listed = (await api.client.get(f"{V1}/prompts/{name}/versions", headers=headers)).json()
    assert sorted(v["number"] for v in listed["data"]) == list(range(1, 11))
    # Each number holds the content of the request that received it.
    by_number = {r.json()["number"]: r.json()["content"] for r in responses}
    assert {v["number"]: v["content"] for v in listed["data"]} == by_number


# --- life cycle -------------------------------------------------------------------------


async def test_legal_transitions(api: Api) -> None:
    headers = await api.headers(role="editor")
    name = await _prompt(api, headers, versions=2)

    promoted = await _act(api, headers, name, 1, "promote")
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["status"] == "published"
    assert set(promoted.json()) == VERSION_FIELDS

    archived = await _act(api, headers, name, 1, "archive")  # published -> archived
    assert archived.status_code == 200, archived.text
    assert archived.json()["status"] == "archived"

    drafted = await _act(api, headers, name, 2, "archive")  # draft -> archived
    assert drafted.json()["status"] == "archived"

    restored = await _act(api, headers, name, 2, "unarchive")  # archived -> draft
    assert restored.status_code == 200, restored.text
    assert restored.json()["status"] == "draft"

    again = await _act(api, headers, name, 1, "unarchive")
    assert again.json()["status"] == "draft"
    assert (await _act(api, headers, name, 1, "promote")).json()["status"] == "published"
    assert [await _status(api, headers, name, n) for n in (1, 2)] == ["published", "draft"]


async def test_illegal_transitions_are_conflicts(api: Api) -> None:
    headers = await api.headers(role="editor")
    name = await _prompt(api, headers, versions=3)
    assert (await _act(api, headers, name, 1, "promote")).status_code == 200  # 1 published
    assert (await _act(api, headers, name, 2, "archive")).status_code == 200  # 2 archived
    # 3 stays draft.
    illegal = [(1, "promote"), (2, "promote"), (2, "archive"), (1, "unarchive"),
               (3, "unarchive")]
    for number, action in illegal:
        response = await _act(api, headers, name, number, action)
        error = _assert_error(response, 409, "conflict")
        assert str(number) in error["message"], (number, action, error)
    # Nothing changed.
    assert [await _status(api, headers, name, n) for n in (1, 2, 3)] == \
        ["published", "archived", "draft"]
    history = (await api.client.get(f"{V1}/prompts/{name}/promotions", headers=headers)).json()
    assert len(history["data"]) == 1


async def test_promotion_archives_previous_and_records_history(api: Api) -> None:
    alice = await api.headers(role="editor")
    bob = await api.headers(role="editor")
    name = await _prompt(api, alice)
    v1 = await api.create_version(alice, name)
    v2 = await api.create_version(bob, name)
    assert v1["created_by"] != v2["created_by"]

    assert (await api.promote(alice, name, 1)).status_code == 200
    second = await api.promote(bob, name, 2, reason="fixes the tone")
    assert second.status_code == 200, second.text
    assert second.json()["status"] == "published"
    assert await _status(api, alice, name, 1) == "archived"
    assert _published_in_db(api, name) == [2]

    response = await api.client.get(f"{V1}/prompts/{name}/promotions", headers=alice)
    assert response.status_code == 200
    history = response.json()
    assert history["next_cursor"] is None
    assert [set(p) for p in history["data"]] == \
        [{"version", "previous_version", "promoted_by", "promoted_at", "reason"}] * 2
    newest, oldest = history["data"]
    assert (newest["version"], newest["previous_version"], newest["reason"]) == \
        (2, 1, "fixes the tone")
    assert (oldest["version"], oldest["previous_version"], oldest["reason"]) == (1, None, None)
    assert newest["promoted_by"] == v2["created_by"]  # bob
    assert oldest["promoted_by"] == v1["created_by"]  # alice
    assert newest["promoted_at"].endswith("Z")
    assert datetime.fromisoformat(newest["promoted_at"]) >= \
        datetime.fromisoformat(oldest["promoted_at"])


async def test_archiving_the_published_version_removes_production(api: Api) -> None:
    headers = await api.headers(role="editor")
    name = await _prompt(api, headers, versions=2)
    assert (await api.promote(headers, name, 2)).status_code == 200
    production = await api.client.get(f"{V1}/prompts/{name}/production", headers=headers)
    assert production.json()["number"] == 2

    assert (await _act(api, headers, name, 2, "archive")).status_code == 200
    _assert_error(await api.client.get(f"{V1}/prompts/{name}/production", headers=headers),
                  404, "not_found")
    prompt = (await api.client.get(f"{V1}/prompts/{name}", headers=headers)).json()
    assert (prompt["production_version"], prompt["latest_version"]) == (None, 2)
    assert _published_in_db(api, name) == []


async def test_exactly_one_published_after_many_promotions(api: Api) -> None:
    headers = await api.headers(role="editor")
    name = await _prompt(api, headers, versions=6)
    sequence = [1, 2, 3, 4, 5, 6]
    for number in sequence:
        assert (await api.promote(headers, name, number)).status_code == 200
        assert _published_in_db(api, name) == [number]
    # Bring old versions back and promote them again.
    for number in (2, 5, 1):
        assert (await _act(api, headers, name, number, "unarchive")).status_code == 200
        assert (await api.promote(headers, name, number)).status_code == 200
        assert _published_in_db(api, name) == [number]
    statuses = [await _status(api, headers, name, n) for n in range(1, 7)]
    assert statuses == ["published"] + ["archived"] * 5
    production = await api.client.get(f"{V1}/prompts/{name}/production", headers=headers)
    assert production.json()["number"] == 1
    history = (await api.client.get(f"{V1}/prompts/{name}/promotions", headers=headers)).json()
    assert [(p["version"], p["previous_version"]) for p in history["data"]] == [
        (1, 5), (5, 2), (2, 6), (6, 5), (5, 4), (4, 3), (3, 2), (2, 1), (1, None)]


async def test_content_or_metadata_json_could_not_carry_back_is_a_422(api: Api) -> None:
    """Accepted before, then the response (the row was rolled back) was a 500."""
    headers = await api.headers(role="editor")
    name = await _prompt(api, headers)
    deep = "[" * 300 + "]" * 300
    for body, field, says in [
            ('{"content": "Reply with \\ud83d"}', "content", "lone UTF-16 surrogate"),
            ('{"content": [{"role": "user", "content": "Hi \\udc00"}]}', "content",
             "lone UTF-16 surrogate"),
            ('{"content": "Hi", "metadata": {"\\ud83d": 1}}', "metadata",
             "lone UTF-16 surrogate"),
            (f'{{"content": "Hi", "metadata": {{"a": {deep}}}}}', "metadata",
             "nested too deeply"),
            ('{"content": "Hi", "metadata": {"a": NaN}}', "metadata", "NaN or Infinity")]:
        response = await api.client.post(
            f"{V1}/prompts/{name}/versions", content=body,
            headers={**headers, "content-type": "application/json"})
        error = _assert_error(response, 422, "validation_error")
        assert error["details"]["errors"][0]["loc"][:2] == ["body", field], body
        assert says in error["details"]["errors"][0]["msg"], body
    listed = await api.client.get(f"{V1}/prompts/{name}/versions", headers=headers)
    assert listed.json()["data"] == []
