"""The role matrix, built from the app's own route table.

Every ``/api/v1`` route declares its permission through ``deps.require``; the
matrix reads that declaration from each route's dependency tree and calls the
route as viewer, editor and admin. A role without the permission must get
``403 forbidden``; a role with it must get through (for the routes whose request
this file knows how to build: a success status). A route added without any
permission fails ``test_every_route_declares_a_permission``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from scope_api.app import create_app
from scope_api.config import Settings
from scope_api.deps import get_principal, require
from scope_api.security.permissions import Role, permissions_for
from tests.conftest import JWT_KEY
from tests.factories import V1, Api, unique_name

ROLES = [role.value for role in Role]

#: Routes anyone may call, without a token.
PUBLIC = {
    ("POST", f"{V1}/auth/token"), ("POST", f"{V1}/auth/refresh"), ("GET", f"{V1}/health"),
    ("GET", f"{V1}/auth/sso/login"), ("GET", f"{V1}/auth/sso/callback"),
    ("GET", "/.well-known/jwks.json"),
}
#: Routes any authenticated principal may call, whatever its role.
ANY_ROLE = {("GET", f"{V1}/me")}

_REQUIRE_CODE = require("any").__code__


def _permissions(dependant: Dependant) -> set[str]:
    """Permissions demanded by ``require(...)`` anywhere in a dependency tree."""
    found: set[str] = set()
    for dependency in dependant.dependencies:
        call = dependency.call
        if getattr(call, "__code__", None) is _REQUIRE_CODE:
            assert call is not None
            found.add(inspect.getclosurevars(call).nonlocals["permission"])
        found |= _permissions(dependency)
    return found


def _needs_principal(dependant: Dependant) -> bool:
    return any(d.call is get_principal or getattr(d.call, "__code__", None) is _REQUIRE_CODE
               or _needs_principal(d) for d in dependant.dependencies)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    permissions: frozenset[str]
    authenticated: bool

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _api_routes(app: FastAPI) -> Iterator[tuple[str, set[str], Dependant]]:
    """(path, methods, dependency tree) of every FastAPI route, prefixes applied."""
    try:  # FastAPI ≥ 0.16x keeps included routers as nodes; this flattens them
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI copies routes into app.routes
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield route.path, set(route.methods or ()), route.dependant
        return
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield str(context.path), set(context.methods or ()), context.dependant


def _route_table() -> list[Endpoint]:
    # Building the app reads no database and opens nothing: routes are fixed in create_app.
    app = create_app(Settings(database_url="sqlite://", jwt_keys=[JWT_KEY]))
    return [Endpoint(method, path, frozenset(_permissions(dependant)),
                     _needs_principal(dependant))
            for path, methods, dependant in _api_routes(app) for method in sorted(methods)]


ROUTES = _route_table()
GUARDED = [e for e in ROUTES if e.permissions]


def test_every_route_declares_a_permission() -> None:
    assert len(GUARDED) >= 20  # prompts, versions, api keys, users at least
    assert {(e.method, e.path) for e in ROUTES} >= ANY_ROLE | {("POST", f"{V1}/auth/token")}
    for endpoint in ROUTES:
        key = (endpoint.method, endpoint.path)
        if key in PUBLIC:
            assert not endpoint.authenticated, f"{endpoint} is public but asks for a token"
        elif key in ANY_ROLE:
            assert endpoint.authenticated, f"{endpoint} must need a token"
        else:
            assert endpoint.permissions, f"{endpoint} has no require(...) permission"
            assert endpoint.authenticated


# --- calling each route ----------------------------------------------------------------

#: Version numbers per route, given the prompt built by ``_prepare_prompt``:
#: 1 published, 2 draft, 3 archived.
_VERSION_FOR = {"promote": 2, "unarchive": 3}


def _body(endpoint: Endpoint) -> Any:
    """A valid request body for the routes this file knows; ``None`` for the rest."""
    bodies: dict[tuple[str, str], Any] = {
        ("POST", f"{V1}/prompts"): {"name": unique_name("matrix")},
        ("PATCH", f"{V1}/prompts/{{name}}"): {"description": "changed"},
        ("POST", f"{V1}/prompts/{{name}}/versions"): {"content": "Hi {{ who }}"},
        ("POST", f"{V1}/prompts/{{name}}/versions/{{number}}/promote"): {"reason": "matrix"},
        ("POST", f"{V1}/api-keys"): {"name": "matrix", "role": "viewer"},
        ("POST", f"{V1}/users"): {"email": f"{unique_name('user')}@example.com",
                                  "role": "viewer"},
        ("PATCH", f"{V1}/users/{{id}}"): {"role": "editor"},
        ("POST", f"{V1}/providers"): {"name": unique_name("matrix"), "kind": "simulator"},
        ("PATCH", f"{V1}/providers/{{name}}"): {"enabled_models": ["sim-gpt-mini"]},
        ("PUT", f"{V1}/models/{{provider}}/{{model:path}}/price"): {
            "input_per_mtok_usd": 1, "output_per_mtok_usd": 2},
        ("POST", f"{V1}/executions"): {
            "prompt": _EXEC_PROMPT, "label": "production", "provider": _EXEC_PROVIDER,
            "model": "sim-gpt-mini", "variables": {"who": "matrix"}},
        ("POST", f"{V1}/golden-sets"): {"name": unique_name("matrix")},
        ("POST", f"{V1}/golden-sets/{{name}}/items"): [{"variables": {"who": "matrix"}}],
    }
    return bodies.get((endpoint.method, endpoint.path))


#: Routes whose request this file can build completely: the allowed role must succeed.
KNOWN = {
    ("GET", f"{V1}/prompts"), ("POST", f"{V1}/prompts"), ("GET", f"{V1}/prompts/{{name}}"),
    ("PATCH", f"{V1}/prompts/{{name}}"), ("DELETE", f"{V1}/prompts/{{name}}"),
    ("GET", f"{V1}/prompts/{{name}}/versions"), ("POST", f"{V1}/prompts/{{name}}/versions"),
    ("GET", f"{V1}/prompts/{{name}}/versions/{{number}}"),
    ("POST", f"{V1}/prompts/{{name}}/versions/{{number}}/promote"),
    ("POST", f"{V1}/prompts/{{name}}/versions/{{number}}/archive"),
    ("POST", f"{V1}/prompts/{{name}}/versions/{{number}}/unarchive"),
    ("GET", f"{V1}/prompts/{{name}}/promotions"), ("GET", f"{V1}/prompts/{{name}}/production"),
    ("GET", f"{V1}/api-keys"), ("POST", f"{V1}/api-keys"), ("DELETE", f"{V1}/api-keys/{{id}}"),
    ("GET", f"{V1}/users"), ("POST", f"{V1}/users"), ("PATCH", f"{V1}/users/{{id}}"),
    ("DELETE", f"{V1}/users/{{id}}"),
    ("GET", f"{V1}/providers"), ("POST", f"{V1}/providers"),
    ("GET", f"{V1}/providers/{{name}}"), ("PATCH", f"{V1}/providers/{{name}}"),
    ("DELETE", f"{V1}/providers/{{name}}"), ("GET", f"{V1}/models"),
    ("PUT", f"{V1}/models/{{provider}}/{{model:path}}/price"),
    ("DELETE", f"{V1}/models/{{provider}}/{{model:path}}/price"),
    ("POST", f"{V1}/executions"), ("GET", f"{V1}/executions"),
    ("GET", f"{V1}/executions/{{id}}"), ("GET", f"{V1}/traces"),
    ("GET", f"{V1}/traces/{{trace_id}}"),
    ("GET", f"{V1}/golden-sets"), ("POST", f"{V1}/golden-sets"),
    ("GET", f"{V1}/golden-sets/{{name}}"), ("DELETE", f"{V1}/golden-sets/{{name}}"),
    ("GET", f"{V1}/golden-sets/{{name}}/items"), ("POST", f"{V1}/golden-sets/{{name}}/items"),
}

#: The prompt and provider ``POST /executions`` runs (made by ``_execution_target``).
_EXEC_PROMPT = "matrix-exec"
_EXEC_PROVIDER = "matrix-sim"


async def _prepare_prompt(api: Api, admin: dict[str, str]) -> str:
    prompt: str = (await api.create_prompt(admin, tags=["matrix"]))["name"]
    for _ in range(3):
        await api.create_version(admin, prompt)
    assert (await api.promote(admin, prompt, 1)).status_code == 200
    archived = await api.client.post(f"{V1}/prompts/{prompt}/versions/3/archive", headers=admin)
    assert archived.status_code == 200
    return prompt


async def _path_params(api: Api, admin: dict[str, str], endpoint: Endpoint) -> dict[str, Any]:
    """Existing resources of the tenant for every path parameter (fresh per call)."""
    params: dict[str, Any] = {}
    if endpoint.path.startswith(f"{V1}/prompts/{{name}}"):
        params["name"] = await _prepare_prompt(api, admin)
    if "{number}" in endpoint.path:
        params["number"] = _VERSION_FOR.get(endpoint.path.rsplit("/", 1)[-1], 1)
    if endpoint.path.startswith(f"{V1}/api-keys/{{id}}"):
        created = await api.client.post(f"{V1}/api-keys", json={"name": "x", "role": "viewer"},
                                        headers=admin)
        params["id"] = created.json()["id"]
    elif endpoint.path.startswith(f"{V1}/users/{{id}}"):
        created = await api.client.post(f"{V1}/users", headers=admin, json={
            "email": f"{unique_name('user')}@example.com", "role": "viewer"})
        params["id"] = created.json()["id"]
    if endpoint.path.startswith((f"{V1}/providers/{{name}}", f"{V1}/models/{{provider}}")):
        provider = unique_name("matrix")
        created = await api.client.post(f"{V1}/providers", headers=admin,
                                        json={"name": provider, "kind": "simulator"})
        assert created.status_code == 201, created.text
        params["name" if "{name}" in endpoint.path else "provider"] = provider
        if "{model" in endpoint.path:  # with a price, so that DELETE has one to remove
            params["model"] = "sim-gpt-mini"
            priced = await api.client.put(f"{V1}/models/{provider}/sim-gpt-mini/price",
                                          headers=admin, json={"input_per_mtok_usd": 1,
                                                               "output_per_mtok_usd": 2})
            assert priced.status_code == 200, priced.text
    if endpoint.path.startswith((f"{V1}/executions", f"{V1}/traces/")):
        await _execution_target(api, admin)
        if "{" in endpoint.path:  # an execution of the tenant, and its trace
            executed = await api.client.post(f"{V1}/executions", headers=admin, json=_body(
                Endpoint("POST", f"{V1}/executions", frozenset(), True)))
            assert executed.status_code == 201, executed.text
            params.update(id=executed.json()["id"], trace_id=executed.json()["trace_id"])
    if endpoint.path.startswith(f"{V1}/golden-sets/{{name}}"):  # a set with one item
        params["name"] = unique_name("matrix")
        created = await api.client.post(f"{V1}/golden-sets", headers=admin,
                                        json={"name": params["name"]})
        assert created.status_code == 201, created.text
        filled = await api.client.post(f"{V1}/golden-sets/{params['name']}/items",
                                       headers=admin, json=[{"variables": {"who": "x"}}])
        assert filled.status_code == 201, filled.text
    for name in _placeholders(endpoint.path):
        params.setdefault(name, "missing")  # a route this file does not know yet
    return params


async def _execution_target(api: Api, admin: dict[str, str]) -> None:
    """The published prompt and simulator provider ``POST /executions`` uses (once)."""
    prompt = await api.client.get(f"{V1}/prompts/{_EXEC_PROMPT}", headers=admin)
    if prompt.status_code == 200:
        return
    await api.create_prompt(admin, name=_EXEC_PROMPT)
    await api.create_version(admin, _EXEC_PROMPT, content="Hi {{ who }}")
    assert (await api.promote(admin, _EXEC_PROMPT, 1)).status_code == 200
    created = await api.client.post(f"{V1}/providers", headers=admin,
                                    json={"name": _EXEC_PROVIDER, "kind": "simulator"})
    assert created.status_code == 201, created.text


def _placeholders(path: str) -> list[str]:
    """Parameter names, without a converter (``{model:path}`` is ``model``)."""
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]


async def _call(api: Api, endpoint: Endpoint, headers: dict[str, str],
                params: dict[str, Any]) -> httpx.Response:
    path = re.sub(r"\{(\w+):\w+\}", r"{\1}", endpoint.path)  # drop converters
    return await api.client.request(endpoint.method, path.format(**params),
                                    json=_body(endpoint), headers=headers)


@pytest.mark.parametrize("endpoint", GUARDED, ids=str)
async def test_role_matrix(api: Api, endpoint: Endpoint) -> None:
    admin = await api.headers(role="admin")
    headers = {role: await api.headers(role=role) for role in ROLES}
    for role in ROLES:
        allowed = endpoint.permissions <= permissions_for(role)
        response = await _call(api, endpoint, headers[role],
                               await _path_params(api, admin, endpoint))
        if not allowed:
            assert response.status_code == 403, f"{role}: {response.text}"
            error = response.json()["error"]
            assert error["code"] == "forbidden"
            assert error["details"]["permission"] in endpoint.permissions
        elif (endpoint.method, endpoint.path) in KNOWN:
            assert 200 <= response.status_code < 300, f"{role}: {response.text}"
        else:
            assert response.status_code not in (401, 403), f"{role}: {response.text}"


def test_matrix_is_not_vacuous() -> None:
    """The table really holds the routes whose rules matter most."""
    admin_only = [e for e in GUARDED if e.permissions & {"api_keys:manage", "users:manage"}]
    writes = [e for e in GUARDED if "prompts:write" in e.permissions]
    reads = [e for e in GUARDED if e.permissions == {"prompts:read"}]
    assert {str(e) for e in admin_only} >= {
        f"GET {V1}/api-keys", f"POST {V1}/api-keys", f"DELETE {V1}/api-keys/{{id}}",
        f"GET {V1}/users", f"POST {V1}/users", f"PATCH {V1}/users/{{id}}",
        f"DELETE {V1}/users/{{id}}"}
    assert len(writes) >= 7
    assert len(reads) >= 6
    for role in ROLES:  # every role is allowed somewhere, and all but admin refused somewhere
        assert any(e.permissions <= permissions_for(role) for e in GUARDED)
        assert role == "admin" or any(not e.permissions <= permissions_for(role)
                                      for e in GUARDED)


# --- the rules people rely on, spelled out ---------------------------------------------

async def test_viewer_cannot_change_prompts_or_versions(api: Api) -> None:
    admin = await api.headers(role="admin")
    viewer = await api.headers(role="viewer")
    prompt = await _prepare_prompt(api, admin)
    attempts = [
        ("POST", f"{V1}/prompts", {"name": "new-one"}),
        ("PATCH", f"{V1}/prompts/{prompt}", {"description": "x"}),
        ("DELETE", f"{V1}/prompts/{prompt}", None),
        ("POST", f"{V1}/prompts/{prompt}/versions", {"content": "x"}),
        ("POST", f"{V1}/prompts/{prompt}/versions/2/promote", None),
        ("POST", f"{V1}/prompts/{prompt}/versions/1/archive", None),
        ("POST", f"{V1}/prompts/{prompt}/versions/3/unarchive", None),
    ]
    for method, path, body in attempts:
        response = await api.client.request(method, path, json=body, headers=viewer)
        assert response.status_code == 403, f"{method} {path}: {response.text}"
        assert response.json()["error"]["code"] == "forbidden"

    # Nothing changed, and the viewer can still read all of it.
    view = await api.client.get(f"{V1}/prompts/{prompt}", headers=viewer)
    assert view.status_code == 200
    assert (view.json()["production_version"], view.json()["latest_version"]) == (1, 3)
    assert view.json()["description"] == ""
    listed = await api.client.get(f"{V1}/prompts", headers=viewer)
    assert [p["name"] for p in listed.json()["data"]] == [prompt]
    production = await api.client.get(f"{V1}/prompts/{prompt}/production", headers=viewer)
    assert production.json()["number"] == 1


async def test_editor_cannot_manage_api_keys_or_users(api: Api) -> None:
    admin = await api.headers(role="admin")
    editor = await api.headers(role="editor")
    key = (await api.client.post(f"{V1}/api-keys", json={"name": "k", "role": "viewer"},
                                 headers=admin)).json()
    user = (await api.client.post(f"{V1}/users", json={"email": "a@example.com",
                                                       "role": "viewer"}, headers=admin)).json()
    attempts = [
        ("GET", f"{V1}/api-keys", None),
        ("POST", f"{V1}/api-keys", {"name": "mine", "role": "admin"}),
        ("DELETE", f"{V1}/api-keys/{key['id']}", None),
        ("GET", f"{V1}/users", None),
        ("POST", f"{V1}/users", {"email": "b@example.com", "role": "admin"}),
        ("PATCH", f"{V1}/users/{user['id']}", {"role": "admin"}),
        ("DELETE", f"{V1}/users/{user['id']}", None),
    ]
    for method, path, body in attempts:
        response = await api.client.request(method, path, json=body, headers=editor)
        assert response.status_code == 403, f"{method} {path}: {response.text}"
        assert response.json()["error"]["code"] == "forbidden"
        assert "secret" not in response.text

    # The key still works and the user is unchanged: the refusals had no effect.
    await api.tokens(key["secret"])
    users = (await api.client.get(f"{V1}/users", headers=admin)).json()["data"]
    assert [(u["email"], u["role"]) for u in users] == [("a@example.com", "viewer")]
    keys = (await api.client.get(f"{V1}/api-keys", headers=admin)).json()["data"]
    assert "mine" not in {k["name"] for k in keys}


async def test_editor_can_write_prompts_and_promote(api: Api) -> None:
    editor = await api.headers(role="editor")
    prompt = (await api.create_prompt(editor))["name"]
    await api.create_version(editor, prompt)
    assert (await api.promote(editor, prompt, 1)).status_code == 200
    deleted = await api.client.delete(f"{V1}/prompts/{prompt}", headers=editor)
    assert deleted.status_code == 204
