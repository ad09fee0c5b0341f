"""Settlement spread over shards (accounts/internal.py): the shard accounts of the current
SETTLEMENT_SHARDS, and shard 0 (the settlement account of old) named like its siblings if nobody renamed it.
`manage.py migrate` also creates shards added later by raising the setting (accounts/apps.py)."""

from django.db import migrations

from accounts import internal

OLD_NAME = "Settlement (money in and out of the bank)"


def create(apps, schema_editor):
    account = apps.get_model("accounts", "Account")
    internal.ensure_internal_accounts(account, using=schema_editor.connection.alias)
    account.objects.filter(number=internal.SETTLEMENT, name=OLD_NAME).update(name=internal.settlement_name(0))


def remove(apps, schema_editor):
    account = apps.get_model("accounts", "Account")
    shards = account.objects.filter(kind="internal", number__startswith=internal.SETTLEMENT_SHARD_PREFIX)
    if shards.exclude(entries=None).exists():
        # Money went through them: removing them would strand it (and PROTECT would refuse anyway).
        raise RuntimeError("Settlement shards hold entries: move their balances to shard 0 first.")
    shards.delete()
    account.objects.filter(number=internal.SETTLEMENT, name=internal.settlement_name(0)).update(name=OLD_NAME)


class Migration(migrations.Migration):
    # Another branch adds 0007 at the same time: the merge points this at it.
    dependencies = [("accounts", "0007_payee"), ("transactions", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
