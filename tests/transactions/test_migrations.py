"""The ledger's migrations do not block postings: an index on transactions_transaction, which every posting
writes, is built CONCURRENTLY on PostgreSQL (a plain CREATE INDEX locks out every INSERT while it builds)."""

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

pytestmark = pytest.mark.django_db(transaction=True)  # sqlmigrate of a non-atomic migration


def _sql(migration: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("sqlmigrate", "transactions", migration, stdout=out)
    return out.getvalue()


def test_no_migration_builds_an_index_on_the_transactions_in_a_plain_create_index():
    loader = MigrationLoader(connection)
    names = sorted(name for app, name in loader.disk_migrations if app == "transactions")
    plain = re.compile(r'CREATE (UNIQUE )?INDEX (?!CONCURRENTLY)"?\w+"? ON "?transactions_transaction"?')
    # 0001 and 0004 built and dropped indexes on an empty table before the first release.
    later = [name for name in names if name > "0005"]
    assert "0011_transaction_indexes_concurrently" in later
    assert [name for name in later if plain.search(_sql(name))] == []


def test_the_payee_indexes_are_built_concurrently_outside_a_transaction():
    migration = MigrationLoader(connection).get_migration(
        "transactions", "0011_transaction_indexes_concurrently"
    )
    assert migration.atomic is False
    sql = _sql("0011")
    assert 'CREATE INDEX CONCURRENTLY "transaction_to_others" ON "transactions_transaction"' in sql
    assert 'CREATE INDEX CONCURRENTLY "transaction_payee" ON "transactions_transaction"' in sql
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'transactions_transaction' "
            "AND indexname IN ('transaction_to_others', 'transaction_payee') ORDER BY indexname"
        )
        assert [row[0] for row in cursor.fetchall()] == ["transaction_payee", "transaction_to_others"]
