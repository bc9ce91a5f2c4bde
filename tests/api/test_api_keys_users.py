"""API keys (secret shown once, stored hashed, revocable) and users (admin CRUD)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.factories import V1, Api

KEYS = f"{V1}/api-keys"
USERS = f"{V1}/users"


def _rows(api: Api, table: str) -> list[dict[str, Any]]:
    with api.context.database.unit_of_work(write=False) as session:
        return [dict(row._mapping) for row in session.execute(text(f"SELECT * FROM {table}"))]


# --- API keys ------------------------------------------------------------------------

async def test_created_key_secret_is_shown_once_and_works(api: Api) -> None:
    admin = await api.headers(tenant="acme", role="admin")
    response = await api.client.post(KEYS, json={"name": "ci-bot", "role": "editor"},
                                     headers=admin)

    assert response.status_code == 201, response.text
    created = response.json()
    secret = created["secret"]
    assert secret.startswith("scope_")
    assert len(secret) >= 40
    assert (created["name"], created["role"], created["revoked_at"]) == ("ci-bot", "editor", None)
    assert secret.startswith(created["prefix"])
    assert created["prefix"] != secret
    assert created["created_by"].startswith("api_key:")

    pair = await api.tokens(secret)
    me = (await api.client.get(f"{V1}/me", headers={
        "Authorization": f"Bearer {pair['access_token']}"})).json()
    assert (me["tenant"], me["role"], me["api_key"]["id"]) == ("acme", "editor", created["id"])
    assert secret not in str(me)

    listing = await api.client.get(KEYS, headers=admin)
    assert listing.status_code == 200
    assert secret not in listing.text
    listed = {k["id"]: k for k in listing.json()["data"]}
    assert "secret" not in listed[created["id"]]
    assert listed[created["id"]]["name"] == "ci-bot"
    assert listed[created["id"]]["last_used_at"] is not None  # the exchange above used it
    assert {k: v for k, v in listed[created["id"]].items() if k != "last_used_at"} == \
        {k: v for k, v in created.items() if k not in ("secret", "last_used_at")}


async def test_database_stores_only_a_hash_of_the_secret(api: Api) -> None:
    admin = await api.headers(role="admin")
    created = (await api.client.post(KEYS, json={"name": "k", "role": "viewer"},
                                     headers=admin)).json()
    secret = created["secret"]
    pair = await api.tokens(secret)

    keys = _rows(api, "api_keys")
    row = next(r for r in keys if r["id"] == created["id"])
    assert row["secret_hash"]
    assert row["secret_hash"] != secret
    for stored in keys:
        for column, value in stored.items():
            assert secret not in str(value), f"api_keys.{column} holds the secret"
    # The refresh token is stored hashed too.
    for stored in _rows(api, "refresh_tokens"):
        for column, value in stored.items():
            assert pair["refresh_token"] not in str(value), f"refresh_tokens.{column}"


async def test_revoked_key_is_listed_with_revoked_at_and_cannot_authenticate(api: Api) -> None:
    admin = await api.headers(role="admin")
    created = (await api.client.post(KEYS, json={"name": "old", "role": "viewer"},
                                     headers=admin)).json()
    kept = (await api.client.post(KEYS, json={"name": "kept", "role": "viewer"},
                                  headers=admin)).json()

    response = await api.client.delete(f"{KEYS}/{created['id']}", headers=admin)
    assert response.status_code == 204
    assert response.content == b""

    listed = {k["id"]: k for k in (await api.client.get(KEYS, headers=admin)).json()["data"]}
    assert listed[created["id"]]["revoked_at"] is not None
    assert listed[kept["id"]]["revoked_at"] is None
    exchange = await api.client.post(f"{V1}/auth/token", json={"api_key": created["secret"]})
    assert exchange.status_code == 401
    assert exchange.json()["error"]["code"] == "unauthenticated"
    await api.tokens(kept["secret"])  # only the revoked key is affected


async def test_revoking_an_unknown_key_is_not_found(api: Api) -> None:
    admin = await api.headers(role="admin")
    response = await api.client.delete(f"{KEYS}/does-not-exist", headers=admin)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_invalid_key_requests_are_validation_errors(api: Api) -> None:
    admin = await api.headers(role="admin")
    bad_bodies: list[dict[str, Any]] = [
        {"name": "k", "role": "owner"},
        {"name": "", "role": "viewer"},
        {"role": "viewer"},
        {"name": "k"},
        {"name": "k", "role": "viewer", "secret": "scope_mine"},
    ]
    for body in bad_bodies:
        response = await api.client.post(KEYS, json=body, headers=admin)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "validation_error"
        assert response.json()["error"]["details"]["errors"]
    listing = (await api.client.get(KEYS, headers=admin)).json()["data"]
    assert len(listing) == 1  # only the key behind the admin token


# --- users ---------------------------------------------------------------------------

async def test_admin_manages_users(api: Api) -> None:
    admin = await api.headers(role="admin")
    created = await api.client.post(USERS, json={"email": "Ada@Example.com", "role": "viewer"},
                                    headers=admin)
    assert created.status_code == 201, created.text
    user = created.json()
    assert (user["email"].lower(), user["role"]) == ("ada@example.com", "viewer")
    assert user["id"]
    assert user["created_at"]

    patched = await api.client.patch(f"{USERS}/{user['id']}", json={"role": "editor"},
                                     headers=admin)
    assert patched.status_code == 200, patched.text
    assert (patched.json()["id"], patched.json()["role"]) == (user["id"], "editor")
    listed = (await api.client.get(USERS, headers=admin)).json()
    assert [(u["id"], u["role"]) for u in listed["data"]] == [(user["id"], "editor")]
    assert listed["next_cursor"] is None

    unchanged = await api.client.patch(f"{USERS}/{user['id']}", json={}, headers=admin)
    assert unchanged.json()["role"] == "editor"

    deleted = await api.client.delete(f"{USERS}/{user['id']}", headers=admin)
    assert deleted.status_code == 204
    assert (await api.client.get(USERS, headers=admin)).json()["data"] == []
    for method, body in (("PATCH", {"role": "admin"}), ("DELETE", None)):
        again = await api.client.request(method, f"{USERS}/{user['id']}", json=body,
                                         headers=admin)
        assert again.status_code == 404, method
        assert again.json()["error"]["code"] == "not_found"


async def test_duplicate_email_is_a_conflict(api: Api) -> None:
    admin = await api.headers(role="admin")
    first = await api.client.post(USERS, json={"email": "bo@example.com", "role": "viewer"},
                                  headers=admin)
    assert first.status_code == 201
    for email in ("bo@example.com", "BO@example.com"):
        again = await api.client.post(USERS, json={"email": email, "role": "admin"},
                                      headers=admin)
        assert again.status_code == 409, email
        assert again.json()["error"]["code"] == "conflict"
    users = (await api.client.get(USERS, headers=admin)).json()["data"]
    assert [(u["email"], u["role"]) for u in users] == [("bo@example.com", "viewer")]


async def test_invalid_user_requests_are_validation_errors(api: Api) -> None:
    admin = await api.headers(role="admin")
    bad_bodies: list[dict[str, Any]] = [
        {"email": "not-an-email", "role": "viewer"},
        {"email": "a@", "role": "viewer"},
        {"email": "", "role": "viewer"},
        {"email": "ok@example.com", "role": "root"},
        {"email": "ok@example.com"},
        {"email": "ok@example.com", "role": "viewer", "id": "chosen"},
    ]
    for body in bad_bodies:
        response = await api.client.post(USERS, json=body, headers=admin)
        assert response.status_code == 422, body
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert error["details"]["errors"]
    assert (await api.client.get(USERS, headers=admin)).json()["data"] == []

    user = (await api.client.post(USERS, json={"email": "ok@example.com", "role": "viewer"},
                                  headers=admin)).json()
    bad_role = await api.client.patch(f"{USERS}/{user['id']}", json={"role": "root"},
                                      headers=admin)
    assert bad_role.status_code == 422


async def test_unknown_user_id_is_not_found(api: Api) -> None:
    admin = await api.headers(role="admin")
    for method, body in (("PATCH", {"role": "viewer"}), ("DELETE", None)):
        response = await api.client.request(method, f"{USERS}/no-such-user", json=body,
                                            headers=admin)
        assert response.status_code == 404, method
        assert response.json()["error"]["code"] == "not_found"
