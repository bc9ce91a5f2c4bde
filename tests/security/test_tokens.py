"""Unit tests of the JWT key ring and token service (no app, no database)."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from pydantic import ValidationError

from scope_api.config import Settings
from scope_api.errors import Unauthenticated
from scope_api.security.tokens import KeyConfigError, KeyRing, TokenService, parse_key

HS_OLD = "old:" + "o" * 40
HS_NEW = "new:" + "n" * 40


def service(*specs: str, ttl_s: int = 900, audience: str = "scope-api") -> TokenService:
    return TokenService(KeyRing([parse_key(s) for s in specs]), issuer="scope",
                        audience=audience, ttl_s=ttl_s)


def issue(tokens: TokenService, *, now: datetime | None = None) -> str:
    token, _ = tokens.issue(subject="api_key:k1", tenant_id="t1", tenant_name="acme",
                            role="editor", now=now)
    return token


def write_pem(path: Path, key: PrivateKeyTypes) -> Path:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


# --- configuration -------------------------------------------------------------------

@pytest.mark.parametrize("spec", ["nokid", ":" + "s" * 40, "kid:", "kid:short-secret",
                                  "kid:es256:/does/not/exist.pem"])
def test_malformed_key_specs_are_refused(spec: str) -> None:
    with pytest.raises(KeyConfigError):
        parse_key(spec)


def test_es256_needs_a_p256_private_key(tmp_path: Path) -> None:
    p384 = write_pem(tmp_path / "p384.pem", ec.generate_private_key(ec.SECP384R1()))
    rsa_key = write_pem(tmp_path / "rsa.pem",
                        rsa.generate_private_key(public_exponent=65537, key_size=2048))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    for path in (p384, rsa_key, garbage):
        with pytest.raises(KeyConfigError, match="kid"):
            parse_key(f"kid:es256:{path}")


def test_key_ring_needs_unique_kids_and_at_least_one_key() -> None:
    with pytest.raises(KeyConfigError):
        KeyRing([])
    with pytest.raises(KeyConfigError):
        KeyRing([parse_key(HS_OLD), parse_key("old:" + "x" * 40)])


def test_settings_read_comma_separated_keys_and_cap_the_token_lifetime() -> None:
    settings = Settings(jwt_keys=f"{HS_NEW}, {HS_OLD}")
    assert settings.jwt_keys == [HS_NEW, HS_OLD]
    with pytest.raises(ValidationError):
        Settings(access_token_ttl_s=3600)


def test_without_configured_keys_a_local_key_is_created_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", jwt_keys=[])
    first = KeyRing.from_settings(settings)
    second = KeyRing.from_settings(settings)
    assert first.active.kid == second.active.kid
    assert first.active.secret_material == second.active.secret_material
    mode = stat.S_IMODE(os.stat(tmp_path / "data" / "jwt-keys.json").st_mode)
    assert mode == 0o600
    # ...and tokens issued before a restart still verify after it.
    token = issue(TokenService(first, issuer="scope", audience="scope-api", ttl_s=900))
    TokenService(second, issuer="scope", audience="scope-api", ttl_s=900).verify(token)


# --- issuing and verifying -----------------------------------------------------------

def test_issued_token_round_trips() -> None:
    tokens = service(HS_NEW)
    token, ttl = tokens.issue(subject="api_key:k1", tenant_id="t1", tenant_name="acme",
                              role="editor")
    claims = tokens.verify(token)
    assert (claims.subject, claims.tenant_id, claims.tenant_name, claims.role) == (
        "api_key:k1", "t1", "acme", "editor")
    assert ttl == 900
    assert timedelta(seconds=895) < claims.expires_at - datetime.now(UTC) \
        <= timedelta(seconds=900)


def test_lifetime_is_capped_at_15_minutes() -> None:
    tokens = service(HS_NEW, ttl_s=86_400)
    token, ttl = tokens.issue(subject="api_key:k1", tenant_id="t1", tenant_name="acme",
                              role="viewer")
    assert ttl == 900
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 900


def test_expired_token_is_rejected() -> None:
    tokens = service(HS_NEW)
    token = issue(tokens, now=datetime.now(UTC) - timedelta(minutes=16))
    with pytest.raises(Unauthenticated, match="expired"):
        tokens.verify(token)
    tokens.verify(issue(tokens, now=datetime.now(UTC) - timedelta(minutes=14)))


def test_token_for_another_audience_is_rejected() -> None:
    token = issue(service(HS_NEW, audience="other-api"))
    with pytest.raises(Unauthenticated):
        service(HS_NEW).verify(token)


def test_rotation_keeps_old_tokens_valid_until_the_old_key_is_dropped() -> None:
    old_token = issue(service(HS_OLD))
    rotated = service(HS_NEW, HS_OLD)
    assert rotated.verify(old_token).subject == "api_key:k1"
    new_token = issue(rotated)
    assert jwt.get_unverified_header(new_token)["kid"] == "new"
    after = service(HS_NEW)
    after.verify(new_token)
    with pytest.raises(Unauthenticated, match="unknown key"):
        after.verify(old_token)


def test_same_secret_under_another_kid_is_not_accepted() -> None:
    """A kid names one key; the verifier never tries other keys of the ring."""
    token = issue(service("a:" + "s" * 40))
    with pytest.raises(Unauthenticated):
        service("b:" + "s" * 40).verify(token)


def test_errors_do_not_echo_the_token() -> None:
    tokens = service(HS_NEW)
    token = issue(service("new:" + "x" * 40))
    with pytest.raises(Unauthenticated) as caught:
        tokens.verify(token)
    assert token not in caught.value.message
    assert token.split(".")[1] not in str(caught.value.details)


# --- public keys ---------------------------------------------------------------------

def test_jwks_lists_only_asymmetric_public_keys(tmp_path: Path) -> None:
    pem = write_pem(tmp_path / "es.pem", ec.generate_private_key(ec.SECP256R1()))
    tokens = service(f"es:es256:{pem}", HS_OLD)
    jwks = tokens.keyring.jwks()
    assert [(k["kid"], k["kty"], k["crv"]) for k in jwks["keys"]] == [("es", "EC", "P-256")]
    assert "d" not in jwks["keys"][0]
    assert service(HS_OLD).keyring.jwks() == {"keys": []}

    token = issue(tokens)
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    public = jwt.PyJWK(jwks["keys"][0]).key
    claims = jwt.decode(token, public, algorithms=["ES256"], audience="scope-api")
    assert claims["tnm"] == "acme"


def test_a_remembered_token_still_expires() -> None:
    """Verified tokens are cached for speed, but never past their ``exp``."""
    import time

    tokens = service(HS_NEW, ttl_s=900)
    # Issued so that it expires about one second from now.
    token = issue(tokens, now=datetime.now(UTC) - timedelta(seconds=899))
    assert tokens.verify(token).role == "editor"
    assert tokens.verify(token).role == "editor"  # served from the cache
    time.sleep(1.2)  # wall-clock expiry is the behaviour under test
    with pytest.raises(Unauthenticated, match="expired"):
        tokens.verify(token)


def test_a_tampered_copy_of_a_remembered_token_is_rejected() -> None:
    tokens = service(HS_NEW)
    token = issue(tokens)
    tokens.verify(token)
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    with pytest.raises(Unauthenticated):
        tokens.verify(forged)
