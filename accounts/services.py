"""Writes for the accounts app."""

from accounts.models import User


def user_remember_previous_login(*, user: User) -> None:
    """Keep the time of the login before this one, to show the customer on the dashboard.

    Called just before Django records the new login in `last_login`.
    """
    User.objects.filter(pk=user.pk).update(previous_login=user.last_login)
    user.previous_login = user.last_login
