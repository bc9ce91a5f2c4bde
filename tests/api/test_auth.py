"""Token exchange, access-token verification, key rotation, JWKS and refresh rotation.

Forged tokens are built by hand (base64url + HMAC) so every attack differs from an
accepted token in exactly one respect; each test first shows that the untampered
token *is* accepted, so a 401 cannot come from a broken forging helper.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import update

from scope_api.app import create_app
from scope_api.config import Settings
from scope_api.models import RefreshToken
from scope_api.security import api_keys as key_secrets
from tests.conftest import JWT_KEY
from tests.factories import V1, Api

TEST_KID, _, TEST_SECRET = JWT_KEY.partition(":")
ME = f"{V1}/me"
PROMPTS = f"{V1}/prompts"
Claims = dict[str, Any]


# --- helpers -------------------------------------------------------------------------

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def hs256(claims: Claims, secret: bytes, *, header: dict[str, Any] | None = None,
          digest: str = "sha256") -> str:
    """An HMAC-signed JWT built without pyjwt (which refuses PEM keys as HMAC secrets)."""
    head = header if header is not None else {"alg": "HS256", "typ": "JWT", "kid": TEST_KID}
    signing_input = f"{b64url_json(head)}.{b64url_json(claims)}"
    signature = hmac.new(secret, signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64url(signature)}"


def unverified_claims(token: str) -> Claims:
    claims: Claims = jwt.decode(token, options={"verify_signature": False})
    return claims


def fresh(claims: Claims, *, lifetime: int = 900) -> Claims:
    """``claims`` with a current ``iat`` and an ``exp`` ``lifetime`` seconds later."""
    now = int(time.time())
    return {**claims, "iat": now, "exp": now + lifetime}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unauthenticated_problem(response: httpx.Response) -> str | None:
    """Why ``response`` is not a proper 401 error, or ``None`` if it is one."""
    if response.status_code != 401:
        return f"{response.request.method} {response.request.url.path}: " \
               f"{response.status_code} {response.text[:200]}"
    error = response.json().get("error", {})
    if error.get("code") != "unauthenticated" or not error.get("message") \
            or not error.get("request_id"):
        return f"bad error body: {response.text[:200]}"
    if response.headers.get("www-authenticate") != "Bearer":
        return "no WWW-Authenticate: Bearer header"
    return None


def assert_unauthenticated(response: httpx.Response) -> None:
    problem = unauthenticated_problem(response)
    assert problem is None, problem


async def rejection_problems(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    """What goes wrong when ``headers`` are sent to an identity and a prompts route."""
    responses = [await client.get(ME, headers=headers), await client.get(PROMPTS, headers=headers)]
    return [p for r in responses if (p := unauthenticated_problem(r)) is not None]


async def assert_rejected(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    problems = await rejection_problems(client, headers)
    assert not problems, problems


async def assert_accepted(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    me = await client.get(ME, headers=headers)
    assert me.status_code == 200, me.text
    prompts = await client.get(PROMPTS, headers=headers)
    assert prompts.status_code == 200, prompts.text


def write_es256_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return key


@asynccontextmanager
async def serve(database_url: str, data_dir: Path, jwt_keys: list[str]) -> AsyncIterator[Api]:
    """The app with its own key ring, on the test's database."""
    app = create_app(Settings(database_url=database_url, data_dir=data_dir, jwt_keys=jwt_keys))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://scope.test") as c:
            yield Api(app, c)


async def valid_claims(api: Api, role: str = "viewer") -> Claims:
    """The claims of a real access token (its ``sub`` names an existing key)."""
    body = await api.tokens(api.create_key(role=role))
    return unverified_claims(body["access_token"])


# --- token exchange ------------------------------------------------------------------

