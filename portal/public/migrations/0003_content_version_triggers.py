"""PostgreSQL moves the public pages' versions itself: a statement trigger on each table the pages are
drawn from bumps its namespace's row in public_contentversion, in the writing statement's transaction. So a
write that sends no Django signal (`queryset.update()`, `bulk_create`, raw SQL, a DBA's fix) still drops
the cached copies when it commits; the workers see it at their next re-read of the versions (within
PUBLIC_PAGE_RECHECK_SECONDS), or at once when the writer announces it (portal/public/signals.py does, for
every save and delete through the ORM). A namespace whose row is missing gets one, its version the time in
nanoseconds (portal/public/page_cache.py does the same). SQLite, the embedded default, keeps the signals
alone."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION public_content_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE public_contentversion SET version = version + 1, changed_at = now()
     WHERE namespace = TG_ARGV[0];
    IF NOT FOUND THEN
        INSERT INTO public_contentversion (namespace, version, changed_at)
        VALUES (TG_ARGV[0], (extract(epoch FROM clock_timestamp()) * 1000000000)::bigint, now())
        ON CONFLICT (namespace) DO UPDATE SET version = public_contentversion.version + 1, changed_at = now();
    END IF;
    RETURN NULL;
END
$$
"""
TABLES = {"public_interestrate": "rates", "public_faqentry": "faq", "public_faqcategory": "faq"}


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    for table, namespace in TABLES.items():
        schema_editor.execute(
            f"CREATE TRIGGER {table}_content_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION public_content_version_bump('{namespace}')",
            params=None,
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_content_version ON {table}", params=None)
    schema_editor.execute("DROP FUNCTION IF EXISTS public_content_version_bump()", params=None)


class Migration(migrations.Migration):
    dependencies = [("public", "0002_faq_search")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
