"""Second-factor secrets bound to their users (accounts/otp_secrets.py, security review finding 1).

- Authenticator seeds sealed by 0004 ("gcm1:", one associated data for every row) are opened and sealed
  again for the user whose row they are in ("gcm2:"): the apps keep working. A seed that no configured key
  opens stops the migration (set the key 0004 sealed it with, or delete that device: its user enrols
  again); a seed still in clear is left as it is, refused as before (sealing it now would make a seed
  written by hand into the table usable).
- Backup codes hashed by 0004 (or since, by the code before this one) do not name their user, and the codes
  themselves are not known, so they cannot be bound: they are deleted. Customers with two-factor auth keep
  their authenticator app and make new backup codes on their security page; staff get new ones from a
  colleague's provisioning page or `manage.py enrol_totp`.

A row moved to another user before this runs is bound to that user: run it before the runtime role's
credentials could have been misused, or check the devices' owners first.

Reversing seals the seeds the 0004 way again and deletes the backup codes made since (the code before this
one cannot read them)."""

import importlib

from django.db import migrations

from accounts import otp_secrets

v1 = importlib.import_module("accounts.migrations.0004_second_factor_secrets")

BOUND_SEED_PREFIX = "gcm2:"
BOUND_BACKUP_PREFIX = "2:"


def bind(apps, schema_editor):
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    for device in TOTPDevice.objects.filter(key__startswith=v1.SEED_PREFIX).only("pk", "user", "key"):
        try:
            seed = v1.seed_open_v1(device.key)
        except otp_secrets.SeedError as error:
            raise RuntimeError(
                f"No OTP_ENCRYPTION_KEY opens the authenticator seed of device {device.pk} (user "
                f"{device.user_id}): set the key that sealed it, or delete the device (its user enrols again)."
            ) from error
        sealed = otp_secrets.seed_seal(seed.hex(), user_id=device.user_id)
        TOTPDevice.objects.filter(pk=device.pk).update(key=sealed)
    StaticToken = apps.get_model("otp_static", "StaticToken")
    StaticToken.objects.exclude(token__startswith=BOUND_BACKUP_PREFIX).delete()


def unbind(apps, schema_editor):
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    for device in TOTPDevice.objects.filter(key__startswith=BOUND_SEED_PREFIX).only("pk", "user", "key"):
        seed = otp_secrets.seed_open(device.key, user_id=device.user_id)
        TOTPDevice.objects.filter(pk=device.pk).update(key=v1.seed_seal_v1(seed.hex()))
    StaticToken = apps.get_model("otp_static", "StaticToken")
    StaticToken.objects.filter(token__startswith=BOUND_BACKUP_PREFIX).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_second_factor_secrets"),
    ]

    operations = [
        migrations.RunPython(bind, unbind, elidable=False),
    ]