async def test_api_key_is_exchanged_for_a_short_lived_token_pair(api: Api) -> None:
    secret = api.create_key(tenant="acme", role="editor", name="ci")
    response = await api.client.post(f"{V1}/auth/token", json={"api_key": secret})

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert 0 < body["expires_in"] <= 900
    assert body["refresh_token"]
    assert body["refresh_token"] != body["access_token"]
    claims = unverified_claims(body["access_token"])
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    assert (claims["iss"], claims["aud"], claims["typ"]) == ("scope", "scope-api", "access")
    assert jwt.get_unverified_header(body["access_token"])["kid"] == TEST_KID

    me = await api.client.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert (me.json()["tenant"], me.json()["role"]) == ("acme", "editor")
    assert me.json()["api_key"]["name"] == "ci"


async def test_unknown_api_key_is_unauthenticated(api: Api) -> None:
    api.create_key()
    for wrong in ["scope_not-a-key", "x" * 40, "scope_" + "A" * 43]:
        response = await api.client.post(f"{V1}/auth/token", json={"api_key": wrong})
        assert_unauthenticated(response)


async def test_key_with_right_prefix_but_wrong_rest_is_unauthenticated(api: Api) -> None:
    secret = api.create_key()
    forged = secret[:key_secrets.PREFIX_LENGTH] + "A" * (len(secret) - key_secrets.PREFIX_LENGTH)
    assert forged != secret
    response = await api.client.post(f"{V1}/auth/token", json={"api_key": forged})
    assert_unauthenticated(response)
    assert secret not in response.text


async def test_empty_or_missing_api_key_is_rejected(api: Api) -> None:
    # An empty string fails the request schema: 422, like any malformed body.
    empty = await api.client.post(f"{V1}/auth/token", json={"api_key": ""})
    assert empty.status_code == 422, empty.text
    assert empty.json()["error"]["code"] == "validation_error"
    missing = await api.client.post(f"{V1}/auth/token", json={})
    assert missing.status_code == 422
    assert missing.json()["error"]["details"]["errors"][0]["loc"][-1] == "api_key"


async def test_revoked_api_key_cannot_get_tokens(api: Api) -> None:
    admin = await api.headers(role="admin")
    created = await api.client.post(f"{V1}/api-keys", json={"name": "old", "role": "viewer"},
                                    headers=admin)
    key = created.json()
    await api.tokens(key["secret"])  # works before the revocation

    revoked = await api.client.delete(f"{V1}/api-keys/{key['id']}", headers=admin)
    assert revoked.status_code == 204
    response = await api.client.post(f"{V1}/auth/token", json={"api_key": key["secret"]})
    assert_unauthenticated(response)


# --- access-token verification -------------------------------------------------------

def _without(name: str) -> Callable[[Claims], Claims]:
    return lambda c: {k: v for k, v in c.items() if k != name}


_CLAIM_ATTACKS: dict[str, Callable[[Claims], Claims]] = {
    "expired": lambda c: {**c, "iat": c["iat"] - 1000, "exp": c["iat"] - 100},
    "lifetime_over_15_minutes": lambda c: {**c, "exp": c["iat"] + 901},
    "issued_in_the_future": lambda c: {**c, "iat": c["iat"] + 600, "exp": c["exp"] + 600},
    "wrong_audience": lambda c: {**c, "aud": "other-api"},
    "audience_list": lambda c: {**c, "aud": ["other-api"]},
    "wrong_issuer": lambda c: {**c, "iss": "evil"},
    "typ_refresh": lambda c: {**c, "typ": "refresh"},
    "float_exp": lambda c: {**c, "exp": c["exp"] - 0.5},
    **{f"missing_{name}": _without(name)
       for name in ("exp", "iat", "aud", "iss", "sub", "tid", "tnm", "role", "typ")},
}


async def test_token_with_bad_claims_is_rejected(api: Api) -> None:
    claims = fresh(await valid_claims(api))
    # The control: the forging helper, given good claims, makes a token that works.
    await assert_accepted(api.client, bearer(hs256(claims, TEST_SECRET.encode())))
    problems = {}
    for attack, forge in _CLAIM_ATTACKS.items():
        token = hs256(forge(claims), TEST_SECRET.encode())
        if found := await rejection_problems(api.client, bearer(token)):
            problems[attack] = found
    assert not problems, problems


