"""Providers, their encrypted keys, the base-URL policy, the model catalog and price overrides.

Every test that uses ``api`` runs on SQLite and PostgreSQL; keys are random per
test so a search for one finds nothing but what this test stored.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import secrets
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, pool, select, text
from sqlalchemy.engine import make_url

from scope_api.app import create_app
from scope_api.config import Settings
from scope_api.models import Base, Provider
from scope_api.providers import url_safety
from scope_api.providers.catalog import cost_usd, load_catalog
from scope_api.security.crypto import DecryptionError, SecretBox, generate_master_key_spec
from scope_api.services import providers as provider_service
from tests.factories import V1, Api
from tests.live import base_env, scope_command

OLD_KEY = generate_master_key_spec("old")
NEW_KEY = generate_master_key_spec("new")


def provider_key() -> str:
    return f"sk-test-{secrets.token_urlsafe(24)}"


@asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[Api]:
    """Another app (other settings) on the same database, with its own client."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://scope.test") as c:
            yield Api(app, c)


async def create(api: Api, headers: dict[str, str], expect: int = 201,
                 **body: Any) -> httpx.Response:
    response = await api.client.post(f"{V1}/providers", json=body, headers=headers)
    assert response.status_code == expect, response.text
    return response


def error_messages(response: httpx.Response) -> str:
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    return " | ".join([error["message"], *(e["msg"] for e in error["details"]["errors"])])


