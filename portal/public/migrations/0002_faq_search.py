"""A GIN index for the FAQ search on PostgreSQL (portal/public/faq.py): over the same weighted document
the search builds (the question as A, the answer as B, English), so that the planner can use it as the FAQ
grows. Other databases (the embedded SQLite default) search without it."""

from django.db import migrations

INDEX = "public_faqentry_search"
CREATE = f"""
CREATE INDEX {INDEX} ON public_faqentry USING gin ((
    setweight(to_tsvector('english'::regconfig, COALESCE(question, '')), 'A')
    || setweight(to_tsvector('english'::regconfig, COALESCE(answer, '')), 'B')
))
"""
DROP = f"DROP INDEX IF EXISTS {INDEX}"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("public", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
