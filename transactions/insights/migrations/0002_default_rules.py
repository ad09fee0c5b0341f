from django.db import migrations


def forwards(apps, schema_editor):
    from transactions.insights.defaults import ensure_default_rules

    ensure_default_rules(apps.get_model("insights", "CategoryRule"))


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0001_initial"),
        ("transactions", "0013_history_order_guard"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
