"""Second-factor secrets at rest (accounts/otp_secrets.py): the authenticator seeds already stored are
encrypted in place, the backup codes already stored are replaced by their keyed hashes (the customer's
printed codes keep working). Needs OTP_ENCRYPTION_KEY, as the portal does.

Reversing decrypts the seeds; a hash cannot be reversed, so backup codes made before stay unusable (the
customer makes new ones)."""

from django.db import migrations

from accounts import otp_secrets


def seal(apps, schema_editor):
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    for device in TOTPDevice.objects.all().only("pk", "key"):
        if not otp_secrets.seed_is_sealed(device.key):
            TOTPDevice.objects.filter(pk=device.pk).update(key=otp_secrets.seed_seal(device.key))
    StaticToken = apps.get_model("otp_static", "StaticToken")
    for token in StaticToken.objects.all().only("pk", "token"):
        digest = otp_secrets.backup_code_digest(token.token.replace("-", "").replace(" ", "").lower())
        StaticToken.objects.filter(pk=token.pk).update(token=digest)


def unseal(apps, schema_editor):
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    for device in TOTPDevice.objects.all().only("pk", "key"):
        if otp_secrets.seed_is_sealed(device.key):
            TOTPDevice.objects.filter(pk=device.pk).update(key=otp_secrets.seed_open(device.key).hex())


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
