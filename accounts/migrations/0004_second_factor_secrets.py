"""Second-factor secrets at rest (accounts/otp_secrets.py): the authenticator seeds already stored are
encrypted in place, the backup codes already stored are replaced by their keyed hashes (the customer's
printed codes keep working). Needs OTP_ENCRYPTION_KEY, as the portal does.

This migration writes the first formats ("gcm1:" seeds with one associated data for every row, backup-code
hashes that do not name their user), frozen here as they were: 0005 then binds them to their users (the
functions in accounts/otp_secrets.py write only the current format).

Reversing decrypts the seeds; a hash cannot be reversed, so backup codes made before stay unusable (the
customer makes new ones)."""

import base64
import hashlib
import hmac
import os
from binascii import unhexlify

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import migrations

from accounts import otp_secrets

SEED_PREFIX = "gcm1:"
SEED_AAD = b"securebank otp_totp seed"
BACKUP_CONTEXT = b"securebank backup code"


def seed_seal_v1(hex_seed: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(otp_secrets.keys()[0]).encrypt(nonce, unhexlify(hex_seed.encode()), SEED_AAD)
    return SEED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def seed_open_v1(stored: str) -> bytes:
    """The binary seed of a "gcm1:" value. Raises SeedError if no key opens it."""
    raw = base64.urlsafe_b64decode(stored[len(SEED_PREFIX) :])
    configured = otp_secrets.keys()  # (a tuple of bytes: ruff's SIM118 takes it for a dict's)
    for key in configured:
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], SEED_AAD)
        except InvalidTag:
            continue
    raise otp_secrets.SeedError("No OTP_ENCRYPTION_KEY opens this authenticator seed.")


def backup_code_digest_v1(code: str) -> str:
    key = otp_secrets.keys()[0]
    mac = hmac.new(hmac.new(key, BACKUP_CONTEXT, hashlib.sha256).digest(), code.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:12]).decode()


def seal(apps, schema_editor):
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    for device in TOTPDevice.objects.all().only("pk", "key"):
        if not otp_secrets.seed_is_sealed(device.key):
            TOTPDevice.objects.filter(pk=device.pk).update(key=seed_seal_v1(device.key))
    StaticToken = apps.get_model("otp_static", "StaticToken")
    for token in StaticToken.objects.all().only("pk", "token"):
        digest = backup_code_digest_v1(token.token.replace("-", "").replace(" ", "").lower())
        StaticToken.objects.filter(pk=token.pk).update(token=digest)


def unseal(apps, schema_editor):
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    for device in TOTPDevice.objects.all().only("pk", "key"):
        if device.key.startswith(SEED_PREFIX):
            TOTPDevice.objects.filter(pk=device.pk).update(key=seed_open_v1(device.key).hex())


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_usersession"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="user",
            options={
                "permissions": [
                    ("provision_staff_device", "Can give another member of staff an authenticator app")
                ]
            },
        ),
        migrations.CreateModel(
            name="AuthenticatorApp",
            fields=[],
            options={"verbose_name": "authenticator app", "proxy": True, "indexes": [], "constraints": []},
            bases=("otp_totp.totpdevice",),
        ),
        migrations.RunPython(seal, unseal, elidable=False),
    ]
