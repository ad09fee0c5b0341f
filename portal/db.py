"""Reads on the hottest paths, without the ORM's per-call query compilation.

Every signed-in request loads its user, the dashboard its accounts, a transfer to a payee the customer's
payees and (locked) their limits row. Through the ORM each such query is
compiled afresh on every call, which costs more Python than the rows themselves (the user: about 600 µs
through `get()` against 250 µs here, round trip included, measured on the bench database). `fetch_models`
runs a fixed SELECT of the model's concrete columns on a plain cursor and builds instances with
`Model.from_db`, as the ORM does after its compilation. The rows are read fresh every time: no cache to
invalidate.

PostgreSQL only: psycopg returns every column of these models as its Python type, so no converters are
needed. Elsewhere (SQLite on the embedded defaults) it returns None and the caller uses the ORM.
"""

from functools import cache

from django.db import connection, models


@cache
def _select(model: type[models.Model], where: str, order_by: str, lock: bool) -> tuple[str, list[str]]:
    fields = model._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"SELECT {columns} FROM {table} WHERE {where}"  # noqa: S608 - our own model, fixed clauses
    if order_by:
        sql += f" ORDER BY {order_by}"
    if lock:
        sql += " FOR UPDATE"
    return sql, [f.attname for f in fields]


def fetch_models(
    model: type[models.Model], where: str, params: list, order_by: str = "", *, lock: bool = False
) -> list[models.Model] | None:
    """Instances of `model` matching `where` (SQL with %s placeholders, written by us, never from input),
    or None when the database is not PostgreSQL. `lock`: the rows FOR UPDATE (in a transaction)."""
    if connection.vendor != "postgresql":
        return None
    sql, attnames = _select(model, where, order_by, lock)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [model.from_db(connection.alias, attnames, row) for row in rows]


def fetch_model_lists(
    queries: list[tuple[type[models.Model], str, list, str]],
) -> list[list[models.Model]] | None:
    """`fetch_models` for several (model, where, params, order_by) at once: their SELECTs sent in one round
    trip (one execute of several statements, which psycopg allows with client-side binding, Django's
    default; each result read in turn with `nextset`). None when the database is not PostgreSQL, or binds
    parameters on the server (`server_side_binding`: one statement an execute), and the caller reads them
    one by one."""
    if connection.vendor != "postgresql" or connection.settings_dict["OPTIONS"].get("server_side_binding"):
        return None
    selects, params, shapes = [], [], []
    for model, where, model_params, order_by in queries:
        sql, attnames = _select(model, where, order_by, False)
        selects.append(sql)
        params += model_params
        shapes.append((model, attnames))
    found: list[list[models.Model]] = []
    with connection.cursor() as cursor:
        cursor.execute("; ".join(selects), params)
        for i, (model, attnames) in enumerate(shapes):
            if i:
                cursor.nextset()
            found.append([model.from_db(connection.alias, attnames, row) for row in cursor.fetchall()])
    return found
