"""Tenant isolation, generated from the route table.

Every ``/api/v1`` route with a path parameter is called, with every method it
accepts, by tenant A's admin against tenant B's resources. Each call must be a
``404 not_found`` (another tenant's resource is indistinguishable from a missing
one) and B's data must be untouched afterwards. New routes are covered
automatically; a route whose parameters the test cannot map fails the test, so
it cannot be skipped by accident.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, routing
from fastapi.routing import APIRoute

from tests.factories import V1, Api

PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")


@dataclass(frozen=True)
class TenantB:
    headers: dict[str, str]
    prompt: str
    key_id: str
    user_id: str
    provider: str
    execution_id: str
    trace_id: str
    golden_set: str
    run_id: str


async def _make_tenant_b(api: Api) -> TenantB:
    headers = await api.headers(tenant="beta", role="admin")
    prompt = (await api.create_prompt(headers, description="B's prompt", tags=["b"]))["name"]
    await api.create_version(headers, prompt, content="B says {{ hi }}")
    assert (await api.promote(headers, prompt, 1)).status_code == 200
    key = await api.client.post(f"{V1}/api-keys", headers=headers,
                                json={"name": "b-key", "role": "viewer"})
    assert key.status_code == 201, key.text
    user = await api.client.post(f"{V1}/users", headers=headers,
                                 json={"email": "bea@beta.example", "role": "editor"})
    assert user.status_code == 201, user.text
    provider = await api.client.post(f"{V1}/providers", headers=headers, json={
        "name": "b-sim", "kind": "simulator", "options": {"owner": "b"}})
    assert provider.status_code == 201, provider.text
    price = await api.client.put(f"{V1}/models/b-sim/sim-gpt-mini/price", headers=headers,
                                 json={"input_per_mtok_usd": 7, "output_per_mtok_usd": 9})
    assert price.status_code == 200, price.text
    execution = await api.client.post(f"{V1}/executions", headers=headers, json={
        "prompt": prompt, "label": "production", "provider": "b-sim", "model": "sim-gpt-mini",
        "variables": {"hi": "hello"}})
    assert execution.status_code == 201, execution.text
    golden_set = await api.client.post(f"{V1}/golden-sets", headers=headers,
                                       json={"name": "b-set", "description": "B's set"})
    assert golden_set.status_code == 201, golden_set.text
    items = await api.client.post(f"{V1}/golden-sets/b-set/items", headers=headers,
                                  json=[{"variables": {"hi": "there"}, "expected": "B"}])
    assert items.status_code == 201, items.text
    run = await api.client.post(f"{V1}/golden-sets/b-set/runs", headers=headers, json={
        "prompt": prompt, "versions": [1], "targets": [{"provider": "b-sim",
                                                         "model": "sim-gpt-mini"}]})
    assert run.status_code == 202, run.text
    run_id = run.json()["id"]
    for _ in range(200):  # B's run ends (in the app's worker) before A probes it
        status = (await api.client.get(f"{V1}/runs/{run_id}", headers=headers)).json()
        if status["status"] == "succeeded":
            break
        await asyncio.sleep(0.05)
    assert status["status"] == "succeeded", status
    return TenantB(headers=headers, prompt=prompt, key_id=key.json()["id"],
                   user_id=user.json()["id"], provider="b-sim",
                   execution_id=execution.json()["id"], trace_id=execution.json()["trace_id"],
                   golden_set="b-set", run_id=run_id)


def _param_values(b: TenantB) -> dict[tuple[str, str], str]:
    """(resource segment before the parameter, parameter name) -> tenant B's value."""
    return {
        ("prompts", "name"): b.prompt,
        ("versions", "number"): "1",
        ("api-keys", "id"): b.key_id,
        ("users", "id"): b.user_id,
        ("providers", "name"): b.provider,
        ("models", "provider"): b.provider,
        ("models", "model"): "sim-gpt-mini",
        ("executions", "id"): b.execution_id,
        ("traces", "trace_id"): b.trace_id,
        ("golden-sets", "name"): b.golden_set,
        ("runs", "id"): b.run_id,
    }


