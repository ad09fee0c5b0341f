from django.contrib.auth.backends import ModelBackend
from django.db import connection

from accounts.models import User

_FIELDS = User._meta.concrete_fields
_SELECT_USER = (
    f"SELECT {', '.join(connection.ops.quote_name(f.column) for f in _FIELDS)} "  # noqa: S608 - our own model
    f"FROM {connection.ops.quote_name(User._meta.db_table)} WHERE id = %s"
)
_ATTNAMES = [f.attname for f in _FIELDS]


class UserBackend(ModelBackend):
    """Django's ModelBackend, with a lean per-request user lookup.

    Every signed-in request loads its user (AuthenticationMiddleware → `get_user`). Through the ORM that
    query is compiled afresh each time and costs more Python than the row itself (about 600 µs against
    250 µs for a plain cursor and `Model.from_db`, round trip included, measured on the bench database).
    The row is read fresh from the database every time: no cache that a deactivation or a password change
    would have to invalidate. On PostgreSQL only: psycopg returns every column of the user as its Python
    type; other databases (SQLite on embedded defaults) need Django's converters, so they take the ORM.
    """

    def get_user(self, user_id: object) -> User | None:
        # `user_id` comes from our own session, already converted by Django (auth._get_user_session_key).
        if connection.vendor != "postgresql":
            return super().get_user(user_id)
        with connection.cursor() as cursor:
            cursor.execute(_SELECT_USER, [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        user = User.from_db(connection.alias, _ATTNAMES, row)
        return user if self.user_can_authenticate(user) else None