_HEADER_ATTACKS: dict[str, dict[str, Any]] = {
    "unknown_kid": {"alg": "HS256", "typ": "JWT", "kid": "other"},
    "missing_kid": {"alg": "HS256", "typ": "JWT"},
    "numeric_kid": {"alg": "HS256", "typ": "JWT", "kid": 1},
}


async def test_token_with_bad_header_is_rejected(api: Api) -> None:
    claims = fresh(await valid_claims(api))
    problems = {}
    for attack, header in _HEADER_ATTACKS.items():
        token = hs256(claims, TEST_SECRET.encode(), header=header)
        if found := await rejection_problems(api.client, bearer(token)):
            problems[attack] = found
    assert not problems, problems


async def test_algorithm_is_pinned_per_key(api: Api) -> None:
    """A correct HS512 signature with the right secret is still refused: the key says HS256."""
    claims = fresh(await valid_claims(api))
    token = hs256(claims, TEST_SECRET.encode(), digest="sha512",
                  header={"alg": "HS512", "typ": "JWT", "kid": TEST_KID})
    await assert_rejected(api.client, bearer(token))


async def test_token_signed_with_another_secret_is_rejected(api: Api) -> None:
    claims = fresh(await valid_claims(api))
    await assert_rejected(api.client, bearer(hs256(claims, b"x" * 48)))


async def test_tampered_payload_is_rejected(api: Api) -> None:
    token = (await api.tokens(api.create_key(role="viewer")))["access_token"]
    await assert_accepted(api.client, bearer(token))
    forbidden = await api.client.post(PROMPTS, json={"name": "x"}, headers=bearer(token))
    assert forbidden.status_code == 403

    header, _, signature = token.split(".")
    claims = {**unverified_claims(token), "role": "admin"}
    tampered = f"{header}.{b64url_json(claims)}.{signature}"
    await assert_rejected(api.client, bearer(tampered))
    create = await api.client.post(PROMPTS, json={"name": "x"}, headers=bearer(tampered))
    assert_unauthenticated(create)


async def test_alg_none_is_rejected(api: Api) -> None:
    claims = fresh(await valid_claims(api, role="admin"))
    for alg in ("none", "None", "NONE"):
        for signature in ("", "AAAA"):
            token = f"{b64url_json({'alg': alg, 'kid': TEST_KID})}.{b64url_json(claims)}." \
                    f"{signature}"
            await assert_rejected(api.client, bearer(token))


async def test_rs256_token_is_rejected_by_an_hs256_ring(api: Api) -> None:
    claims = fresh(await valid_claims(api))
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for kid in (TEST_KID, "rsa"):
        token = jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": kid})
        await assert_rejected(api.client, bearer(token))


_MALFORMED_HEADERS = [
    "{token}",  # scheme missing
    "Basic {token}",
    "Token {token}",
    "Bearer",
    "Bearer ",
    "Bearer not-a-jwt",
    "Bearer a.b.c",
    "Bearer {token}.extra",
    "Bearer {token} {token}",
]


async def test_missing_or_malformed_authorization_header(api: Api) -> None:
    token = (await api.tokens(api.create_key()))["access_token"]
    await assert_accepted(api.client, bearer(token))
    problems = {"(none)": await rejection_problems(api.client, {})}
    for header in _MALFORMED_HEADERS:
        value = header.format(token=token)
        problems[header] = await rejection_problems(api.client, {"Authorization": value})
    assert not {h: p for h, p in problems.items() if p}, problems


async def test_refresh_token_is_not_an_access_token(api: Api) -> None:
    pair = await api.tokens(api.create_key())
    await assert_rejected(api.client, bearer(pair["refresh_token"]))


# --- ES256 keys, JWKS, algorithm confusion -------------------------------------------

