"""Access tokens (JWTs): signing, strict verification, key rotation.

Threat model: anyone can send us a token. A token is accepted only if

* its header names a ``kid`` we hold (unknown kid: rejected, no fallback key),
* it is signed with exactly that key's algorithm (the algorithm is pinned per
  key, never read from the token, so ``alg: none`` and HS/RS or HS/ES
  confusion, where a public key is used as an HMAC secret, cannot work),
* ``exp``, ``iat``, ``aud``, ``iss``, ``sub`` and ``tid`` are all present and
  valid, ``typ`` is ``access``, and its lifetime is at most 15 minutes.

Verified tokens are remembered under their exact text until they expire: an
app sends the same token for its whole lifetime, and a dict lookup replaces
~50 µs of parsing and HMAC per request. Only tokens that passed every check
above are remembered, and expiry is checked again on every use.

Keys rotate without downtime: the first key of the ring signs, every key of the
ring verifies; put the new key first, and drop the old one once the longest
token lifetime has passed.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from scope_api.config import MAX_ACCESS_TOKEN_TTL_S, Settings
from scope_api.errors import Unauthenticated

_HMAC_MIN_BYTES = 32
_VERIFIED_MAX = 10_000  # remembered tokens; cleared when full


class KeyConfigError(ValueError):
    """``SCOPE_JWT_KEYS`` is malformed; the message says how to fix it."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str  # "HS256" or "ES256"
    signing_key: Any
    verifying_key: Any
    secret_material: bytes  # stable bytes of the private part, to derive other keys from

    def public_jwk(self) -> dict[str, Any] | None:
        if self.algorithm != "ES256":
            return None
        jwk: dict[str, Any] = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.verifying_key))
        jwk.update({"kid": self.kid, "alg": self.algorithm, "use": "sig"})
        return jwk


def _hs256(kid: str, secret: str) -> SigningKey:
    if len(secret.encode()) < _HMAC_MIN_BYTES:
        raise KeyConfigError(f"JWT key {kid!r}: an HS256 secret needs at least 32 bytes")
    return SigningKey(kid, "HS256", secret.encode(), secret.encode(), secret.encode())


def _es256(kid: str, pem_path: str) -> SigningKey:
    try:
        private = serialization.load_pem_private_key(Path(pem_path).read_bytes(), None)
    except (OSError, ValueError, TypeError) as exc:
        raise KeyConfigError(f"JWT key {kid!r}: cannot load EC private key "
                             f"from {pem_path}: {exc.__class__.__name__}") from None
    if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != "secp256r1":
        raise KeyConfigError(f"JWT key {kid!r}: ES256 needs a P-256 private key")
    material = private.private_bytes(serialization.Encoding.DER,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
    return SigningKey(kid, "ES256", private, private.public_key(), material)


def parse_key(spec: str) -> SigningKey:
    """Parse one ``kid:secret`` or ``kid:es256:/path/to/key.pem`` entry."""
    kid, sep, rest = spec.partition(":")
    if not sep or not kid or not rest:
        raise KeyConfigError("each SCOPE_JWT_KEYS entry is 'kid:secret' or 'kid:es256:/key.pem'")
    if rest.startswith("es256:"):
        return _es256(kid, rest.removeprefix("es256:"))
    return _hs256(kid, rest)


def _load_or_create_local_key(data_dir: Path) -> str:
    """A random HS256 key kept in ``data_dir`` (0600), for zero-setup single-machine use."""
    path = data_dir / "jwt-keys.json"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return str(json.loads(path.read_text())["keys"][0])
    spec = f"local-{secrets.token_hex(4)}:{secrets.token_urlsafe(48)}"
    with os.fdopen(fd, "w") as handle:
        json.dump({"keys": [spec]}, handle)
    return spec


class KeyRing:
    """The keys that sign (the first) and verify (all) access tokens."""

    def __init__(self, keys: list[SigningKey]) -> None:
        if not keys:
            raise KeyConfigError("at least one JWT key is needed")
        kids = [key.kid for key in keys]
        if len(set(kids)) != len(kids):
            raise KeyConfigError("JWT key ids must be unique")
        self.active = keys[0]
        self.by_kid = {key.kid: key for key in keys}

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        specs = settings.jwt_keys or [_load_or_create_local_key(settings.data_dir)]
        return cls([parse_key(spec) for spec in specs])

    def jwks(self) -> dict[str, Any]:
        keys = [jwk for key in self.by_kid.values() if (jwk := key.public_jwk()) is not None]
        return {"keys": keys}


@dataclass(frozen=True)
class AccessClaims:
    subject: str  # "api_key:<id>" or "user:<id>"
    tenant_id: str
    tenant_name: str
    role: str
    expires_at: datetime

    @property
    def expires_at_ts(self) -> float:
        return self.expires_at.timestamp()


class TokenService:
    """Issues and verifies access tokens for one issuer and audience."""

    def __init__(self, keyring: KeyRing, *, issuer: str, audience: str, ttl_s: int) -> None:
        self.keyring = keyring
        self.issuer = issuer
        self.audience = audience
        self.ttl_s = min(ttl_s, MAX_ACCESS_TOKEN_TTL_S)
        self._verified: dict[str, tuple[AccessClaims, float]] = {}

    def issue(self, *, subject: str, tenant_id: str, tenant_name: str, role: str,
              now: datetime | None = None) -> tuple[str, int]:
        """A signed access token and its lifetime in seconds."""
        now = now or datetime.now(UTC)
        key = self.keyring.active
        claims = {
            "iss": self.issuer, "aud": self.audience, "sub": subject, "typ": "access",
            "tid": tenant_id, "tnm": tenant_name, "role": role,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=self.ttl_s)).timestamp()),
            "jti": secrets.token_hex(8),
        }
        token = jwt.encode(claims, key.signing_key, algorithm=key.algorithm,
                           headers={"kid": key.kid})
        return token, self.ttl_s

    def verify(self, token: str) -> AccessClaims:
        """Claims of a valid access token; ``Unauthenticated`` for anything else."""
        hit = self._verified.get(token)
        if hit is not None and time.time() < hit[1]:
            return hit[0]
        claims = self._verify(token)
        if len(self._verified) >= _VERIFIED_MAX:
            self._verified.clear()
        self._verified[token] = (claims, claims.expires_at_ts)
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("malformed access token") from None
        kid = header.get("kid")
        key = self.keyring.by_kid.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthenticated("access token signed with an unknown key")
        try:
            claims = jwt.decode(
                token, key.verifying_key, algorithms=[key.algorithm],
                audience=self.audience, issuer=self.issuer,
                options={"require": ["exp", "iat", "aud", "iss", "sub"], "strict_aud": True},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("access token expired") from None
        except jwt.PyJWTError:
            raise Unauthenticated("invalid access token") from None
        return self._claims(claims)

    def _claims(self, claims: dict[str, Any]) -> AccessClaims:
        iat, exp = claims["iat"], claims["exp"]
        if claims.get("typ") != "access" or not isinstance(iat, int) or not isinstance(exp, int) \
                or exp - iat > MAX_ACCESS_TOKEN_TTL_S:
            raise Unauthenticated("invalid access token")
        fields = [claims.get(name) for name in ("sub", "tid", "tnm", "role")]
        if not all(isinstance(value, str) and value for value in fields):
            raise Unauthenticated("invalid access token")
        return AccessClaims(subject=claims["sub"], tenant_id=claims["tid"],
                            tenant_name=claims["tnm"], role=claims["role"],
                            expires_at=datetime.fromtimestamp(exp, UTC))
