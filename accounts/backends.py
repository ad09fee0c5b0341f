from django.contrib.auth.backends import ModelBackend

from accounts.models import User
from portal.db import fetch_models


class UserBackend(ModelBackend):
    """Django's ModelBackend, with the per-request user lookup through `portal.db.fetch_models` (one plain
    SELECT instead of a freshly compiled ORM query) on PostgreSQL."""

    def get_user(self, user_id: object) -> User | None:
        # `user_id` comes from our own session, already converted by Django (auth._get_user_session_key).
        users = fetch_models(User, "id = %s", [user_id])
        if users is None:
            return super().get_user(user_id)
        user = users[0] if users else None
        return user if self.user_can_authenticate(user) else None
