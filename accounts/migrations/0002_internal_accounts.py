from django.db import migrations

from accounts.internal import INTERNAL_ACCOUNTS, ensure_internal_accounts


def create(apps, schema_editor):
    ensure_internal_accounts(apps.get_model("accounts", "Account"))


def remove(apps, schema_editor):
    apps.get_model("accounts", "Account").objects.filter(number__in=INTERNAL_ACCOUNTS, entries=None).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
