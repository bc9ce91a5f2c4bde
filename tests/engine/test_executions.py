"""POST/GET /executions against the in-process simulator, over real HTTP, on both databases."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from scope_api.models import Provider
from scope_api.providers import url_safety
from tests.engine.conftest import MODELS, Lab, expected_cost
from tests.factories import V1

CHAT = [{"role": "system", "content": "You are {{ persona }}."},
        {"role": "user", "content": "Say hello to {{ name }}."}]


async def test_text_and_chat_prompts_run_on_every_model_family(lab: Lab) -> None:
    text_prompt = await lab.prompt("Hello {{ name }}, tell me about {{ topic }}.")
    chat_prompt = await lab.prompt(CHAT)
    provider = await lab.provider()
    prices = await lab.prices(provider)
    variables = {"name": "Ada", "topic": "engines", "persona": "a patient teacher"}
    for model in MODELS:
        for prompt in (text_prompt, chat_prompt):
            response = await lab.execute(prompt=prompt, provider=provider, model=model,
                                         variables=variables,
                                         parameters={"temperature": 0, "max_tokens": 64})
            assert response.status_code == 201, response.text
            e = response.json()
            assert (e["prompt"], e["version"], e["provider"], e["model"], e["status"]) == (
                prompt, 1, provider, model, "succeeded")
            assert e["error"] is None
            assert e["output"].startswith("Simulated answer to:")
            assert e["input_tokens"] > 0
            assert 0 < e["output_tokens"] <= 64
            assert e["latency_ms"] > 0
            assert e["cost_usd"] == expected_cost(e["input_tokens"], e["output_tokens"],
                                                  prices[model])
            assert e["warnings"] == []
            assert len(e["trace_id"]) == 32
            assert len(e["span_id"]) == 16
            assert e["rendered"]["parameters"] == {"temperature": 0, "max_tokens": 64}
            if prompt == text_prompt:
                assert e["rendered"]["content"] == "Hello Ada, tell me about engines."
            else:
                assert e["rendered"]["content"] == [
                    {"role": "system", "content": "You are a patient teacher."},
                    {"role": "user", "content": "Say hello to Ada."}]
            assert "Ada" in e["output"]

            stored = await lab.client.get(f"{V1}/executions/{e['id']}", headers=lab.headers)
            assert stored.status_code == 200
            assert stored.json() == e
    assert await lab.calls() == 6
    assert len(await lab.executions(limit=200)) == 6


async def test_the_same_request_gives_the_same_answer(lab: Lab) -> None:
    prompt = await lab.prompt("Describe {{ thing }}.")
    provider = await lab.provider()
    body = {"prompt": prompt, "provider": provider, "model": "sim-claude-haiku",
            "variables": {"thing": "a lighthouse"}}
    first, second = (await lab.execute(**body)).json(), (await lab.execute(**body)).json()
    assert first["id"] != second["id"]
    assert (first["output"], first["input_tokens"], first["output_tokens"]) == (
        second["output"], second["input_tokens"], second["output_tokens"])


async def test_version_or_label_selects_what_runs(lab: Lab) -> None:
    prompt = await lab.prompt("One {{ x }}", "Two {{ x }}", promote=1)
    provider = await lab.provider()
    run = {"prompt": prompt, "provider": provider, "model": "sim-gpt-mini",
           "variables": {"x": "!"}}

    production = await lab.execute(**run, label="production")
    assert production.status_code == 201, production.text
    assert (production.json()["version"], production.json()["rendered"]["content"]) == (
        1, "One !")
    second = await lab.execute(**run, version=2)
    assert (second.json()["version"], second.json()["rendered"]["content"]) == (2, "Two !")

    assert (await lab.api.promote(lab.headers, prompt, 2)).status_code == 200
    promoted = await lab.execute(**run, label="production")
    assert (promoted.json()["version"], promoted.json()["rendered"]["content"]) == (2, "Two !")

    missing_version = await lab.execute(**run, version=9)
    assert missing_version.status_code == 404
    assert missing_version.json()["error"]["code"] == "not_found"
    for bad in ({"version": 1, "label": "production"}, {"label": "staging"},
                {"version": "1"}, {"version": 0}):
        response = await lab.client.post(f"{V1}/executions", headers=lab.headers,
                                         json={**run, **bad})
        assert response.status_code == 422, (bad, response.text)
    neither = await lab.client.post(f"{V1}/executions", headers=lab.headers, json=run)
    assert neither.status_code == 422
    assert "exactly one" in neither.json()["error"]["message"]

    unpublished = await lab.prompt("Draft {{ x }}")
    no_production = await lab.execute(**{**run, "prompt": unpublished}, label="production")
    assert no_production.status_code == 404
    assert "no published version" in no_production.json()["error"]["message"]
    assert [e["version"] for e in await lab.executions()] == [2, 2, 1]


async def test_missing_variables_are_all_named_and_nothing_happens(lab: Lab) -> None:
    prompt = await lab.prompt([
        {"role": "system", "content": "You are {{ persona }} speaking {{ language }}."},
        {"role": "user", "content": "{{ question }} {{ persona }}"}])
    provider = await lab.provider()
    response = await lab.execute(prompt=prompt, provider=provider, model="sim-gpt-mini",
                                 variables={"language": "Latin"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [e["loc"] for e in error["details"]["errors"]] == [
        ["body", "variables", "persona"], ["body", "variables", "question"]]
    assert "persona" in error["message"]
    assert "question" in error["message"]
    assert await lab.calls() == 0
    assert await lab.executions() == []
    traces = await lab.client.get(f"{V1}/traces", headers=lab.headers)
    assert traces.json()["data"] == []


async def test_a_rate_limit_is_retried_and_recorded_once(lab: Lab) -> None:
    prompt = await lab.prompt("Hi {{ name }}")
    provider = await lab.provider(headers={"x-simulator-fault": "429",
                                           "x-simulator-fail-times": "1"})
    response = await lab.execute(prompt=prompt, provider=provider, model="sim-claude-haiku",
                                 variables={"name": "Bo"})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "succeeded"
    assert await lab.calls() == 2
    [execution] = await lab.executions()
    assert execution["id"] == response.json()["id"]


async def test_a_provider_that_keeps_failing_is_a_502_and_a_failed_execution(
        lab: Lab) -> None:
    prompt = await lab.prompt("Hi {{ name }}")
    provider = await lab.provider(headers={"x-simulator-fault": "503"})
    response = await lab.execute(prompt=prompt, provider=provider, model="sim-gpt-mini",
                                 variables={"name": "Bo"})
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "provider_error"
    assert "HTTP 503" in error["message"]
    assert await lab.calls() == 4  # the first attempt and 3 retries

    stored = await lab.client.get(f"{V1}/executions/{error['details']['execution_id']}",
                                  headers=lab.headers)
    assert stored.status_code == 200
    failed = stored.json()
    assert failed["status"] == "failed"
    assert failed["error"] == {"code": "provider_error", "message": error["message"]}
    assert (failed["output"], failed["input_tokens"], failed["output_tokens"],
            failed["cost_usd"]) == (None, None, None, None)
    assert failed["rendered"]["content"] == "Hi Bo"
    assert failed["trace_id"] == error["details"]["trace_id"]
    assert [e["id"] for e in await lab.executions(status="failed")] == [failed["id"]]


async def test_a_provider_timeout_is_a_504_and_recorded(lab: Lab) -> None:
    prompt = await lab.prompt("Hi {{ name }}")
    provider = await lab.provider(headers={"x-simulator-fault": "timeout",
                                           "x-simulator-delay-ms": "10000"}, timeout_s=0.2)
    response = await lab.execute(prompt=prompt, provider=provider, model="sim-gemini-flash",
                                 variables={"name": "Bo"})
    assert response.status_code == 504
    error = response.json()["error"]
    assert error["code"] == "provider_timeout"
    stored = (await lab.client.get(f"{V1}/executions/{error['details']['execution_id']}",
                                   headers=lab.headers)).json()
    assert stored["status"] == "failed"
    assert stored["error"]["code"] == "provider_timeout"
    assert 200 <= stored["latency_ms"] < 5000
    assert await lab.calls() == 1  # a read timeout is not retried


@pytest.mark.parametrize("model", MODELS)
async def test_a_garbled_answer_is_a_502_and_recorded(lab: Lab, model: str) -> None:
    prompt = await lab.prompt("Hi")
    provider = await lab.provider(headers={"x-simulator-fault": "malformed"})
    response = await lab.execute(prompt=prompt, provider=provider, model=model)
    assert response.status_code == 502
    assert "unreadable" in response.json()["error"]["message"]
    [failed] = await lab.executions()
    assert (failed["status"], failed["error"]["code"]) == ("failed", "provider_error")


async def test_an_answer_without_usage_has_no_cost_and_says_so(lab: Lab) -> None:
    prompt = await lab.prompt("Hi")
    provider = await lab.provider(headers={"x-simulator-fault": "no-usage"})
    response = await lab.execute(prompt=prompt, provider=provider, model="sim-gpt-mini")
    assert response.status_code == 201, response.text
    e = response.json()
    assert (e["input_tokens"], e["output_tokens"], e["cost_usd"]) == (None, None, None)
    assert e["warnings"] == ["the provider reported no token usage: cost unknown"]


async def test_unknown_prompt_or_provider_is_404_and_not_recorded(lab: Lab) -> None:
    prompt = await lab.prompt("Hi")
    provider = await lab.provider()
    for body, what in (({"prompt": "nope", "provider": provider}, "prompt 'nope'"),
                       ({"prompt": prompt, "provider": "nope"}, "provider 'nope'")):
        response = await lab.execute(**body, model="sim-gpt-mini")
        assert response.status_code == 404
        assert response.json()["error"]["message"] == f"{what} not found"
    assert await lab.calls() == 0
    assert await lab.executions() == []


async def test_a_model_outside_the_catalog_runs_without_a_cost(lab: Lab) -> None:
    prompt = await lab.prompt("Hi")
    provider = await lab.provider()
    response = await lab.execute(prompt=prompt, provider=provider, model="sim-gpt-experimental")
    assert response.status_code == 201, response.text
    e = response.json()
    assert e["status"] == "succeeded"
    assert e["input_tokens"] > 0
    assert e["cost_usd"] is None
    assert e["warnings"] == ["model 'sim-gpt-experimental' is not in the catalog: cost unknown"]

    # A tenant price for it makes it priced, exactly.
    priced = await lab.client.put(f"{V1}/models/{provider}/sim-gpt-experimental/price",
                                  headers=lab.headers,
                                  json={"input_per_mtok_usd": "1.25", "output_per_mtok_usd": 10})
    assert priced.status_code == 200, priced.text
    e = (await lab.execute(prompt=prompt, provider=provider,
                           model="sim-gpt-experimental")).json()
    assert e["warnings"] == []
    assert e["cost_usd"] == expected_cost(e["input_tokens"], e["output_tokens"],
                                          (Decimal("1.25"), Decimal(10)))


async def test_models_the_provider_cannot_serve_are_refused(lab: Lab) -> None:
    prompt = await lab.prompt("Hi")
    provider = await lab.provider()
    restricted = await lab.client.post(f"{V1}/providers", headers=lab.headers, json={
        "name": "only-gpt", "kind": "simulator", "enabled_models": ["sim-gpt-mini"],
        "options": {"headers": {"x-simulator-key": lab.key}}})
    assert restricted.status_code == 201
    for provider_name, model, fragment in (
            ("only-gpt", "sim-claude-haiku", "not enabled on provider 'only-gpt'"),
            (provider, "llama3", "the simulator has no model 'llama3'")):
        response = await lab.execute(prompt=prompt, provider=provider_name, model=model)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert fragment in error["message"]
        assert error["details"]["errors"][0]["loc"] == ["body", "model"]
    assert (await lab.execute(prompt=prompt, provider="only-gpt",
                              model="sim-gpt-mini")).status_code == 201
    assert await lab.calls() == 1


@pytest.mark.parametrize(("parameters", "loc"), [
    ({"temperature": "0.5"}, "temperature"),
    ({"temperature": True}, "temperature"),
    ({"temperature": 2.5}, "temperature"),
    ({"max_tokens": 1.5}, "max_tokens"),
    ({"max_tokens": "256"}, "max_tokens"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"top_p": -0.1}, "top_p"),
    ({"stop": ["a", "b", "c", "d", "e"]}, None),
    ({"stop": [1]}, "stop"),
    ({"response_format": "xml"}, "response_format"),
    ({"seed": 3}, "seed"),
])
async def test_wrong_parameters_are_422_before_any_call(lab: Lab, parameters: dict[str, Any],
                                                        loc: str | None) -> None:
    prompt = await lab.prompt("Hi")
    provider = await lab.provider()
    response = await lab.execute(prompt=prompt, provider=provider, model="sim-gpt-mini",
                                 parameters=parameters)
    assert response.status_code == 422, response.text
    locs = [e["loc"] for e in response.json()["error"]["details"]["errors"]]
    assert all(loc_[:2] == ["body", "parameters"] for loc_ in locs), locs
    if loc is not None:
        assert any(loc in loc_ for loc_ in locs), locs
    assert await lab.calls() == 0
    assert await lab.executions() == []


async def test_json_mode_only_where_the_provider_has_one(lab: Lab) -> None:
    prompt = await lab.prompt("Give me JSON about {{ x }}")
    provider = await lab.provider()
    run = {"prompt": prompt, "provider": provider, "variables": {"x": "owls"},
           "parameters": {"response_format": "json", "stop": "END"}}
    refused = await lab.execute(**run, model="sim-claude-haiku")
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["errors"][0]["loc"] == [
        "body", "parameters", "response_format"]
    accepted = await lab.execute(**run, model="sim-gpt-mini")
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["rendered"]["parameters"] == {"response_format": "json",
                                                         "stop": ["END"]}
    assert await lab.calls() == 1


async def test_list_filters_and_pages_newest_first(lab: Lab) -> None:
    first, second = await lab.prompt("A {{ x }}"), await lab.prompt("B {{ x }}")
    provider = await lab.provider()
    broken = await lab.provider(headers={"x-simulator-fault": "500"})
    before = datetime.now(UTC) - timedelta(seconds=1)
    made: list[str] = []
    for prompt, model in ((first, "sim-gpt-mini"), (second, "sim-gpt-mini"),
                          (first, "sim-gemini-flash"), (second, "sim-claude-haiku"),
                          (first, "sim-gpt-mini")):
        response = await lab.execute(prompt=prompt, provider=provider, model=model,
                                     variables={"x": 1})
        made.append(response.json()["id"])
    failed = await lab.execute(prompt=second, provider=broken, model="sim-gpt-mini",
                               variables={"x": 1})
    assert failed.status_code == 502
    made.append(failed.json()["error"]["details"]["execution_id"])
    newest_first = made[::-1]

    assert [e["id"] for e in await lab.executions()] == newest_first
    assert [e["id"] for e in await lab.executions(prompt=first)] == [made[4], made[2], made[0]]
    assert [e["id"] for e in await lab.executions(provider=broken)] == [made[5]]
    assert [e["id"] for e in await lab.executions(model="sim-gpt-mini")] == [
        made[5], made[4], made[1], made[0]]
    assert [e["id"] for e in await lab.executions(status="succeeded", prompt=second)] == [
        made[3], made[1]]
    assert [e["id"] for e in await lab.executions(status="failed")] == [made[5]]
    assert len(await lab.executions(since=before.isoformat())) == 6
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert await lab.executions(since=later) == []

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, "model": "sim-gpt-mini"}
        if cursor:
            params["cursor"] = cursor
        page = (await lab.client.get(f"{V1}/executions", params=params,
                                     headers=lab.headers)).json()
        seen += [e["id"] for e in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # A cursor continues only the list it came from.
        other = await lab.client.get(f"{V1}/executions", headers=lab.headers,
                                     params={"cursor": cursor, "model": "sim-gemini-flash"})
        assert other.status_code == 400
    assert seen == [made[5], made[4], made[1], made[0]]

    for bad in ({"since": "yesterday"}, {"since": "2026-11-26T10:00:00"},
                {"status": "running"}, {"prompt": "Not A Name"}):
        response = await lab.client.get(f"{V1}/executions", params=bad, headers=lab.headers)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"]["code"] == "validation_error"


async def test_get_an_unknown_execution_is_404(lab: Lab) -> None:
    response = await lab.client.get(f"{V1}/executions/{'0' * 32}", headers=lab.headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_executions_survive_their_prompt_and_provider(lab: Lab) -> None:
    prompt = await lab.prompt("Hi")
    provider = await lab.provider()
    e = (await lab.execute(prompt=prompt, provider=provider, model="sim-gpt-mini")).json()
    assert (await lab.client.delete(f"{V1}/prompts/{prompt}",
                                    headers=lab.headers)).status_code == 204
    assert (await lab.client.delete(f"{V1}/providers/{provider}",
                                    headers=lab.headers)).status_code == 204
    stored = await lab.client.get(f"{V1}/executions/{e['id']}", headers=lab.headers)
    assert stored.status_code == 200
    assert stored.json() == e


async def test_a_base_url_refused_at_call_time_is_422(lab: Lab,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The URL is checked again before each call: a policy tightened since it was saved
    (or a DNS answer changed since) stops the call."""
    local = await lab.local_provider(monkeypatch)
    prompt = await lab.prompt("Hi")
    assert (await lab.execute(prompt=prompt, provider=local,
                              model="sim-gpt-mini")).status_code == 201
    monkeypatch.setattr(lab.api.context.settings, "allow_private_provider_urls", False)
    refused = await lab.execute(prompt=prompt, provider=local, model="sim-gpt-mini")
    assert refused.status_code == 422
    message = refused.json()["error"]["message"]
    assert message.startswith(f"provider '{local}': ")
    assert "SCOPE_ALLOW_PRIVATE_PROVIDER_URLS" in message
    assert await lab.calls() == 1
    assert len(await lab.executions()) == 1



