"""Reads for the accounts app. Every selector for customers takes the user and filters by it; the bank's own
figures (settlement_position) are for staff and the back office only."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import internal
from accounts.devices import describe_user_agent
from accounts.models import Account, Payee, User, UserSession
from portal.db import fetch_models
from portal.local_time import date_and_time_from
from portal.models import AuditEvent
from portal.money import format_paise


def account_list(*, user: User) -> list[Account]:
    """The customer's accounts that are not closed, in the order they were opened. On every dashboard and
    transfer form, so read without the ORM's compilation on PostgreSQL (portal/db.py)."""
    accounts = fetch_models(Account, "owner_id = %s AND status <> %s", [user.pk, Account.Status.CLOSED], "id")
    if accounts is None:
        accounts = list(
            Account.objects.filter(owner=user).exclude(status=Account.Status.CLOSED).order_by("id")
        )
    return accounts


def transfer_possible(*, user: User, accounts: list[Account]) -> bool:
    """Whether the transfer form has something to offer: an active account to move money from, and another
    account or a payee to move it to. The payees are read (one query) only when the accounts alone say no:
    the dashboard of a customer with two accounts, the common case, reads none."""
    if not any(a.status == Account.Status.ACTIVE for a in accounts):
        return False
    return len(accounts) >= 2 or Payee.objects.filter(owner=user, removed_at__isnull=True).exists()


def account_fingerprint(*, accounts: list[Account]) -> str:
    """Changes whenever anything shown about these accounts changes: a posting bumps ledger_version, and
    staff edits change name, status or limit. A cache key for fragments drawn from them."""
    return ";".join(f"{a.pk}.{a.ledger_version}.{a.status}.{a.overdraft_limit}.{a.name}" for a in accounts)


@dataclass(frozen=True)
class SettlementShard:
    shard: int
    number: str
    name: str
    balance: int  # paise; negative when more came into customers' accounts than went out
    chosen: bool  # postings choose it now (below SETTLEMENT_SHARDS); otherwise it only keeps its balance


@dataclass(frozen=True)
class SettlementPosition:
    total: int  # paise: the bank's settlement position, the sum over every shard
    shards: list[SettlementShard]


def settlement_position() -> SettlementPosition:
    """The bank's settlement position: the sum of every settlement shard's balance (accounts/internal.py),
    shards beyond a lowered SETTLEMENT_SHARDS included, with each shard beside it. One query; for staff."""
    rows = (
        Account.objects.filter(kind=Account.Kind.INTERNAL)
        .filter(Q(number=internal.SETTLEMENT) | Q(number__startswith=internal.SETTLEMENT_SHARD_PREFIX))
        .values_list("number", "name", "balance")
    )
    chosen = internal.settlement_shards()
    shards = sorted(
        (
            SettlementShard(shard=shard, number=number, name=name, balance=balance, chosen=shard < chosen)
            for number, name, balance in rows
            if (shard := internal.settlement_shard_of(number)) is not None
        ),
        key=lambda s: s.shard,
    )
    return SettlementPosition(total=sum(s.balance for s in shards), shards=shards)


def sign_in_list(*, user: User, limit: int = 10) -> QuerySet[UserSession]:
    """The customer's latest sign-ins, newest first."""
    return UserSession.objects.filter(user=user).order_by("-created_at", "-id")[:limit]


SIGN_IN_FAILURES = {"login.failure": "Wrong password", "login.otp_failure": "Wrong code"}


def sign_in_failure_list(*, user: User, limit: int = 10) -> QuerySet[AuditEvent]:
    """Failed attempts at this customer's account, newest first, in one query: a wrong password for their
    email (by anyone: the event has no actor, only the email typed; index auditevent_login_failure_email)
    and a wrong code after their password (index auditevent_otp_failure_actor). The sign-in form lower-cases
    what is typed, so the email is matched lower-cased (staff may have saved one with capitals)."""
    email = user.email.lower()
    if connection.vendor == "postgresql":  # the text of the key (->>), which the partial index holds
        events = AuditEvent.objects.alias(typed_email=KT("after__email"))
        wrong_password = Q(action="login.failure", typed_email=email)
    else:  # SQLite (the embedded default) cannot compare KT() with a string: a JSON key lookup instead
        events = AuditEvent.objects.all()
        wrong_password = Q(action="login.failure", after__email=email)
    wrong_code = Q(action="login.otp_failure", actor=user)
    return (
        events.filter(wrong_password | wrong_code)
        .only("seq", "created", "action", "ip", "user_agent")
        .order_by("-created", "-seq")[:limit]
    )


@dataclass(frozen=True)
class SignInAttempt:
    """A line of the security page's recent sign-ins: a sign-in, or a failed attempt (`failure` says how)."""

    created_at: datetime
    device: str
    ip: str | None
    failure: str = ""


