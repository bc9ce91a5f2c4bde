"""The ``scope`` command as an operator uses it: real processes, real databases."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, pool, text

from tests.live import base_env, scope_command, serve

ADMIN_SECRET = re.compile(r"\bscope_[A-Za-z0-9_-]{40,}")


def scope(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(scope_command(*args), env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60, check=False)


def me(base_url: str, secret: str) -> dict[str, object]:
    token = httpx.post(f"{base_url}/api/v1/auth/token", json={"api_key": secret}, timeout=10)
    assert token.status_code == 200, token.text
    response = httpx.get(f"{base_url}/api/v1/me", timeout=10,
                         headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_keys_create_prints_a_secret_for_that_tenant_and_role(database_url: str,
                                                              tmp_path: Path) -> None:
    env = base_env(database_url, tmp_path / "data")
    result = scope("keys", "create", "--tenant", "team-blue", "--role", "editor",
                   env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip().splitlines()[-1].strip()
    assert len(secret) >= 32, result.stdout
    assert " " not in secret, result.stdout

    with serve(database_url) as server:
        identity = me(server.base_url, secret)
        assert (identity["tenant"], identity["role"]) == ("team-blue", "editor")
        # A second key for the same tenant joins it rather than creating another.
        again = scope("keys", "create", "--tenant", "team-blue", "--role", "viewer",
                      env=env, cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        second = me(server.base_url, again.stdout.strip().splitlines()[-1].strip())
        assert (second["tenant"], second["role"]) == ("team-blue", "viewer")


def test_keys_create_with_an_unknown_role_is_a_usage_error(tmp_path: Path) -> None:
    env = base_env(None, tmp_path / "data")
    result = scope("keys", "create", "--tenant", "t", "--role", "superuser",
                   env=env, cwd=tmp_path)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "usage: scope keys create" in result.stderr
    assert "superuser" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "scope.db").exists()


def test_migrate_creates_the_default_sqlite_database(tmp_path: Path) -> None:
    env = base_env(None, tmp_path / "data")
    for _ in range(2):  # the second run finds nothing to do
        result = scope("migrate", env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    database = tmp_path / "data" / "scope.db"
    engine = create_engine(f"sqlite:///{database}", poolclass=pool.NullPool)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM prompt_versions")).scalar() == 0
    engine.dispose()


@pytest.mark.slow
def test_first_start_prints_one_admin_key_and_later_starts_do_not(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serve(None, data_dir=data, bootstrap=False) as first:
        printed = ADMIN_SECRET.findall(first.output())
        assert len(printed) == 1, first.output()
        identity = me(first.base_url, printed[0])
        assert (identity["tenant"], identity["role"]) == ("default", "admin")
    with serve(None, data_dir=data, bootstrap=False) as second:
        assert ADMIN_SECRET.findall(second.output()) == [], second.output()
        assert "shown only once" not in second.output()
        assert me(second.base_url, printed[0])["role"] == "admin"


@pytest.mark.slow
def test_bootstrap_key_from_the_environment_is_the_admin_key(tmp_path: Path) -> None:
    key = "ci-bootstrap-" + "x" * 40
    data = tmp_path / "data"
    with serve(None, data_dir=data, env={"SCOPE_BOOTSTRAP_API_KEY": key}) as server:
        assert server.api_key == key
        assert "shown only once" not in server.output()
        identity = me(server.base_url, key)
        assert (identity["tenant"], identity["role"]) == ("default", "admin")
    # Restarting with the same key neither fails nor adds a second copy of it.
    with serve(None, data_dir=data, env={"SCOPE_BOOTSTRAP_API_KEY": key}) as server:
        assert me(server.base_url, key)["role"] == "admin"
    engine = create_engine(f"sqlite:///{data / 'scope.db'}", poolclass=pool.NullPool)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM api_keys")).scalar() == 1
    engine.dispose()


def test_short_bootstrap_key_is_refused_with_one_clear_line(tmp_path: Path) -> None:
    env = base_env(None, tmp_path / "data", SCOPE_BOOTSTRAP_API_KEY="too-short-secret")
    result = scope("serve", "--port", "1", env=env, cwd=tmp_path)
    assert result.returncode != 0
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert "SCOPE_BOOTSTRAP_API_KEY" in message
    assert "32 characters" in message
    assert "too-short-secret" not in message  # never echo what may be a secret
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("endpoint", ["localhost:4318", "collector", "grpc://collector:4317"])
def test_an_otlp_endpoint_that_is_not_a_url_is_refused_at_start(tmp_path: Path,
                                                                 endpoint: str) -> None:
    env = base_env(None, tmp_path / "data", SCOPE_OTLP_ENDPOINT=endpoint)
    result = scope("serve", "--port", "1", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "scope: invalid configuration: SCOPE_OTLP_ENDPOINT: Value error, must be an http:// "
        "or https:// URL, e.g. http://localhost:4318 (the collector's OTLP/HTTP port)")


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("OTEL_BSP_SCHEDULE_DELAY", "0", "Input should be greater than 0"),
    ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "many", "Input should be a valid integer"),
])
def test_a_bad_opentelemetry_batch_variable_is_refused_at_start(
        tmp_path: Path, variable: str, value: str, message: str) -> None:
    env = base_env(None, tmp_path / "data", **{variable: value})
    result = scope("serve", "--port", "1", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith(
        f"scope: invalid configuration: {variable}: {message}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_secrets_generate_key_prints_a_usable_master_key(tmp_path: Path) -> None:
    from scope_api.security.crypto import SecretBox, parse_master_key

    env = base_env(None, tmp_path / "data")
    result = scope("secrets", "generate-key", "--kid", "k2027", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    spec = result.stdout.strip().splitlines()[-1]
    assert spec.startswith("k2027:")
    box = SecretBox([parse_master_key(spec)])
    assert box.decrypt(box.encrypt("sk-x", context="c"), context="c") == "sk-x"
    # Each run makes a new key.
    again = scope("secrets", "generate-key", "--kid", "k2027", env=env, cwd=tmp_path)
    assert again.stdout.strip().splitlines()[-1] != spec
