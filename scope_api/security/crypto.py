"""Secrets at rest: provider API keys encrypted with AES-256-GCM under rotating master keys.

Threat model
------------
* **A leaked database (or backup, or replica) without the master keys reveals
  nothing** about the stored provider keys: each one is AES-256-GCM encrypted
  under a master key that lives only in the servers' environment
  (``SCOPE_MASTER_KEYS``) or, for a zero-setup single machine, in
  ``$SCOPE_DATA_DIR/master-keys.json`` (mode 0600, never in the database).
  The database keeps only the ciphertext and a hint of at most the last four
  characters.
* **Someone who can write to the database cannot move a ciphertext to another
  row** (say, make tenant A's provider use tenant B's key): every ciphertext is
  bound to its row by the GCM associated data (``context``, e.g.
  ``provider:<tenant id>:<provider id>``) and decrypts nowhere else. Tampering
  with any byte, the key id included, makes decryption fail.
* **Keys are never logged**: plaintext exists only in memory, in the request
  that sets it and in the call path that uses it; error messages name the key
  id and the reason, never a plaintext or a ciphertext. Settings keep the master
  keys out of their ``repr``.
* Out of scope: an attacker who holds both the database and a master key (or
  who runs code inside the server process) can read the provider keys.

Format
------
``v1:<kid>:<base64url(nonce ‖ ciphertext ‖ tag)>`` with a random 96-bit nonce per
encryption. The version and key id are part of the associated data, so the
header cannot be edited either.

Rotation
--------
``SCOPE_MASTER_KEYS`` is a comma-separated list of ``kid:base64key`` (32-byte
keys): the first key encrypts, every key listed decrypts. To rotate without
downtime: (1) put a new key first and restart the replicas (new writes use it,
old ciphertexts still decrypt); (2) run ``scope secrets rotate``, which
re-encrypts every stored ciphertext that is not under the first key, in small
committed batches (idempotent, and safe to interrupt and rerun: every row is
readable under the old or the new key at every moment); (3) once it reports
nothing left, remove the old key and restart.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from scope_api.config import Settings

FORMAT_VERSION = "v1"
KEY_BYTES = 32
_NONCE_BYTES = 12
_KID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_AAD_PREFIX = b"scope-secret\x00"


class MasterKeyError(ValueError):
    """``SCOPE_MASTER_KEYS`` (or the local key file) is malformed; the message says how."""


class DecryptionError(Exception):
    """A ciphertext cannot be decrypted: unknown key id, tampered, or another row's."""


@dataclass(frozen=True)
class MasterKey:
    kid: str
    key: bytes = field(repr=False)


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)


def parse_master_key(spec: str) -> MasterKey:
    """Parse one ``kid:base64key`` entry (standard or URL-safe base64, 32 bytes)."""
    kid, sep, encoded = spec.strip().partition(":")
    if not sep or not _KID.fullmatch(kid):
        raise MasterKeyError("each SCOPE_MASTER_KEYS entry is 'kid:base64key' with a kid of "
                             "1-32 letters, digits, '.', '_' or '-'")
    try:
        key = _b64decode(encoded.strip())
    except (binascii.Error, ValueError):
        raise MasterKeyError(f"master key {kid!r}: the key is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise MasterKeyError(f"master key {kid!r}: the key must decode to {KEY_BYTES} bytes "
                             f"(e.g. 'openssl rand -base64 32'), not {len(key)}")
    return MasterKey(kid, key)


def generate_master_key_spec(kid: str | None = None) -> str:
    """A new ``kid:base64key`` entry with a random 256-bit key."""
    kid = kid or f"k{secrets.token_hex(4)}"
    if not _KID.fullmatch(kid):
        raise MasterKeyError("a key id is 1-32 letters, digits, '.', '_' or '-'")
    return f"{kid}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"


def _load_or_create_local_keys(data_dir: Path) -> list[str]:
    """Master keys kept in ``data_dir`` (0600), created once, for zero-setup use.

    Created with ``O_EXCL`` so two processes starting at once cannot each write
    a different key: the loser reads the winner's file.
    """
    path = data_dir / "master-keys.json"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key_file(path)
    spec = generate_master_key_spec(f"local-{secrets.token_hex(4)}")
    with os.fdopen(fd, "w") as handle:
        json.dump({"keys": [spec]}, handle)
    return [spec]


def _read_key_file(path: Path) -> list[str]:
    try:
        keys = json.loads(path.read_text())["keys"]
    except (ValueError, KeyError, TypeError):
        raise MasterKeyError(f"{path} is not a valid master key file") from None
    if not isinstance(keys, list) or not keys:
        raise MasterKeyError(f"{path} holds no master keys")
    return [str(k) for k in keys]


class SecretBox:
    """Encrypts with the first master key; decrypts with any of them."""

    def __init__(self, keys: Sequence[MasterKey]) -> None:
        if not keys:
            raise MasterKeyError("at least one master key is needed")
        kids = [key.kid for key in keys]
        if len(set(kids)) != len(kids):
            raise MasterKeyError("master key ids must be unique")
        self._active = keys[0]
        self._ciphers = {key.kid: AESGCM(key.key) for key in keys}

    @classmethod
    def from_specs(cls, specs: Sequence[str]) -> SecretBox:
        return cls([parse_master_key(spec) for spec in specs])

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        specs = settings.master_keys or _load_or_create_local_keys(settings.data_dir)
        return cls.from_specs(specs)

    @property
    def active_kid(self) -> str:
        return self._active.kid

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    @staticmethod
    def _aad(kid: str, context: str) -> bytes:
        return _AAD_PREFIX + f"{FORMAT_VERSION}:{kid}:".encode() + context.encode()

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """``v1:<kid>:<token>``, bound to ``context`` (the row it belongs to)."""
        kid = self._active.kid
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._ciphers[kid].encrypt(nonce, plaintext.encode(), self._aad(kid, context))
        token = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()
        return f"{FORMAT_VERSION}:{kid}:{token}"

    @staticmethod
    def kid_of(ciphertext: str) -> str:
        """The key id a ciphertext was made with (``DecryptionError`` if malformed)."""
        return _split(ciphertext)[0]

    def decrypt(self, ciphertext: str, *, context: str) -> str:
        kid, token = _split(ciphertext)
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise DecryptionError(f"secret encrypted with master key {kid!r}, which is not "
                                  "configured (SCOPE_MASTER_KEYS)")
        try:
            raw = _b64decode(token)
            plain = cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:],
                                   self._aad(kid, context))
            return plain.decode()
        except (binascii.Error, ValueError, InvalidTag, UnicodeDecodeError):
            raise DecryptionError(f"secret under master key {kid!r} failed to decrypt "
                                  "(tampered, or not this row's)") from None

    def is_current(self, ciphertext: str) -> bool:
        """Whether the ciphertext is already under the encrypting (first) key."""
        return self.kid_of(ciphertext) == self._active.kid

    def reencrypt(self, ciphertext: str, *, context: str) -> str:
        """The same secret under the first key (unchanged if it already is)."""
        if self.is_current(ciphertext):
            return ciphertext
        return self.encrypt(self.decrypt(ciphertext, context=context), context=context)


def _split(ciphertext: str) -> tuple[str, str]:
    """(kid, token) of ``v1:<kid>:<token>``."""
    version, _, rest = ciphertext.partition(":")
    kid, _, token = rest.partition(":")
    if version != FORMAT_VERSION or not _KID.fullmatch(kid) or not token:
        raise DecryptionError("not a Scope secret (expected 'v1:<kid>:<token>')")
    return kid, token
