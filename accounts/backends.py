from django.contrib.auth.backends import ModelBackend

from accounts.models import User


class UserBackend(ModelBackend):
    """Django's ModelBackend, with the per-request user lookup as one raw SELECT.

    Every signed-in request loads its user (AuthenticationMiddleware → `get_user`). The ORM compiles that
    query afresh each time, which cost more Python than the row itself; a raw query reads the same row, fresh
    from the database (no cache that a deactivation or a password change would have to invalidate).
    """

    def get_user(self, user_id: object) -> User | None:
        # `user_id` comes from our own session, already converted by Django (auth._get_user_session_key).
        query = f"SELECT * FROM {User._meta.db_table} WHERE id = %s"  # noqa: S608 - a model's own table
        user = next(iter(User.objects.raw(query, [user_id])), None)
        return user if self.user_can_authenticate(user) else None
