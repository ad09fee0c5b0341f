"""Second-factor secrets at rest: authenticator seeds encrypted, backup codes kept only as keyed hashes.

The key is `settings.OTP_ENCRYPTION_KEY`: one or more 32-byte keys, urlsafe base64, comma-separated (the
first encrypts and hashes; every one is tried, so a key can be rotated in). It comes from the environment and
never from the database, so a copy of the database (a dump, a replica, an injection that reads tables) holds
no usable seed or backup code.

- A seed (django-otp's hex `TOTPDevice.key`) is sealed with AES-256-GCM from the `cryptography` package
  (an authenticated cipher: a changed byte is refused, not decrypted to garbage): "gcm2:" + urlsafe base64
  of nonce, ciphertext and tag, 69 characters for a 20-byte seed, so it fits django-otp's 80-character
  column (a Fernet token would not: 140). `accounts.models.AuthenticatorApp` seals on save and opens in
  `bin_key`, the one place django-otp reads the seed.
- A backup code is stored as "2:" + HMAC-SHA256(key, user id and code), truncated to 80 bits and
  base64-encoded: 16 characters, the width of django-otp's `StaticToken.token`. A keyed hash, not a password
  hasher: a code is ten random characters (49 bits), too many to guess online, and without the key a stolen
  hash cannot be tried offline at all; being deterministic, it is found by an indexed lookup under the
  device's row lock.

Both are bound to the user they were made for: the seed's GCM associated data and the backup code's HMAC
input carry the user's id. Someone who can write the tables but does not hold the key (the runtime database
role) cannot move a device, a sealed seed or a backup code of their own to another user, say a member of
staff whose password hash they also set: for the row's new user the seed does not open (SeedError, which the
code check treats as a code that did not work) and the code does not match. The device id is not bound (it is
not known when a new device is first sealed); moving a secret between two devices of one user gains nothing.

Versions: "gcm1:" seeds (migration 0004) carried the same associated data for every row; migration 0005
reseals them as "gcm2:", and `seed_open` refuses "gcm1:". Backup-code hashes made before 0005 (no "2:") do not
name their user and, the codes being unknown, cannot be rebound: 0005 deletes them, and the customers make
new ones on their security page (their authenticator app keeps working).
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

_SEED_PREFIX = "gcm2:"
UNBOUND_SEED_PREFIX = "gcm1:"  # migration 0004's: refused; 0005 reseals these
_BACKUP_PREFIX = "2:"
_BACKUP_CONTEXT = b"securebank backup code v2"
_BACKUP_MAC_BYTES = 10  # 14 characters of base64, 16 with the prefix


class SeedError(Exception):
    """A stored seed that no configured key opens for its user (a wrong key, a changed row, a seed moved from
    another user's device, or one sealed before migration 0005)."""


def _seed_aad(user_id: int) -> bytes:
    return b"securebank otp_totp seed|user=%d" % user_id


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
    """Whether `stored` is an encrypted seed (of either version), not a hex seed still to be sealed."""
    return stored.startswith((_SEED_PREFIX, UNBOUND_SEED_PREFIX))


def seed_seal(hex_seed: str, *, user_id: int) -> str:
    """Encrypt a hex seed with the current key, for the user `user_id` only."""
    nonce = os.urandom(12)
    sealed = AESGCM(keys()[0]).encrypt(nonce, unhexlify(hex_seed.encode()), _seed_aad(user_id))
    return _SEED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def seed_open(stored: str, *, user_id: int | None) -> bytes:
    """The binary seed from its stored form, if it was sealed for `user_id`. Raises SeedError if no key
    opens it for that user (or it is not sealed, or sealed before migration 0005)."""
    if stored.startswith(UNBOUND_SEED_PREFIX):
        raise SeedError("The authenticator seed is not bound to its user (migration 0005 reseals it).")
    if not stored.startswith(_SEED_PREFIX):
        raise SeedError("The authenticator seed is not encrypted.")
    if user_id is None:
        raise SeedError("The authenticator seed belongs to no user.")
    try:
        raw = base64.urlsafe_b64decode(stored[len(_SEED_PREFIX) :])
    except ValueError as error:
        raise SeedError("The authenticator seed is not valid base64.") from error
    if len(raw) < 12 + 16:  # a nonce and a tag at least
        raise SeedError("The authenticator seed is too short.")
    aad = _seed_aad(user_id)
    for key in keys():
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], aad)
        except InvalidTag:
            continue
    raise SeedError("No OTP_ENCRYPTION_KEY opens this authenticator seed for its user.")


def backup_code_digest(code: str, *, user_id: int, key: bytes | None = None) -> str:
    """The stored form of a (normalised) backup code of the user `user_id` under `key` (default: the
    current key)."""
    key = keys()[0] if key is None else key
    mac_key = hmac.new(key, _BACKUP_CONTEXT, hashlib.sha256).digest()
    mac = hmac.new(mac_key, b"user=%d|" % user_id + code.encode(), hashlib.sha256)
    return _BACKUP_PREFIX + base64.urlsafe_b64encode(mac.digest()[:_BACKUP_MAC_BYTES]).decode().rstrip("=")


def backup_code_digests(code: str, *, user_id: int) -> list[str]:
    """The stored forms the user's code may have, one per configured key (a code made before a rotation)."""
    return [backup_code_digest(code, user_id=user_id, key=key) for key in keys()]
