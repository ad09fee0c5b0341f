"""Paging for the admin's lists of the ledger and the audit trail, tables of millions of rows.

Django's admin counts a list's rows on every page (`paginator.count`), and for an unfiltered list that is a
COUNT(*) over the whole table: seconds at ten million entries. `EstimatedCountPaginator` answers an
unfiltered list's count from PostgreSQL's own estimate (`pg_class.reltuples`, kept by ANALYZE and
autovacuum) when the table is large, and counts exactly otherwise (a filtered or searched list, a small
table, another database)."""

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

EXACT_BELOW = 10_000  # a table estimated smaller than this is counted exactly


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is not None and not query.where and not query.distinct:
            estimate = _estimated_rows(self.object_list.db, query.model._meta.db_table)
            if estimate >= EXACT_BELOW:
                return estimate
        return super().count


def _estimated_rows(alias: str, table: str) -> int:
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return -1
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    return int(row[0]) if row else -1