def dump_database(url: str) -> str:
    """Every value of every application table, as text."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return "\n".join(repr(tuple(row)) for table in Base.metadata.sorted_tables
                             for row in conn.execute(table.select()))
    finally:
        engine.dispose()


def stored_ciphertexts(url: str) -> dict[str, str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT name, api_key_ciphertext FROM providers "
                                     "WHERE api_key_ciphertext IS NOT NULL"))
            return {row[0]: row[1] for row in rows}
    finally:
        engine.dispose()


def decrypt_all(api: Api, box: SecretBox) -> dict[str, str | None]:
    with api.context.database.unit_of_work(write=False) as session:
        return {p.name: provider_service.api_key_of(p, box)
                for p in session.scalars(select(Provider))}


# --- CRUD ------------------------------------------------------------------------------

async def test_create_read_list_update_delete(api: Api) -> None:
    admin = await api.headers(role="admin")
    sim = (await create(api, admin, name="sim", kind="simulator")).json()
    assert sim == {**sim, "name": "sim", "kind": "simulator", "base_url": None,
                   "has_api_key": False, "api_key_hint": None, "enabled_models": [],
                   "options": {}}
    key = provider_key()
    main = (await create(api, admin, name="openai-main", kind="openai", api_key=key,
                         enabled_models=["gpt-4o-mini"], options={"org": "x"})).json()
    assert (main["has_api_key"], main["api_key_hint"]) == (True, f"…{key[-4:]}")

    duplicate = await create(api, admin, expect=409, name="sim", kind="simulator")
    assert duplicate.json()["error"]["code"] == "conflict"

    listed = (await api.client.get(f"{V1}/providers", headers=admin)).json()
    assert [p["name"] for p in listed["data"]] == ["openai-main", "sim"]
    paged = (await api.client.get(f"{V1}/providers", params={"limit": 1},
                                  headers=admin)).json()
    assert [p["name"] for p in paged["data"]] == ["openai-main"]
    rest = (await api.client.get(f"{V1}/providers", headers=admin,
                                 params={"limit": 1, "cursor": paged["next_cursor"]})).json()
    assert [p["name"] for p in rest["data"]] == ["sim"]

    patched = await api.client.patch(f"{V1}/providers/openai-main", headers=admin,
                                     json={"enabled_models": ["gpt-4o", "gpt-4o-mini"],
                                           "options": {"org": "y"}})
    assert patched.status_code == 200, patched.text
    got = (await api.client.get(f"{V1}/providers/openai-main", headers=admin)).json()
    assert got["enabled_models"] == ["gpt-4o", "gpt-4o-mini"]
    assert got["options"] == {"org": "y"}
    assert got["api_key_hint"] == f"…{key[-4:]}"  # untouched by a PATCH without api_key
    assert got["updated_at"] >= main["updated_at"]

    for field in ({"name": "renamed"}, {"kind": "anthropic"}):
        refused = await api.client.patch(f"{V1}/providers/openai-main", headers=admin,
                                         json=field)
        assert refused.status_code == 422, refused.text

    assert (await api.client.delete(f"{V1}/providers/sim", headers=admin)).status_code == 204
    gone = await api.client.get(f"{V1}/providers/sim", headers=admin)
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "not_found")
    assert (await api.client.delete(f"{V1}/providers/sim", headers=admin)).status_code == 404
    # The name is free again.
    await create(api, admin, name="sim", kind="simulator")


@pytest.mark.parametrize(("body", "field", "needle"), [
    ({"kind": "openai"}, "api_key", "needs an api_key"),
    ({"kind": "anthropic"}, "api_key", "needs an api_key"),
    ({"kind": "gemini"}, "api_key", "needs an api_key"),
    ({"kind": "azure_openai", "api_key": "k" * 32}, "base_url", "needs a base_url"),
    ({"kind": "azure_openai", "base_url": "https://1.1.1.1"}, "api_key", "needs an api_key"),
    ({"kind": "openai_compatible"}, "base_url", "needs a base_url"),
    ({"kind": "simulator", "api_key": "k" * 32}, "api_key", "takes no api_key"),
    ({"kind": "simulator", "base_url": "https://1.1.1.1"}, "base_url", "takes no base_url"),
    ({"kind": "bedrock", "api_key": "k" * 32}, "kind", "Input should be"),
    ({"kind": "openai", "api_key": "short"}, "api_key", "8 to 4096 printable"),
    ({"kind": "openai", "api_key": "has a space in it"}, "api_key", "without spaces"),
    ({"kind": "simulator", "enabled_models": ["a", "a"]}, "enabled_models", "twice"),
    ({"kind": "simulator", "enabled_models": ["bad model"]}, "enabled_models", "pattern"),
    ({"kind": "simulator", "options": {"x": "y" * 9000}}, "options", "8192 bytes"),
    ({"kind": "simulator", "surprise": 1}, "surprise", "Extra inputs"),
])
async def test_each_kind_gets_what_it_needs(api: Api, body: dict[str, Any], field: str,
                                            needle: str) -> None:
    admin = await api.headers(role="admin")
    response = await create(api, admin, expect=422, name="p1", **body)
    assert needle in error_messages(response)
    assert any(field in e["loc"] for e in response.json()["error"]["details"]["errors"])
    if "api_key" in body:
        assert body["api_key"] not in response.text
    assert (await api.client.get(f"{V1}/providers", headers=admin)).json()["data"] == []


async def test_valid_configurations_of_every_kind(api: Api) -> None:
    admin = await api.headers(role="admin")
    await create(api, admin, name="a", kind="openai", api_key=provider_key())
    await create(api, admin, name="b", kind="anthropic", api_key=provider_key())
    await create(api, admin, name="c", kind="gemini", api_key=provider_key())
    azure = await create(api, admin, name="d", kind="azure_openai", api_key=provider_key(),
                         base_url="https://1.1.1.1/openai/", options={"api_version": "x"})
    assert azure.json()["base_url"] == "https://1.1.1.1/openai"  # trailing slash dropped
    compatible = await create(api, admin, name="e", kind="openai_compatible",
                              base_url="https://1.1.1.1/v1")
    assert compatible.json()["has_api_key"] is False
    await create(api, admin, name="f", kind="simulator")
    # openai with a proxy base_url, and keys clear or stay required per kind.
    await create(api, admin, name="g", kind="openai", api_key=provider_key(),
                 base_url="https://1.1.1.1")
    cleared = await api.client.patch(f"{V1}/providers/e", headers=admin,
                                     json={"api_key": provider_key()})
    assert cleared.json()["has_api_key"] is True
    cleared = await api.client.patch(f"{V1}/providers/e", headers=admin, json={"api_key": None})
    assert (cleared.json()["has_api_key"], cleared.json()["api_key_hint"]) == (False, None)
    needs = await api.client.patch(f"{V1}/providers/a", headers=admin, json={"api_key": None})
    assert "needs an api_key" in error_messages(needs)
    needs = await api.client.patch(f"{V1}/providers/d", headers=admin, json={"base_url": None})
    assert "needs a base_url" in error_messages(needs)
    proxy = await api.client.patch(f"{V1}/providers/g", headers=admin, json={"base_url": None})
    assert proxy.json()["base_url"] is None


# --- the key is write-only and encrypted ------------------------------------------------

async def test_api_key_never_leaves_the_server(api: Api, database_url: str) -> None:
    admin = await api.headers(role="admin")
    viewer = await api.headers(role="viewer")
    first, second = provider_key(), provider_key()
    seen: list[httpx.Response] = [
        await create(api, admin, name="main", kind="openai", api_key=first),
        await create(api, admin, expect=409, name="main", kind="openai", api_key=first),
        await api.client.get(f"{V1}/providers/main", headers=admin),
        await api.client.get(f"{V1}/providers", headers=viewer),
        await api.client.patch(f"{V1}/providers/main", headers=admin,
                               json={"enabled_models": ["gpt-4o"]}),
        await api.client.patch(f"{V1}/providers/main", headers=admin, json={"api_key": second}),
        await api.client.patch(f"{V1}/providers/main", headers=viewer,
                               json={"api_key": second}),
        await api.client.get(f"{V1}/models", headers=viewer),
    ]
    for response in seen:
        assert first not in response.text, response.text
        assert second not in response.text, response.text
        assert "api_key_ciphertext" not in response.text
    replaced = seen[5].json()
    assert replaced["api_key_hint"] == f"…{second[-4:]}"
    assert len(replaced["api_key_hint"]) == 5
    schema = (await api.client.get(f"{V1}/openapi.json")).json()["components"]["schemas"]
    assert "api_key" not in schema["ProviderOut"]["properties"]

    # The database holds ciphertext only, and it decrypts to the latest key.
    dump = dump_database(database_url)
    for plaintext in (first, second, first[-12:], second[-12:]):
        assert plaintext not in dump
    stored = stored_ciphertexts(database_url)["main"]
    assert stored.startswith(f"v1:{api.context.secrets.active_kid}:")
    assert decrypt_all(api, api.context.secrets) == {"main": second}
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":  # not even in the file's free pages or WAL
        for path in Path(str(url.database)).parent.glob("scope.db*"):
            raw = path.read_bytes()
            assert first.encode() not in raw, path
            assert second.encode() not in raw, path


async def test_a_short_key_gets_no_characters_in_its_hint(api: Api) -> None:
    admin = await api.headers(role="admin")
    body = (await create(api, admin, name="p", kind="openai", api_key="abcdefghij")).json()
    assert (body["has_api_key"], body["api_key_hint"]) == (True, "…")


async def test_ciphertext_is_bound_to_its_row(api: Api, database_url: str) -> None:
    admin = await api.headers(role="admin")
    await create(api, admin, name="a", kind="openai", api_key=provider_key())
    await create(api, admin, name="b", kind="openai", api_key=provider_key())
    stolen = stored_ciphertexts(database_url)["a"]
    engine = create_engine(database_url, poolclass=pool.NullPool)
    with engine.begin() as conn:  # an attacker with write access copies a's key into b
        conn.execute(text("UPDATE providers SET api_key_ciphertext = :c WHERE name = 'b'"),
                     {"c": stolen})
    engine.dispose()
    with api.context.database.unit_of_work(write=False) as session:
        b = provider_service.get(session, tenant_id=_tenant_id(api), name="b")
        with pytest.raises(DecryptionError) as caught:
            provider_service.api_key_of(b, api.context.secrets)
    assert stolen not in str(caught.value)


def _tenant_id(api: Api, name: str = "acme") -> str:
    from scope_api.services import tenants

    with api.context.database.unit_of_work() as session:
        return tenants.get_or_create(session, name).id


# --- master key rotation ---------------------------------------------------------------

async def test_rotation_reencrypts_every_key_and_can_be_rerun(
        database_url: str, settings: Settings) -> None:
    old_only = SecretBox.from_specs([OLD_KEY])
    both = SecretBox.from_specs([NEW_KEY, OLD_KEY])
    new_only = SecretBox.from_specs([NEW_KEY])
    keys = {f"p{i}": provider_key() for i in range(5)}
    async with started(settings.model_copy(update={"master_keys": [OLD_KEY]})) as old_app:
        admin = await old_app.headers(role="admin")
        for name, key in keys.items():
            await create(old_app, admin, name=name, kind="openai", api_key=key)
        await create(old_app, admin, name="sim", kind="simulator")
        assert decrypt_all(old_app, old_only) == {**keys, "sim": None}
        with pytest.raises(DecryptionError, match="'old'"):
            decrypt_all(old_app, new_only)

        # Step 1: the new key goes first; old and new both decrypt while it runs.
        report = provider_service.rotate_provider_keys(old_app.context.database, both,
                                                       batch_size=2)
        assert (report.rotated, report.already_current, report.failed,
                report.remaining) == (5, 0, [], 0)
        assert {c.split(":")[1] for c in stored_ciphertexts(database_url).values()} == {"new"}
        assert decrypt_all(old_app, both) == {**keys, "sim": None}

        # A replica not yet restarted still writes with the old key: a mixed database
        # that both keys read, and a second run finishes the job.
        late = provider_key()
        await create(old_app, admin, name="late", kind="openai", api_key=late)
        assert decrypt_all(old_app, both) == {**keys, "late": late, "sim": None}
        again = provider_service.rotate_provider_keys(old_app.context.database, both)
        assert (again.rotated, again.already_current, again.remaining) == (1, 5, 0)
        idle = provider_service.rotate_provider_keys(old_app.context.database, both)
        assert (idle.rotated, idle.already_current, idle.remaining) == (0, 6, 0)

        # Step 3: the old key is dropped; everything still decrypts.
        assert decrypt_all(old_app, new_only) == {**keys, "late": late, "sim": None}
        with pytest.raises(DecryptionError):
            decrypt_all(old_app, old_only)

    # A server started with only the new key serves (and replaces) the keys.
    async with started(settings.model_copy(update={"master_keys": [NEW_KEY]})) as new_app:
        admin = await new_app.headers(role="admin")
        got = await new_app.client.get(f"{V1}/providers/p0", headers=admin)
        assert got.json()["api_key_hint"] == f"…{keys['p0'][-4:]}"


def rotate_command(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(scope_command("secrets", "rotate"), env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=60, check=False)


async def test_scope_secrets_rotate_command(database_url: str, settings: Settings,
                                            tmp_path: Path) -> None:
    key = provider_key()
    async with started(settings.model_copy(update={"master_keys": [OLD_KEY]})) as old_app:
        admin = await old_app.headers(role="admin")
        await create(old_app, admin, name="main", kind="anthropic", api_key=key)

    env = base_env(database_url, tmp_path / "cli", SCOPE_MASTER_KEYS=f"{NEW_KEY},{OLD_KEY}")
    for expected_rotated in (1, 0):  # idempotent: the second run has nothing to do
        result = await asyncio.to_thread(rotate_command, env, tmp_path)
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        assert summary == {"active_key": "new", "rotated": expected_rotated,
                           "already_current": 1 - expected_rotated,
                           "changed_concurrently": 0, "failed": 0, "remaining": 0}
        assert key not in result.stdout + result.stderr
        assert NEW_KEY.split(":")[1] not in result.stdout + result.stderr
    ciphertext = stored_ciphertexts(database_url)["main"]
    assert ciphertext.startswith("v1:new:")

    # Without the key the rows were encrypted with, the command says so and fails.
    env["SCOPE_MASTER_KEYS"] = generate_master_key_spec("other")
    result = await asyncio.to_thread(rotate_command, env, tmp_path)
    assert result.returncode == 1
    assert "provider 'main' of tenant 'acme'" in result.stderr
    assert "'new'" in result.stderr
    assert "Traceback" not in result.stderr
    assert stored_ciphertexts(database_url)["main"] == ciphertext  # left as it was


# --- base URL policy -------------------------------------------------------------------

ALWAYS_REFUSED = [
    ("http://169.254.169.254/latest/meta-data", "cloud metadata"),
    ("http://metadata.google.internal/computeMetadata/v1", "cloud metadata"),
    ("http://[fd00:ec2::254]/", "cloud metadata"),
    ("http://[::ffff:169.254.169.254]/", "cloud metadata"),
    ("http://[::169.254.169.254]/", "cloud metadata"),  # IPv4-compatible, deprecated
    ("http://[::169.254.1.2]/", "link-local"),
    ("http://100.100.100.200/", "cloud metadata"),
    ("http://169.254.1.2:8080/v1", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("ftp://1.1.1.1/", "http:// or https://"),
    ("file:///etc/passwd", "http:// or https://"),
    ("https://user:pass@1.1.1.1/", "credentials"),
    ("https://does-not-exist.invalid/v1", "could not be resolved"),
]
PRIVATE = ["http://127.0.0.1:8000/v1", "http://localhost:11434/v1", "http://10.0.0.5/v1",
           "http://[::1]:8000/", "http://192.168.1.20/", "http://[::127.0.0.1]/"]


@pytest.fixture
async def private_api(settings: Settings) -> AsyncIterator[Api]:
    """The same database, served with SCOPE_ALLOW_PRIVATE_PROVIDER_URLS=true."""
    async with started(settings.model_copy(
            update={"allow_private_provider_urls": True})) as api:
        yield api


async def test_metadata_and_link_local_urls_are_always_refused(api: Api,
                                                                private_api: Api) -> None:
    for client in (api, private_api):
        admin = await client.headers(role="admin")
        for url, reason in ALWAYS_REFUSED:
            response = await create(client, admin, expect=422, name="p",
                                    kind="openai_compatible", base_url=url)
            assert reason in error_messages(response), (url, response.text)
            assert response.json()["error"]["details"]["errors"][0]["loc"] == ["body",
                                                                               "base_url"]
    assert (await api.client.get(f"{V1}/providers", headers=admin)).json()["data"] == []


async def test_private_urls_need_the_operator_flag(api: Api, private_api: Api) -> None:
    admin = await api.headers(role="admin")
    for i, url in enumerate(PRIVATE):
        refused = await create(api, admin, expect=422, name=f"p{i}", kind="openai_compatible",
                               base_url=url)
        assert "SCOPE_ALLOW_PRIVATE_PROVIDER_URLS=true" in error_messages(refused)
    by_name = await create(api, admin, expect=422, name="x", kind="openai_compatible",
                           base_url="http://localhost:8000/v1")
    assert "'localhost' resolves to" in error_messages(by_name)

    allowed_admin = await private_api.headers(role="admin")
    for i, url in enumerate(PRIVATE):
        await create(private_api, allowed_admin, name=f"p{i}", kind="openai_compatible",
                     base_url=url)
    # A change of URL is checked like a new one: the stored URL stays as it was.
    for bad in ("http://169.254.169.254/", "http://"):
        moved = await private_api.client.patch(f"{V1}/providers/p0", headers=allowed_admin,
                                               json={"base_url": bad})
        assert moved.status_code == 422, moved.text
    moved = await api.client.patch(f"{V1}/providers/p1", headers=admin,
                                   json={"base_url": "http://127.0.0.2/"})
    assert moved.status_code == 422
    got = await api.client.get(f"{V1}/providers/p0", headers=admin)
    assert got.json()["base_url"] == "http://127.0.0.1:8000/v1"


async def test_the_call_path_can_recheck_a_url() -> None:
    """What an adapter calls right before connecting (DNS may have changed since)."""
    addresses = await url_safety.resolve_checked("https://1.1.1.1/v1", allow_private=False)
    assert addresses == [ipaddress.ip_address("1.1.1.1")]
    assert ipaddress.ip_address("127.0.0.1") in await url_safety.resolve_checked(
        "http://localhost:1/", allow_private=True)
    for url in ("http://localhost/", "http://[64:ff9b::a9fe:a9fe]/", "http://0x7f.1/"):
        with pytest.raises(url_safety.UnsafeUrl):
            await url_safety.resolve_checked(url, allow_private=False)
    with pytest.raises(url_safety.UnsafeUrl) as caught:
        await url_safety.resolve_checked("http://[2002:a9fe:a9fe::1]/", allow_private=True)
    assert caught.value.reason == "metadata"  # 6to4 wrapping of 169.254.169.254


# --- models and prices -----------------------------------------------------------------

async def _models(api: Api, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = await api.client.get(f"{V1}/models", params=params, headers=headers)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def test_models_of_the_configured_providers(api: Api) -> None:
    admin = await api.headers(role="admin")
    viewer = await api.headers(role="viewer")
    assert await _models(api, viewer) == []
    await create(api, admin, name="sim", kind="simulator")
    await create(api, admin, name="oa", kind="openai", api_key=provider_key(),
                 enabled_models=["gpt-4o-mini", "my-finetune"])

    everything = await _models(api, viewer)
    assert [(m["provider"], m["model"]) for m in everything] == [
        ("oa", "gpt-4o-mini"), ("oa", "my-finetune"), ("sim", "sim-claude-haiku"),
        ("sim", "sim-gemini-flash"), ("sim", "sim-gpt-mini")]
    mini = everything[0]
    assert mini == {"provider": "oa", "kind": "openai", "model": "gpt-4o-mini",
                    "context_window": 128000, "input_per_mtok_usd": 0.15,
                    "output_per_mtok_usd": 0.6, "price_source": "catalog",
                    "capabilities": ["chat", "json", "vision", "tools"]}
    assert everything[1] == {**everything[1], "input_per_mtok_usd": None,
                             "output_per_mtok_usd": None, "context_window": None,
                             "price_source": "unknown", "capabilities": []}
    catalog = {m.model: m for m in load_catalog().models("simulator")}
    for entry in everything[2:]:
        listed = catalog[entry["model"]]
        assert entry["input_per_mtok_usd"] == float(listed.price.input_per_mtok_usd)
        assert entry["output_per_mtok_usd"] == float(listed.price.output_per_mtok_usd)

    only_sim = await _models(api, viewer, provider="sim")
    assert [m["model"] for m in only_sim] == ["sim-claude-haiku", "sim-gemini-flash",
                                              "sim-gpt-mini"]
    missing = await api.client.get(f"{V1}/models", params={"provider": "nope"}, headers=viewer)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")

    pages: list[tuple[str, str]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await api.client.get(f"{V1}/models", params=params, headers=viewer)).json()
        pages += [(m["provider"], m["model"]) for m in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == [(m["provider"], m["model"]) for m in everything]
    other = await api.client.get(f"{V1}/models", headers=viewer,
                                 params={"provider": "sim", "cursor": cursor or "x.y"})
    assert other.status_code == 400

    # Another tenant sees none of it.
    beta = await api.headers(tenant="beta", role="viewer")
    assert await _models(api, beta) == []
    theirs = await api.client.get(f"{V1}/models", params={"provider": "sim"}, headers=beta)
    assert theirs.status_code == 404
    assert (await api.client.get(f"{V1}/providers", headers=beta)).json()["data"] == []


async def test_tenant_price_overrides_win_over_the_catalog(api: Api) -> None:
    admin = await api.headers(role="admin")
    await create(api, admin, name="sim", kind="simulator")
    await create(api, admin, name="vllm", kind="openai_compatible", base_url="https://1.1.1.1")
    put = await api.client.put(f"{V1}/models/sim/sim-gpt-mini/price", headers=admin,
                               json={"input_per_mtok_usd": 1.5, "output_per_mtok_usd": "2.25",
                                     "context_window": 4096})
    assert put.status_code == 200, put.text
    assert put.json() == {**put.json(), "provider": "sim", "model": "sim-gpt-mini",
                          "input_per_mtok_usd": 1.5, "output_per_mtok_usd": 2.25,
                          "context_window": 4096, "price_source": "override",
                          "capabilities": ["chat", "json"]}
    # A model the catalog does not know (with a '/' in its id) gets a price and is listed.
    custom = "meta-llama/Llama-3.1-8B-Instruct"
    put = await api.client.put(f"{V1}/models/vllm/{custom}/price", headers=admin,
                               json={"input_per_mtok_usd": 0.02, "output_per_mtok_usd": 0.04})
    assert put.status_code == 200, put.text
    listed = {(m["provider"], m["model"]): m for m in await _models(api, admin)}
    assert listed[("sim", "sim-gpt-mini")]["input_per_mtok_usd"] == 1.5
    assert listed[("sim", "sim-claude-haiku")]["price_source"] == "catalog"
    assert listed[("vllm", custom)]["output_per_mtok_usd"] == 0.04

    # The price the execution path will use, and the cost it gives.
    with api.context.database.unit_of_work(write=False) as session:
        sim = provider_service.get(session, tenant_id=_tenant_id(api), name="sim")
        price = provider_service.price_for(session, provider=sim, model="sim-gpt-mini",
                                           catalog=load_catalog())
        unknown = provider_service.price_for(session, provider=sim, model="sim-nothing",
                                             catalog=load_catalog())
    assert cost_usd(1000, 2000, price) == Decimal("0.006")  # 0.0015 + 0.0045
    assert cost_usd(1000, 2000, unknown) is None

    # Other tenants keep the catalog price; removing the override restores it.
    beta = await api.headers(tenant="beta", role="admin")
    await create(api, beta, name="sim", kind="simulator")
    beta_mini = [m for m in await _models(api, beta) if m["model"] == "sim-gpt-mini"]
    assert beta_mini[0]["price_source"] == "catalog"
    deleted = await api.client.delete(f"{V1}/models/sim/sim-gpt-mini/price", headers=admin)
    assert deleted.status_code == 204
    again = await api.client.delete(f"{V1}/models/sim/sim-gpt-mini/price", headers=admin)
    assert again.status_code == 404
    restored = [m for m in await _models(api, admin, provider="sim")
                if m["model"] == "sim-gpt-mini"]
    assert (restored[0]["price_source"], restored[0]["input_per_mtok_usd"]) == ("catalog", 0.1)

    for bad in ({"input_per_mtok_usd": -1, "output_per_mtok_usd": 1},
                {"input_per_mtok_usd": "NaN", "output_per_mtok_usd": 1},
                {"input_per_mtok_usd": 1}):
        refused = await api.client.put(f"{V1}/models/sim/sim-gpt-mini/price", headers=admin,
                                       json=bad)
        assert refused.status_code == 422, refused.text
    # Deleting the provider deletes its overrides.
    assert (await api.client.delete(f"{V1}/providers/vllm", headers=admin)).status_code == 204
    await create(api, admin, name="vllm", kind="openai_compatible", base_url="https://1.1.1.1")
    assert await _models(api, admin, provider="vllm") == []


# --- roles -----------------------------------------------------------------------------

async def test_viewers_read_and_only_admins_write(api: Api) -> None:
    admin = await api.headers(role="admin")
    await create(api, admin, name="sim", kind="simulator")
    for role in ("viewer", "editor"):
        headers = await api.headers(role=role)
        for path in ("/providers", "/providers/sim", "/models", "/models?provider=sim"):
            response = await api.client.get(f"{V1}{path}", headers=headers)
            assert response.status_code == 200, f"{role} {path}: {response.text}"
        attempts = [
            ("POST", "/providers", {"name": "mine", "kind": "simulator"}),
            ("PATCH", "/providers/sim", {"options": {"latency_ms": 5}}),
            ("DELETE", "/providers/sim", None),
            ("PUT", "/models/sim/sim-gpt-mini/price",
             {"input_per_mtok_usd": 0, "output_per_mtok_usd": 0}),
            ("DELETE", "/models/sim/sim-gpt-mini/price", None),
        ]
        for method, path, body in attempts:
            response = await api.client.request(method, f"{V1}{path}", json=body,
                                                 headers=headers)
            assert response.status_code == 403, f"{role} {method} {path}: {response.text}"
            assert response.json()["error"]["details"]["permission"] == "providers:write"
    listed = (await api.client.get(f"{V1}/providers", headers=admin)).json()["data"]
    assert [(p["name"], p["options"]) for p in listed] == [("sim", {})]
    sim = [m for m in await _models(api, admin) if m["model"] == "sim-gpt-mini"]
    assert sim[0]["price_source"] == "catalog"


def test_a_key_that_no_configured_master_key_decrypts_is_a_clear_conflict() -> None:
    """Losing the master key must not turn into a 500: the message says how to fix it."""
    from scope_api.errors import Conflict
    from scope_api.models import Provider
    from scope_api.security.crypto import parse_master_key
    from scope_api.services import providers as provider_service

    old_box = SecretBox([parse_master_key(OLD_KEY)])
    provider = Provider(id="p1", tenant_id="t1", name="openai-main", kind="openai",
                        enabled_models=[], options={})
    provider.api_key_ciphertext = old_box.encrypt(
        "sk-test-0000", context=provider_service._context(provider))
    assert provider_service.provider_config(provider, old_box).api_key == "sk-test-0000"

    new_box = SecretBox([parse_master_key(NEW_KEY)])
    with pytest.raises(Conflict, match=r"cannot be decrypted.*PATCH /providers/openai-main"):
        provider_service.provider_config(provider, new_box)


@pytest.mark.parametrize(("options", "says"), [
    ({"headers": {"x-a": "é"}}, "options.headers: the value of 'x-a' may hold only visible"),
    ({"headers": {"x-a": "a\nb"}}, "options.headers: the value of 'x-a' may hold only visible"),
    ({"headers": {"x-a": 1}}, "options.headers: the value of 'x-a' must be a string"),
    ({"timeout_s": "x"}, "options.timeout_s must be a number of seconds above 0"),
    ({"latency_ms": -1}, "options.latency_ms must be a number from 0"),
])
async def test_options_a_call_could_not_use_are_refused_when_saved(
        api: Api, options: dict[str, Any], says: str) -> None:
    """Such options used to be saved, and then every execution on the provider failed
    (500 or 502) although the provider was never called."""
    admin = await api.headers(role="admin")
    refused = await create(api, admin, expect=422, name="sim", kind="simulator",
                           options=options)
    assert says in error_messages(refused)
    await create(api, admin, name="sim", kind="simulator", options={"timeout_s": 5})
    patched = await api.client.patch(f"{V1}/providers/sim", json={"options": options},
                                      headers=admin)
    assert patched.status_code == 422, patched.text
    assert says in error_messages(patched)
    stored = await api.client.get(f"{V1}/providers/sim", headers=admin)
    assert stored.json()["options"] == {"timeout_s": 5}


@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e400"])
async def test_options_holding_no_json_number_are_refused(api: Api, number: str) -> None:
    """Python's JSON parser reads these (1e400 as infinity); JSON, and PostgreSQL, have
    no such number."""
    admin = await api.headers(role="admin")
    response = await api.client.post(
        f"{V1}/providers", headers={**admin, "content-type": "application/json"},
        content=f'{{"name": "sim", "kind": "simulator", "options": {{"timeout_s": {number}}}}}')
    assert response.status_code == 422, response.text
    assert "options must not hold NaN or Infinity" in error_messages(response)
    assert (await api.client.get(f"{V1}/providers", headers=admin)).json()["data"] == []
