"""Second-factor secrets at rest: authenticator seeds encrypted, backup codes kept only as keyed hashes.

The key is `settings.OTP_ENCRYPTION_KEY`: one or more 32-byte keys, urlsafe base64, comma-separated (the
first encrypts and hashes; every one is tried, so a key can be rotated in). It comes from the environment and
never from the database, so a copy of the database (a dump, a replica, an injection that reads tables) holds
no usable seed or backup code.

- A seed (django-otp's hex `TOTPDevice.key`) is sealed with AES-256-GCM from the `cryptography` package
  (an authenticated cipher: a changed byte is refused, not decrypted to garbage): "gcm1:" + urlsafe base64
  of nonce, ciphertext and tag, 69 characters for a 20-byte seed, so it fits django-otp's 80-character
  column (a Fernet token would not: 140). `accounts.models.AuthenticatorApp` seals on save and opens in
  `bin_key`, the one place django-otp reads the seed.
- A backup code is stored as HMAC-SHA256(key, code), truncated to 96 bits and base64-encoded: 16
  characters, the width of django-otp's `StaticToken.token`. A keyed hash, not a password hasher: a code is
  ten random characters (49 bits), too many to guess online, and without the key a stolen hash cannot be
  tried offline at all; being deterministic, it is found by an indexed lookup under the device's row lock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from binascii import unhexlify
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_SEED_PREFIX = "gcm1:"
_SEED_AAD = b"securebank otp_totp seed"
_BACKUP_CONTEXT = b"securebank backup code"


class SeedError(Exception):
    """A stored seed that no configured key opens (a wrong key, or the row was changed)."""


def _decode_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured(
            "OTP_ENCRYPTION_KEY must be 32 bytes in urlsafe base64 (comma-separated for rotation); make one "
            "with: python -c 'import base64,os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'"
        )
    return key


@cache
def _keys(setting: str) -> tuple[bytes, ...]:
    keys = tuple(_decode_key(part) for part in setting.split(",") if part.strip())
    if not keys:
        raise ImproperlyConfigured("OTP_ENCRYPTION_KEY is empty.")
    return keys


def keys() -> tuple[bytes, ...]:
    """The configured keys, the current one first."""
    return _keys(settings.OTP_ENCRYPTION_KEY)


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def seed_is_sealed(stored: str) -> bool:
    return stored.startswith(_SEED_PREFIX)


def seed_seal(hex_seed: str) -> str:
    """Encrypt a hex seed with the current key."""
    nonce = os.urandom(12)
    sealed = AESGCM(keys()[0]).encrypt(nonce, unhexlify(hex_seed.encode()), _SEED_AAD)
    return _SEED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def seed_open(stored: str) -> bytes:
    """The binary seed from its stored form. Raises SeedError if no key opens it (or it is not sealed)."""
    if not seed_is_sealed(stored):
        raise SeedError("The authenticator seed is not encrypted.")
    raw = base64.urlsafe_b64decode(stored[len(_SEED_PREFIX) :])
    for key in keys():
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], _SEED_AAD)
        except InvalidTag:
            continue
    raise SeedError("No OTP_ENCRYPTION_KEY opens this authenticator seed.")


def backup_code_digest(code: str, key: bytes | None = None) -> str:
    """The stored form of a (normalised) backup code under `key` (default: the current key)."""
    key = keys()[0] if key is None else key
    mac = hmac.new(hmac.new(key, _BACKUP_CONTEXT, hashlib.sha256).digest(), code.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:12]).decode()


def backup_code_digests(code: str) -> list[str]:
    """The stored forms the code may have, one per configured key (a code made before a rotation)."""
    return [backup_code_digest(code, key) for key in keys()]
