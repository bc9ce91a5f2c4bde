"""Prompts: create, read, update, delete, list with tag and text search."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from scope_api.models import Promotion, Prompt, PromptTag, PromptVersion
from tests.factories import V1, Api, unique_name


def _assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    return error


def _rfc3339_utc(value: str) -> datetime:
    assert value.endswith("Z"), value
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None
    return parsed


async def test_create_returns_the_prompt(api: Api) -> None:
    headers = await api.headers(role="editor")
    response = await api.client.post(f"{V1}/prompts", headers=headers, json={
        "name": "support.reply_v2", "description": "Replies to tickets",
        "tags": ["support", "email", "support"]})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"name", "description", "tags", "production_version", "latest_version",
                         "created_by", "created_at", "updated_at"}
    assert body["name"] == "support.reply_v2"
    assert body["description"] == "Replies to tickets"
    assert body["tags"] == ["email", "support"]
    assert body["production_version"] is None
    assert body["latest_version"] is None
    assert body["created_by"]
    _rfc3339_utc(body["created_at"])
    _rfc3339_utc(body["updated_at"])

    fetched = await api.client.get(f"{V1}/prompts/support.reply_v2", headers=headers)
    assert fetched.status_code == 200
    assert fetched.json() == body


async def test_defaults_for_optional_fields(api: Api) -> None:
    headers = await api.headers()
    body = await api.create_prompt(headers)
    assert body["description"] == ""
    assert body["tags"] == []


async def test_get_reports_production_and_latest_versions(api: Api) -> None:
    headers = await api.headers()
    name = (await api.create_prompt(headers))["name"]
    for _ in range(3):
        await api.create_version(headers, name)
    assert (await api.promote(headers, name, 2)).status_code == 200
    body = (await api.client.get(f"{V1}/prompts/{name}", headers=headers)).json()
    assert (body["production_version"], body["latest_version"]) == (2, 3)


async def test_duplicate_name_is_a_conflict(api: Api) -> None:
    headers = await api.headers()
    name = (await api.create_prompt(headers))["name"]
    again = await api.client.post(f"{V1}/prompts", headers=headers, json={"name": name})
    error = _assert_error(again, 409, "conflict")
    assert name in error["message"]


async def test_same_name_in_another_tenant_is_fine(api: Api) -> None:
    name = (await api.create_prompt(await api.headers(tenant="acme")))["name"]
    other = await api.client.post(f"{V1}/prompts", headers=await api.headers(tenant="globex"),
                                  json={"name": name})
    assert other.status_code == 201, other.text


BAD_NAMES = ["Greeting", "hello world", "-leading", ".dot", "", "a/b", "a" * 129, "caf\u00e9"]


async def test_bad_names_are_refused(api: Api) -> None:
    headers = await api.headers()
    for name in BAD_NAMES:
        response = await api.client.post(f"{V1}/prompts", headers=headers, json={"name": name})
        error = _assert_error(response, 422, "validation_error")
        errors = error["details"]["errors"]
        assert isinstance(errors, list), name
        assert errors, name
        for item in errors:
            assert set(item) == {"loc", "msg"}
            assert isinstance(item["loc"], list)
            assert isinstance(item["msg"], str)
        assert ["body", "name"] in [e["loc"] for e in errors], name
    listing = await api.client.get(f"{V1}/prompts", headers=headers)
    assert listing.json()["data"] == []


async def test_longest_allowed_name_is_accepted(api: Api) -> None:
    headers = await api.headers()
    name = "a" * 128
    response = await api.client.post(f"{V1}/prompts", headers=headers, json={"name": name})
    assert response.status_code == 201, response.text
    assert (await api.client.get(f"{V1}/prompts/{name}", headers=headers)).status_code == 200


async def test_unknown_body_field_is_refused(api: Api) -> None:
    headers = await api.headers()
    response = await api.client.post(f"{V1}/prompts", headers=headers,
                                     json={"name": unique_name(), "owner": "me"})
    error = _assert_error(response, 422, "validation_error")
    assert ["body", "owner"] in [e["loc"] for e in error["details"]["errors"]]
    # Nothing was created.
    listing = await api.client.get(f"{V1}/prompts", headers=headers)
    assert listing.json()["data"] == []


async def test_get_unknown_prompt_is_404(api: Api) -> None:
    response = await api.client.get(f"{V1}/prompts/nothing-here", headers=await api.headers())
    error = _assert_error(response, 404, "not_found")
    assert "nothing-here" in error["message"]


async def test_patch_description_and_tags(api: Api) -> None:
    headers = await api.headers(role="editor")
    created = await api.create_prompt(headers, description="old", tags=["a", "b"])
    name = created["name"]

    only_description = await api.client.patch(f"{V1}/prompts/{name}", headers=headers,
                                              json={"description": "new"})
    assert only_description.status_code == 200, only_description.text
    assert only_description.json()["description"] == "new"
    assert only_description.json()["tags"] == ["a", "b"]

    tags = await api.client.patch(f"{V1}/prompts/{name}", headers=headers,
                                  json={"tags": ["zeta", "b", "alpha", "zeta"]})
    assert tags.status_code == 200, tags.text
    assert tags.json()["tags"] == ["alpha", "b", "zeta"]  # replaced, sorted, deduplicated
    assert tags.json()["description"] == "new"
    assert _rfc3339_utc(tags.json()["updated_at"]) >= _rfc3339_utc(created["updated_at"])

    fetched = (await api.client.get(f"{V1}/prompts/{name}", headers=headers)).json()
    assert (fetched["description"], fetched["tags"]) == ("new", ["alpha", "b", "zeta"])

    cleared = await api.client.patch(f"{V1}/prompts/{name}", headers=headers,
                                     json={"tags": []})
    assert cleared.json()["tags"] == []


async def test_patch_cannot_rename(api: Api) -> None:
    headers = await api.headers()
    name = (await api.create_prompt(headers))["name"]
    response = await api.client.patch(f"{V1}/prompts/{name}", headers=headers,
                                      json={"name": "renamed"})
    _assert_error(response, 422, "validation_error")
    assert (await api.client.get(f"{V1}/prompts/{name}", headers=headers)).status_code == 200


async def test_patch_unknown_prompt_is_404(api: Api) -> None:
    response = await api.client.patch(f"{V1}/prompts/ghost", headers=await api.headers(),
                                      json={"description": "x"})
    _assert_error(response, 404, "not_found")


def _rows_of(api: Api, prompt_id: str) -> dict[str, int]:
    with api.context.database.unit_of_work(write=False) as session:
        return {
            "prompts": session.scalar(select(func.count()).select_from(Prompt)
                                      .where(Prompt.id == prompt_id)) or 0,
            "versions": session.scalar(select(func.count()).select_from(PromptVersion)
                                       .where(PromptVersion.prompt_id == prompt_id)) or 0,
            "promotions": session.scalar(select(func.count()).select_from(Promotion)
                                         .where(Promotion.prompt_id == prompt_id)) or 0,
            "tags": session.scalar(select(func.count()).select_from(PromptTag)
                                   .where(PromptTag.prompt_id == prompt_id)) or 0,
        }


async def test_delete_removes_prompt_versions_and_history(api: Api) -> None:
    headers = await api.headers()
    name = (await api.create_prompt(headers, tags=["x", "y"]))["name"]
    keep = (await api.create_prompt(headers))["name"]
    for prompt in (name, keep):
        await api.create_version(headers, prompt)
        await api.create_version(headers, prompt)
        assert (await api.promote(headers, prompt, 1)).status_code == 200
        assert (await api.promote(headers, prompt, 2)).status_code == 200
    with api.context.database.unit_of_work(write=False) as session:
        prompt_id = session.scalar(select(Prompt.id).where(Prompt.name == name))
        keep_id = session.scalar(select(Prompt.id).where(Prompt.name == keep))
    assert prompt_id
    assert keep_id
    assert _rows_of(api, prompt_id) == {"prompts": 1, "versions": 2, "promotions": 2, "tags": 2}

    deleted = await api.client.delete(f"{V1}/prompts/{name}", headers=headers)
    assert deleted.status_code == 204
    assert deleted.content == b""

    assert _rows_of(api, prompt_id) == {"prompts": 0, "versions": 0, "promotions": 0, "tags": 0}
    assert _rows_of(api, keep_id) == {"prompts": 1, "versions": 2, "promotions": 2, "tags": 0}
    for path in ("", "/versions", "/versions/1", "/promotions", "/production"):
        gone = await api.client.get(f"{V1}/prompts/{name}{path}", headers=headers)
        _assert_error(gone, 404, "not_found")
    again = await api.client.delete(f"{V1}/prompts/{name}", headers=headers)
    _assert_error(again, 404, "not_found")

    # The name is free again, and the new prompt starts from scratch.
    recreated = await api.client.post(f"{V1}/prompts", headers=headers, json={"name": name})
    assert recreated.status_code == 201
    assert recreated.json()["latest_version"] is None
    assert (await api.create_version(headers, name))["number"] == 1


async def _names(api: Api, headers: dict[str, str], **params: str) -> list[str]:
    response = await api.client.get(f"{V1}/prompts", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return [p["name"] for p in response.json()["data"]]


async def test_list_is_newest_first_and_filters_by_tag(api: Api) -> None:
    headers = await api.headers()
    first = (await api.create_prompt(headers, tags=["support", "email"]))["name"]
    second = (await api.create_prompt(headers, tags=["sales"]))["name"]
    third = (await api.create_prompt(headers, tags=["support"]))["name"]

    assert await _names(api, headers) == [third, second, first]
    assert await _names(api, headers, tag="support") == [third, first]
    assert await _names(api, headers, tag="email") == [first]
    assert await _names(api, headers, tag="Support") == []  # tags match exactly
    assert await _names(api, headers, tag="supp") == []


async def test_list_only_shows_own_tenant(api: Api) -> None:
    mine = (await api.create_prompt(await api.headers(tenant="acme")))["name"]
    await api.create_prompt(await api.headers(tenant="globex"))
    assert await _names(api, await api.headers(tenant="acme")) == [mine]


async def test_list_search_is_case_insensitive_on_name_and_description(api: Api) -> None:
    headers = await api.headers()
    by_name = (await api.create_prompt(headers, name="hello-world"))["name"]
    by_description = (await api.create_prompt(headers, name="greeter",
                                              description="Says HELLO politely"))["name"]
    await api.create_prompt(headers, name="farewell", description="Says goodbye")

    assert await _names(api, headers, q="hello") == [by_description, by_name]
    assert await _names(api, headers, q="HeLLo") == [by_description, by_name]
    assert await _names(api, headers, q="politely") == [by_description]
    assert await _names(api, headers, q="nothing matches") == []


async def test_list_search_treats_like_wildcards_literally(api: Api) -> None:
    headers = await api.headers()
    percent = (await api.create_prompt(headers, name="percent",
                                       description="100% sure"))["name"]
    await api.create_prompt(headers, name="plain", description="1000 sure")
    underscore = (await api.create_prompt(headers, name="snake_case"))["name"]
    await api.create_prompt(headers, name="snakescase")

    assert await _names(api, headers, q="0%") == [percent]
    assert await _names(api, headers, q="%") == [percent]
    assert await _names(api, headers, q="e_c") == [underscore]
    assert await _names(api, headers, q="_") == [underscore]
    assert await _names(api, headers, q="\\") == []


async def test_list_combines_tag_and_search(api: Api) -> None:
    headers = await api.headers()
    match = (await api.create_prompt(headers, name="billing-faq", tags=["support"]))["name"]
    await api.create_prompt(headers, name="billing-sales", tags=["sales"])
    await api.create_prompt(headers, name="other-faq", tags=["support"])
    assert await _names(api, headers, tag="support", q="billing") == [match]


async def test_text_with_a_lone_surrogate_is_a_422_wherever_it_is_sent(api: Api) -> None:
    """Half an emoji (``\\ud83d``, from a client that cut a string) in a description or a
    promotion's reason: refused by the body's JSON parsing (free-form JSON fields need
    ``schemas.common.storable`` for the same), never stored for a 500 on the way back."""
    headers = await api.headers()
    name = (await api.create_prompt(headers))["name"]
    await api.create_version(headers, name)
    json_headers = {**headers, "content-type": "application/json"}
    for method, path, body in [
            ("POST", "/prompts", '{"name": "other", "description": "a \\ud83d"}'),
            ("PATCH", f"/prompts/{name}", '{"description": "a \\ud83d"}'),
            ("POST", f"/prompts/{name}/versions/1/promote", '{"reason": "a \\udc00"}')]:
        response = await api.client.request(method, f"{V1}{path}", content=body,
                                            headers=json_headers)
        assert response.status_code == 422, (path, response.text)
    prompt = await api.client.get(f"{V1}/prompts/{name}", headers=headers)
    assert prompt.json()["production_version"] is None