async def test_provider_options_saved_unchecked_are_a_422_before_the_call(lab: Lab) -> None:
    """A provider row whose options were saved before they were checked (or by hand):
    the execution is refused naming the problem, nothing is recorded and the provider
    is not called (it used to be a 500, or a recorded 502)."""
    provider = await lab.provider()
    with lab.api.context.database.unit_of_work() as session:
        session.execute(update(Provider).where(Provider.name == provider).values(
            options={"headers": {"x-simulator-key": lab.key, "x-a": "a\nb"}}))
    prompt = await lab.prompt("Hi")
    refused = await lab.execute(prompt=prompt, provider=provider, model="sim-gpt-mini")
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["message"] == (
        f"provider '{provider}': options.headers: the value of 'x-a' may hold only visible "
        "ASCII characters, spaces and tabs")
    assert await lab.calls() == 0
    assert await lab.executions() == []


async def test_a_host_that_resolves_elsewhere_when_called_is_refused_there(
        lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: the name passes the check before the call (here its DNS answers a
    public address), then resolves to a refused one when the client connects. The
    connection is refused, the failure recorded, and the provider never reached."""
    settings = lab.api.context.settings
    monkeypatch.setattr(settings, "allow_private_provider_urls", True)
    url = lab.api.context.simulator_url.replace("127.0.0.1", "localhost")
    created = await lab.client.post(f"{V1}/providers", headers=lab.headers, json={
        "name": "rebound", "kind": "openai_compatible", "base_url": f"{url}/v1",
        "options": {"headers": {"x-simulator-key": lab.key}}})
    assert created.status_code == 201, created.text
    monkeypatch.setattr(settings, "allow_private_provider_urls", False)
    monkeypatch.setattr(url_safety, "_resolve",
                        lambda target: [ipaddress.ip_address("1.1.1.1")])
    prompt = await lab.prompt("Hi")
    answer = await lab.execute(prompt=prompt, provider="rebound", model="sim-gpt-mini")
    assert answer.status_code == 502, answer.text
    message = answer.json()["error"]["message"]
    assert "base_url host 'localhost' resolves to " in message
    assert "SCOPE_ALLOW_PRIVATE_PROVIDER_URLS=true" in message
    assert await lab.calls() == 0
    [recorded] = await lab.executions()
    assert (recorded["status"], recorded["error"]["code"]) == ("failed", "provider_error")


async def test_variables_that_would_render_too_much_are_a_422(lab: Lab) -> None:
    """Three nested loops over 300 items: 27 million iterations on the server's event
    loop, refused at the render's limit; the provider is not called, nothing recorded."""
    prompt = await lab.prompt("{% for a in xs %}{% for b in xs %}{% for c in xs %}{{ c }}"
                              "{% endfor %}{% endfor %}{% endfor %}")
    provider = await lab.provider()
    refused = await lab.execute(prompt=prompt, provider=provider, model="sim-gpt-mini",
                                variables={"xs": list(range(300))})
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert "would loop more than 100,000 times in all" in error["message"]
    assert error["details"]["errors"][0]["loc"] == ["body", "variables"]
    assert await lab.calls() == 0
    assert await lab.executions() == []


async def test_variables_json_could_not_carry_back_are_a_422(lab: Lab) -> None:
    """A lone surrogate (half an emoji) in a variable: it would be rendered, sent and
    recorded, and neither the provider's request nor the record can carry it."""
    prompt = await lab.prompt("Hi {{ name }}")
    provider = await lab.provider()
    body = (f'{{"prompt": "{prompt}", "version": 1, "provider": "{provider}", '
            '"model": "sim-gpt-mini", "variables": {"name": "Ada \\ud83d"}}')
    refused = await lab.client.post(f"{V1}/executions", content=body,
                                    headers={**lab.headers, "content-type": "application/json"})
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]["details"]["errors"][0]
    assert error["loc"][:2] == ["body", "variables"]
    assert "lone UTF-16 surrogate" in error["msg"]
    assert await lab.calls() == 0
    assert await lab.executions() == []


async def test_variables_holding_nul_are_a_422_before_the_call(lab: Lab) -> None:
    """The simulator (as many models) echoes its input: on PostgreSQL the record of the
    paid call then failed to store, a 500. Now the call is never made."""
    prompt = await lab.prompt("Hi {{ name }}")
    provider = await lab.provider()
    refused = await lab.execute(prompt=prompt, provider=provider, model="sim-gpt-mini",
                                variables={"name": ["Ada", {"nick": "A\x00"}]})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"]["errors"] == [{
        "loc": ["body", "variables", "name", 1, "nick"],
        "msg": "must not contain the NUL character (U+0000)"}]
    assert await lab.calls() == 0
    assert await lab.executions() == []