async def test_es256_ring_signs_and_publishes_only_the_public_key(
        database_url: str, tmp_path: Path) -> None:
    private = write_es256_key(tmp_path / "es.pem")
    hs_key = "hs:" + "h" * 40
    async with serve(database_url, tmp_path / "data", [f"es:es256:{tmp_path / 'es.pem'}",
                                                       hs_key]) as api:
        token = (await api.tokens(api.create_key()))["access_token"]
        header = jwt.get_unverified_header(token)
        assert (header["alg"], header["kid"]) == ("ES256", "es")
        await assert_accepted(api.client, bearer(token))

        response = await api.client.get("/.well-known/jwks.json")
        assert response.status_code == 200
        keys = response.json()["keys"]
        assert [(k["kid"], k["kty"], k["crv"], k["alg"]) for k in keys] == [
            ("es", "EC", "P-256", "ES256")]
        # Only public material: no private scalar, no HMAC secret anywhere.
        assert "d" not in keys[0]
        assert "h" * 40 not in response.text
        numbers = private.private_numbers()
        d = b64url(numbers.private_value.to_bytes(32, "big"))
        assert d not in response.text

        # A client can verify our tokens with what JWKS publishes.
        verified = jwt.decode(token, jwt.PyJWK(keys[0]).key, algorithms=["ES256"],
                              audience="scope-api", issuer="scope")
        assert verified["sub"] == unverified_claims(token)["sub"]


async def test_jwks_is_empty_for_hs256_keys(api: Api) -> None:
    response = await api.client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.json() == {"keys": []}
    assert TEST_SECRET not in response.text


async def test_public_key_used_as_hmac_secret_is_rejected(
        database_url: str, tmp_path: Path) -> None:
    private = write_es256_key(tmp_path / "es.pem")
    public = private.public_key()
    async with serve(database_url, tmp_path / "data", [f"es:es256:{tmp_path / 'es.pem'}"]) as api:
        claims = fresh(await valid_claims(api))
        good = jwt.encode(claims, private, algorithm="ES256", headers={"kid": "es"})
        await assert_accepted(api.client, bearer(good))

        jwk = (await api.client.get("/.well-known/jwks.json")).json()["keys"][0]
        candidates = [
            public.public_bytes(serialization.Encoding.PEM,
                                serialization.PublicFormat.SubjectPublicKeyInfo),
            public.public_bytes(serialization.Encoding.DER,
                                serialization.PublicFormat.SubjectPublicKeyInfo),
            public.public_bytes(serialization.Encoding.X962,
                                serialization.PublicFormat.UncompressedPoint),
            json.dumps(jwk).encode(),
        ]
        for secret in candidates:
            for alg in ("HS256", "ES256"):
                token = hs256(claims, secret, header={"alg": alg, "typ": "JWT", "kid": "es"})
                await assert_rejected(api.client, bearer(token))

        other = ec.generate_private_key(ec.SECP256R1())
        foreign = jwt.encode(claims, other, algorithm="ES256", headers={"kid": "es"})
        await assert_rejected(api.client, bearer(foreign))


# --- key rotation --------------------------------------------------------------------

async def test_key_rotation(database_url: str, tmp_path: Path) -> None:
    old, new = "old:" + "o" * 40, "new:" + "n" * 40
    data = tmp_path / "data"
    async with serve(database_url, data, [old]) as api:
        secret = api.create_key()
        old_token = (await api.tokens(secret))["access_token"]
        assert jwt.get_unverified_header(old_token)["kid"] == "old"

    async with serve(database_url, data, [new, old]) as api:
        await assert_accepted(api.client, bearer(old_token))
        new_token = (await api.tokens(secret))["access_token"]
        assert jwt.get_unverified_header(new_token)["kid"] == "new"
        await assert_accepted(api.client, bearer(new_token))

    async with serve(database_url, data, [new]) as api:
        await assert_rejected(api.client, bearer(old_token))
        await assert_accepted(api.client, bearer(new_token))


# --- refresh -------------------------------------------------------------------------

async def _refresh(api: Api, token: str) -> httpx.Response:
    return await api.client.post(f"{V1}/auth/refresh", json={"refresh_token": token})


