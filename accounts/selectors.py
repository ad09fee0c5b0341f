"""Reads for the accounts app. Every selector takes the user and filters by it."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Account, User, UserSession
from portal.db import fetch_models
from portal.models import AuditEvent


def account_list(*, user: User) -> list[Account]:
    """The customer's accounts that are not closed, in the order they were opened. On every dashboard and
    transfer form, so read without the ORM's compilation on PostgreSQL (portal/db.py)."""
    accounts = fetch_models(Account, "owner_id = %s AND status <> %s", [user.pk, Account.Status.CLOSED], "id")
    if accounts is None:
        accounts = list(
            Account.objects.filter(owner=user).exclude(status=Account.Status.CLOSED).order_by("id")
        )
    return accounts


def transfer_possible(*, accounts: list[Account]) -> bool:
    """Whether the transfer form has something to offer: an active account to move money from and another
    account to move it to (payees do not exist yet)."""
    return len(accounts) >= 2 and any(a.status == Account.Status.ACTIVE for a in accounts)


def account_fingerprint(*, accounts: list[Account]) -> str:
    """Changes whenever anything shown about these accounts changes: a posting bumps ledger_version, and
    staff edits change name, status or limit. A cache key for fragments drawn from them."""
    return ";".join(f"{a.pk}.{a.ledger_version}.{a.status}.{a.overdraft_limit}.{a.name}" for a in accounts)


def sign_in_list(*, user: User, limit: int = 10) -> QuerySet[UserSession]:
    """The customer's latest sign-ins, newest first."""
    return UserSession.objects.filter(user=user).order_by("-created_at", "-id")[:limit]


def session_active_list(*, user: User, limit: int = 20) -> QuerySet[UserSession]:
    """Sessions that can still be used: not ended, active within the idle timeout and younger than the
    absolute lifetime. A session that went quiet is left out even before anything marks it ended."""
    now = timezone.now()
    return UserSession.objects.filter(
        user=user,
        ended_at__isnull=True,
        last_seen_at__gte=now - timedelta(seconds=settings.SESSION_IDLE_TIMEOUT),
        created_at__gte=now - timedelta(seconds=settings.SESSION_ABSOLUTE_TIMEOUT),
    ).order_by("-last_seen_at", "-id")[:limit]


SECURITY_CHANGE_PREFIXES = ("payee.", "limit.")


def security_change_list(*, user: User, limit: int = 10) -> QuerySet[AuditEvent]:
    """The customer's own recent payee and limit changes, from the audit trail."""
    prefixes = Q()
    for prefix in SECURITY_CHANGE_PREFIXES:
        prefixes |= Q(action__startswith=prefix)
    return AuditEvent.objects.filter(prefixes, actor=user).order_by("-created", "-seq")[:limit]
