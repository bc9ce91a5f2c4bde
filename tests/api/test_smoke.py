"""The main flow a team follows, end to end through the HTTP API."""

from __future__ import annotations

from tests.factories import V1, Api


async def test_create_version_promote_and_fetch_production(api: Api) -> None:
    editor = await api.headers(role="editor")
    viewer = await api.headers(role="viewer")
    prompt = await api.create_prompt(editor, tags=["support"])
    v1 = await api.create_version(editor, prompt["name"], content="Hi {{ name }}")
    v2 = await api.create_version(editor, prompt["name"],
                                  content=[{"role": "system", "content": "Be {{ tone }}"},
                                           {"role": "user", "content": "{{ question }}"}])
    assert (v1["number"], v2["number"]) == (1, 2)
    assert v2["variables"] == ["tone", "question"]

    missing = await api.client.get(f"{V1}/prompts/{prompt['name']}/production", headers=viewer)
    assert missing.status_code == 404

    assert (await api.promote(editor, prompt["name"], 1)).json()["status"] == "published"
    first = await api.client.get(f"{V1}/prompts/{prompt['name']}/production", headers=viewer)
    assert first.json()["number"] == 1

    promoted = await api.promote(editor, prompt["name"], 2, reason="better")
    assert promoted.status_code == 200
    second = await api.client.get(f"{V1}/prompts/{prompt['name']}/production", headers=viewer)
    assert second.json()["number"] == 2
    old = await api.client.get(f"{V1}/prompts/{prompt['name']}/versions/1", headers=viewer)
    assert old.json()["status"] == "archived"

    history = await api.client.get(f"{V1}/prompts/{prompt['name']}/promotions", headers=viewer)
    assert [(p["version"], p["previous_version"], p["reason"])
            for p in history.json()["data"]] == [(2, 1, "better"), (1, None, None)]