async def test_refresh_issues_a_new_pair_and_consumes_the_old_token(api: Api) -> None:
    first = await api.tokens(api.create_key(role="editor"))
    response = await _refresh(api, first["refresh_token"])

    assert response.status_code == 200, response.text
    second = response.json()
    assert second["token_type"] == "bearer"
    assert 0 < second["expires_in"] <= 900
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert unverified_claims(second["access_token"])["sub"] == \
        unverified_claims(first["access_token"])["sub"]
    me = await api.client.get(ME, headers=bearer(second["access_token"]))
    assert me.json()["role"] == "editor"

    assert_unauthenticated(await _refresh(api, first["refresh_token"]))


async def test_reusing_a_rotated_refresh_token_revokes_the_family(api: Api) -> None:
    secret = api.create_key()
    first = await api.tokens(secret)
    bystander = await api.tokens(secret)  # another login: another family
    second = (await _refresh(api, first["refresh_token"])).json()
    third = (await _refresh(api, second["refresh_token"])).json()

    assert_unauthenticated(await _refresh(api, first["refresh_token"]))  # replay
    assert_unauthenticated(await _refresh(api, third["refresh_token"]))  # newest: revoked too
    assert_unauthenticated(await _refresh(api, second["refresh_token"]))

    assert (await _refresh(api, bystander["refresh_token"])).status_code == 200


async def test_refresh_fails_once_the_api_key_is_revoked(api: Api) -> None:
    admin = await api.headers(role="admin")
    key = (await api.client.post(f"{V1}/api-keys", json={"name": "k", "role": "editor"},
                                 headers=admin)).json()
    pair = await api.tokens(key["secret"])
    assert (await api.client.delete(f"{V1}/api-keys/{key['id']}", headers=admin)).status_code \
        == 204
    assert_unauthenticated(await _refresh(api, pair["refresh_token"]))


async def test_expired_refresh_token_is_rejected(api: Api) -> None:
    pair = await api.tokens(api.create_key())
    with api.context.database.unit_of_work() as session:
        session.execute(update(RefreshToken).where(
            RefreshToken.token_hash == key_secrets.hash_secret(pair["refresh_token"]))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert_unauthenticated(await _refresh(api, pair["refresh_token"]))


async def test_unknown_refresh_token_or_access_token_cannot_refresh(api: Api) -> None:
    pair = await api.tokens(api.create_key())
    for token in ["scope_rt_unknown", "x", pair["access_token"]]:
        assert_unauthenticated(await _refresh(api, token))


# --- identity ------------------------------------------------------------------------

EXPECTED_PERMISSIONS = {
    "viewer": {"prompts:read", "golden_sets:read", "executions:read", "runs:read",
               "providers:read", "models:read", "traces:read"},
}
EXPECTED_PERMISSIONS["editor"] = EXPECTED_PERMISSIONS["viewer"] | {
    "prompts:write", "golden_sets:write", "executions:write", "runs:write"}
EXPECTED_PERMISSIONS["admin"] = EXPECTED_PERMISSIONS["editor"] | {
    "api_keys:manage", "users:manage", "providers:write"}


async def test_me_describes_the_token_for_each_role(api: Api) -> None:
    seen = {}
    for role in ("viewer", "editor", "admin"):
        secret = api.create_key(tenant="team-blue", role=role, name=f"{role}-key")
        token = (await api.tokens(secret))["access_token"]
        me = await api.client.get(ME, headers=bearer(token))

        assert me.status_code == 200, me.text
        body = me.json()
        assert body["tenant"] == "team-blue"
        assert body["role"] == role
        assert body["user"] is None
        assert body["api_key"]["name"] == f"{role}-key"
        assert body["api_key"]["id"] == unverified_claims(token)["sub"].removeprefix("api_key:")
        assert set(body["permissions"]) == EXPECTED_PERMISSIONS[role]
        assert body["permissions"] == sorted(body["permissions"])
        seen[role] = set(body["permissions"])

    assert "prompts:write" not in seen["viewer"]
    assert not {p for p in seen["viewer"] if p.endswith((":write", ":manage"))}
    assert "prompts:write" in seen["editor"]
    assert not seen["editor"] & {"api_keys:manage", "users:manage"}
    assert {"api_keys:manage", "users:manage"} <= seen["admin"]
