"""Writes for the accounts app."""

from django.db import transaction
from django.http import HttpRequest

from accounts.models import User
from portal.audit import audit_record


def user_remember_previous_login(*, user: User) -> None:
    """Keep the time of the login before this one, to show the customer on the dashboard.

    Called just before Django records the new login in `last_login`.
    """
    User.objects.filter(pk=user.pk).update(previous_login=user.last_login)
    user.previous_login = user.last_login


def user_password_change(*, user: User, new_password: str, request: HttpRequest | None = None) -> None:
    """Set a new (already validated) password and record it, in one transaction. The audit event says
    that the password changed, never what to. Every session of the user made before this ends at its next
    request: Django checks each session against a hash of the password (the caller keeps its own session
    with `update_session_auth_hash`)."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit_record(action="password.change", actor=user, obj=user, request=request)
