"""The time of each account's newest entry (`Account.posted_until`). Filled from the ledger and guarded by
transactions migration 0013, which depends on this one."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_settlement_shards")]

    operations = [
        migrations.AddField(
            model_name="account",
            name="posted_until",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
