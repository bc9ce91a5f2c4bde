"""API key secrets: generation, hashing and constant-time verification.

Threat model: the database may leak (backup, replica, SQL injection elsewhere).
Secrets are therefore stored only as SHA-256 hashes; a generated secret carries
256 bits of randomness, so a hash cannot be reversed by guessing. Comparison is
constant-time so response timing does not reveal how much of a hash matched.
A short prefix of the secret is kept in clear to find candidate rows and to let
people recognise their keys in listings; it reveals ~48 of the 256 bits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "scope_"  # noqa: S105 (a marker, not a secret)
PREFIX_LENGTH = 14


def generate_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def prefix_of(secret: str) -> str:
    return secret[:PREFIX_LENGTH]


def matches(secret: str, stored_hash: str) -> bool:
    """Constant-time check of ``secret`` against a stored hash."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def generate_refresh_token() -> str:
    return "scope_rt_" + secrets.token_urlsafe(32)
