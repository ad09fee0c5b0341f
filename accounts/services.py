"""Writes for the accounts app."""

from django.db import transaction
from django.http import HttpRequest

from accounts import sessions
from accounts.models import Account, User, UserSession
from accounts.notifications import notify
from portal.audit import audit_record
from portal.models import AuditEvent


def user_remember_previous_login(*, user: User) -> None:
    """Keep the time of the login before this one, to show the customer on the dashboard.

    Called just before Django records the new login in `last_login`.
    """
    User.objects.filter(pk=user.pk).update(previous_login=user.last_login)
    user.previous_login = user.last_login


def compromise_report(*, user: User, request: HttpRequest) -> AuditEvent:
    """This wasn't me: freeze outgoing payments on every active account of the customer, end all their
    sessions, and record `security.compromise_reported` for staff to follow up; all in one transaction,
    with the accounts locked (in primary-key order, as the ledger locks them) so that no transfer slips
    between the check and the freeze. The ledger refuses debits from a frozen account
    (transactions.services). The caller signs the current session out after the commit."""
    with transaction.atomic():
        accounts = list(Account.objects.select_for_update().filter(owner=user).order_by("pk"))
        before = {str(a.pk): a.status for a in accounts}
        frozen = [a for a in accounts if a.status == Account.Status.ACTIVE]
        Account.objects.filter(pk__in=[a.pk for a in frozen]).update(status=Account.Status.FROZEN)
        for account in frozen:
            account.status = Account.Status.FROZEN
        ended = sessions.sessions_revoke(
            user=user, request=request, keep_current=False, reason=UserSession.EndReason.COMPROMISE
        )
        event = audit_record(
            action="security.compromise_reported",
            actor=user,
            obj=user,
            before={"accounts": before},
            after={"accounts": {str(a.pk): a.status for a in accounts}, "devices_signed_out": ended},
            request=request,
        )
        reference = compromise_reference(event)
        notify(user, "compromise_reported", accounts=frozen, reference=reference, at=event.created)
    return event


def compromise_reference(event: AuditEvent) -> str:
    """The reference a customer quotes on the phone: the report's audit event, e.g. SR0000012345."""
    return f"SR{event.seq:010d}"