def sign_in_attempt_list(*, user: User, limit: int = 10) -> list[SignInAttempt]:
    """Sign-ins and failed attempts together, newest first (two queries: `sign_in_list` and
    `sign_in_failure_list`)."""
    rows = [SignInAttempt(s.created_at, s.device, s.ip) for s in sign_in_list(user=user, limit=limit)]
    rows += [
        SignInAttempt(e.created, describe_user_agent(e.user_agent), e.ip, SIGN_IN_FAILURES[e.action])
        for e in sign_in_failure_list(user=user, limit=limit)
    ]
    rows.sort(key=lambda row: row.created_at, reverse=True)
    return rows[:limit]


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


def payee_list(*, user: User) -> QuerySet[Payee]:
    """The customer's payees (removed ones left out), by name: one query on the (owner, name) index."""
    return Payee.objects.filter(owner=user, removed_at__isnull=True).order_by("name", "id")


def payee_get(*, user: User, pk: int) -> Payee | None:
    """One of the customer's payees, or None: another customer's, a removed one and a made-up id alike."""
    return Payee.objects.filter(owner=user, pk=pk, removed_at__isnull=True).first()


def payee_removed_get(*, user: User, pk: int) -> Payee | None:
    """One of the customer's removed payees (for its old page to say so), or None: another customer's and a
    made-up id alike."""
    return Payee.objects.filter(owner=user, pk=pk, removed_at__isnull=False).first()


SECURITY_CHANGE_PREFIXES = ("payee.", "limit.")
_CHANGE_LABELS = {
    "payee.add": _("Payee added"),
    "payee.rename": _("Payee renamed"),
    "payee.remove": _("Payee removed"),
    "limit.change": _("Limit changed"),
}
_LIMIT_NAMES = (("daily", _("daily")), ("per_transfer", _("per transfer")))


@dataclass(frozen=True)
class SecurityChange:
    """A line of the security page's recent changes: when, what (in words, from the audit event's before
    and after), from which address."""

    created: datetime
    action: str
    label: str
    ip: str | None


def _limit_amount(paise: object) -> str:
    return format_paise(paise) if isinstance(paise, int) else str(_("the bank's limit"))


def _limit_change_words(before: dict, after: dict) -> str:
    """ "Limit changed: daily ₹2,00,000.00 → ₹50,000.00; per transfer ₹50,000.00 → ₹1,00,000.00 from
    6 Dec 2026, 2:00 PM IST" (a raise waits 12 hours: its `pending_*` and `pending_from`)."""
    parts = []
    pending_from = after.get("pending_from")
    for name, words in _LIMIT_NAMES:
        old, new = before.get(f"own_{name}_paise"), after.get(f"own_{name}_paise")
        pending = after.get(f"pending_{name}_paise")
        if (
            pending is not None
            and pending_from
            and (pending != before.get(f"pending_{name}_paise") or pending_from != before.get("pending_from"))
        ):
            when = date_and_time_from(datetime.fromisoformat(pending_from))
            parts.append(
                _("%(which)s %(old)s → %(new)s from %(when)s")
                % {"which": words, "old": _limit_amount(new), "new": _limit_amount(pending), "when": when}
            )
        elif old != new:
            parts.append(
                _("%(which)s %(old)s → %(new)s")
                % {"which": words, "old": _limit_amount(old), "new": _limit_amount(new)}
            )
        elif pending is None and before.get(f"pending_{name}_paise") is not None:
            parts.append(_("%(which)s: the raise waiting was dropped") % {"which": words})
    return "; ".join(parts)


def _change_label(event: AuditEvent) -> str:
    label = str(_CHANGE_LABELS.get(event.action, event.action))
    before, after = event.before or {}, event.after or {}
    if event.action == "payee.rename" and before.get("name") and after.get("name"):
        return f"{label}: {before['name']} → {after['name']}"
    if event.action.startswith("payee.") and (named := (after or before).get("name")):
        return f"{label}: {named}"
    if event.action == "limit.change" and (words := _limit_change_words(before, after)):
        return f"{label}: {words}"
    return label


def security_change_list(*, user: User, limit: int = 10) -> list[SecurityChange]:
    """The customer's own recent payee and limit changes, from the audit trail, in words: a rename with
    the old and new name, a limit with its amounts before and after (and from when, for a raise)."""
    prefixes = Q()
    for prefix in SECURITY_CHANGE_PREFIXES:
        prefixes |= Q(action__startswith=prefix)
    events = AuditEvent.objects.filter(prefixes, actor=user).order_by("-created", "-seq")[:limit]
    return [SecurityChange(e.created, e.action, _change_label(e), e.ip) for e in events]