def _parameterised_routes(app: FastAPI) -> list[tuple[str, set[str]]]:
    """(full path, methods) of every /api/v1 API route with a path parameter.

    FastAPI >= 0.137 keeps included routers as a tree in ``app.routes`` (the
    ``APIRoute`` objects are no longer copied to the top level with their prefix),
    so walk it with ``iter_route_contexts``, which yields each route with its
    full path; older versions have a flat list of ``APIRoute``.
    """
    found: list[tuple[str, set[str]]] = []
    if hasattr(routing, "iter_route_contexts"):
        for context in routing.iter_route_contexts(app.routes):
            if isinstance(context.original_route, APIRoute):
                found.append((context.path, set(context.methods or ())))
    else:  # pragma: no cover - FastAPI < 0.137
        found = [(r.path, set(r.methods)) for r in app.routes if isinstance(r, APIRoute)]
    return sorted((path, methods) for path, methods in found
                  if path.startswith(f"{V1}/") and PARAM.search(path))


def _fill(path: str, values: dict[tuple[str, str], str]) -> tuple[str, list[str]]:
    """The path with B's values, and the (segment, param) pairs nobody mapped."""
    segments = path.split("/")
    unmapped: list[str] = []
    previous = ""
    for i, segment in enumerate(segments):
        match = PARAM.fullmatch(segment)
        if match is None:
            previous = segment
            continue
        key = (previous, match.group(1))
        if key not in values:
            unmapped.append(f"{key!r} in {path}")
            continue
        segments[i] = values[key]
    return "/".join(segments), unmapped


async def _snapshot(api: Api, b: TenantB) -> dict[str, Any]:
    """What tenant B sees of the resources tenant A attacked."""
    prompt = (await api.client.get(f"{V1}/prompts/{b.prompt}", headers=b.headers)).json()
    version = (await api.client.get(f"{V1}/prompts/{b.prompt}/versions/1",
                                    headers=b.headers)).json()
    production = await api.client.get(f"{V1}/prompts/{b.prompt}/production",
                                      headers=b.headers)
    promotions = (await api.client.get(f"{V1}/prompts/{b.prompt}/promotions",
                                       headers=b.headers)).json()
    keys = (await api.client.get(f"{V1}/api-keys", headers=b.headers, params={"limit": 200}))
    users = (await api.client.get(f"{V1}/users", headers=b.headers, params={"limit": 200}))
    provider = (await api.client.get(f"{V1}/providers/{b.provider}", headers=b.headers)).json()
    models = (await api.client.get(f"{V1}/models", headers=b.headers)).json()
    execution = (await api.client.get(f"{V1}/executions/{b.execution_id}",
                                      headers=b.headers)).json()
    spans = (await api.client.get(f"{V1}/traces/{b.trace_id}", headers=b.headers)).json()
    golden_set = (await api.client.get(f"{V1}/golden-sets/{b.golden_set}",
                                       headers=b.headers)).json()
    golden_items = (await api.client.get(f"{V1}/golden-sets/{b.golden_set}/items",
                                         headers=b.headers)).json()
    run = (await api.client.get(f"{V1}/runs/{b.run_id}", headers=b.headers)).json()
    results = (await api.client.get(f"{V1}/runs/{b.run_id}/results", headers=b.headers)).json()
    return {
        "run": {k: run.get(k) for k in ("status", "progress", "summary", "finished_at")},
        "results": results,
        "golden_set": golden_set,
        "golden_items": golden_items,
        "execution": execution,
        "spans": spans,
        "provider": {k: provider.get(k) for k in ("kind", "options", "enabled_models",
                                                   "updated_at")},
        "prices": {m["model"]: (m["input_per_mtok_usd"], m["price_source"])
                   for m in models["data"]},
        "prompt": {k: prompt.get(k) for k in ("name", "description", "tags",
                                               "production_version", "latest_version",
                                               "updated_at")},
        "version": {k: version.get(k) for k in ("number", "status", "content")},
        "production": (production.status_code, production.json().get("number")),
        "promotions": [p["version"] for p in promotions["data"]],
        "keys": {k["id"]: (k["role"], k["revoked_at"]) for k in keys.json()["data"]},
        "users": {u["id"]: (u["email"], u["role"]) for u in users.json()["data"]},
    }


