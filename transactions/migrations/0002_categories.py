from django.db import migrations

from transactions.categories import CATEGORIES, ensure_categories


def create(apps, schema_editor):
    ensure_categories(apps.get_model("transactions", "Category"))


def remove(apps, schema_editor):
    apps.get_model("transactions", "Category").objects.filter(slug__in=CATEGORIES).delete()


class Migration(migrations.Migration):
    dependencies = [("transactions", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