async def test_other_tenants_resources_are_invisible_on_every_route(api: Api) -> None:
    b = await _make_tenant_b(api)
    before = await _snapshot(api, b)
    assert before["prompt"]["production_version"] == 1
    assert before["production"] == (200, 1)
    assert before["keys"][b.key_id] == ("viewer", None)
    assert before["users"][b.user_id] == ("bea@beta.example", "editor")

    a = await api.headers(tenant="alpha", role="admin")
    # Tenant A has resources of its own, so its token works and its lists are not empty.
    await api.create_prompt(a)

    routes = _parameterised_routes(api.app)
    assert routes, "the route table has no /api/v1 routes with path parameters"
    values = _param_values(b)
    unmapped: list[str] = []
    findings: list[str] = []
    exercised: list[str] = []
    for template, methods in routes:
        path, missing = _fill(template, values)
        if missing:
            unmapped += missing
            continue
        for method in sorted(methods):
            body = {"json": {}} if method in ("POST", "PATCH", "PUT") else {}
            response = await api.client.request(method, path, headers=a, **body)
            exercised.append(f"{method} {template}")
            try:
                code = response.json()["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = None
            if (response.status_code, code) != (404, "not_found"):
                findings.append(f"{method} {template} -> {response.status_code} "
                                f"{response.text[:200]}")

    assert not unmapped, (
        "tests/api/test_tenant_isolation.py does not know which of tenant B's resources to "
        "use for these path parameters; add a (segment, parameter) mapping to "
        f"_param_values() (and create the resource in _make_tenant_b()): {unmapped}")
    assert not findings, "tenant A reached tenant B's resources:\n" + "\n".join(findings)

    for expected in (f"GET {V1}/prompts/{{name}}", f"DELETE {V1}/prompts/{{name}}",
                     f"PATCH {V1}/prompts/{{name}}",
                     f"POST {V1}/prompts/{{name}}/versions",
                     f"GET {V1}/prompts/{{name}}/versions/{{number}}",
                     f"POST {V1}/prompts/{{name}}/versions/{{number}}/promote",
                     f"POST {V1}/prompts/{{name}}/versions/{{number}}/archive",
                     f"GET {V1}/prompts/{{name}}/production",
                     f"DELETE {V1}/api-keys/{{id}}",
                     f"PATCH {V1}/users/{{id}}", f"DELETE {V1}/users/{{id}}",
                     f"GET {V1}/providers/{{name}}", f"PATCH {V1}/providers/{{name}}",
                     f"DELETE {V1}/providers/{{name}}",
                     f"PUT {V1}/models/{{provider}}/{{model:path}}/price",
                     f"DELETE {V1}/models/{{provider}}/{{model:path}}/price",
                     f"GET {V1}/executions/{{id}}", f"GET {V1}/traces/{{trace_id}}",
                     f"GET {V1}/golden-sets/{{name}}", f"DELETE {V1}/golden-sets/{{name}}",
                     f"GET {V1}/golden-sets/{{name}}/items",
                     f"POST {V1}/golden-sets/{{name}}/items"):
        assert expected in exercised, f"{expected} was not exercised: {exercised}"

    after = await _snapshot(api, b)
    assert after == before
    # B's admin key still authenticates, and B can still work with its prompt.
    assert (await api.client.get(f"{V1}/me", headers=b.headers)).status_code == 200
    assert (await api.create_version(b.headers, b.prompt))["number"] == 2


async def test_lists_only_show_own_tenant(api: Api) -> None:
    b = await _make_tenant_b(api)
    a = await api.headers(tenant="alpha", role="admin")
    mine = (await api.create_prompt(a))["name"]
    prompts = (await api.client.get(f"{V1}/prompts", headers=a)).json()["data"]
    assert [p["name"] for p in prompts] == [mine]
    keys = (await api.client.get(f"{V1}/api-keys", headers=a)).json()["data"]
    assert b.key_id not in {k["id"] for k in keys}
    assert keys  # A's own admin key
    users = (await api.client.get(f"{V1}/users", headers=a)).json()["data"]
    assert b.user_id not in {u["id"] for u in users}
    for path in ("/executions", "/traces"):
        listed = await api.client.get(f"{V1}{path}", headers=a)
        assert listed.status_code == 200
        assert listed.json()["data"] == []
        assert (await api.client.get(f"{V1}{path}", headers=b.headers)).json()["data"]
