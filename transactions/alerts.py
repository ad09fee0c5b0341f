"""Posting alerts: every debit and credit on a customer's account emails the customer (the RBI expects an
alert for every transaction), at most once, and none is lost.

A transactional outbox (`PostingAlert`):
- **Written with the money.** `services._write` inserts one row per customer-owned leg (kind debit or
  credit; the bank's internal accounts get none) in the posting's own database transaction, one multi-row
  INSERT, `ON CONFLICT DO NOTHING` on (transaction, account, kind). A posting that rolls back leaves no
  alert; one that commits has its alerts even if the process dies the next instant. A replayed posting
  (same idempotency key) writes nothing, so it alerts nothing. Postings dated in the past by the loaders of
  history (`portal.seeding.history.posted_at`) write none, and seed_scale's COPY loader writes none.
- **Sent soon after.** `_post` queues `posting_alerts_send_task(transaction_id)` on commit (robust: a broker
  that is down fails no posting; the sweeper picks the alerts up). One message per posting.
- **Claimed before sending.** `alert_send` claims a row with one conditional UPDATE (pending → sending,
  attempts + 1): of two workers, or a task delivered twice, one claims it and the other does nothing. Only
  the claimer sends, then marks it sent.
- **Retried with backoff.** A failed send (any exception of the mail backend) puts the row back to pending
  with `next_attempt_at` 1, 2, 4, 8, 16 minutes later and the error in `last_error`; after `MAX_ATTEMPTS`
  it is failed. The sweeper (`alerts_sweep`, Celery beat every minute) sends the pending rows that are due:
  retries, and new rows whose task message was lost (a row is the sweeper's `SWEEP_GRACE` after it was
  written, so it does not race the posting's own task).
- **At most once.** A worker that dies between claiming and finishing (killed, the hard time limit) leaves
  the row in 'sending'; nobody can tell whether its email went out. Rather than risk a second email, the
  sweeper marks such rows failed after `STUCK_AFTER` (longer than any task may run) with a last error
  that says so. Failed rows are listed for staff in the admin, whose "Retry now" (audited, `alert.retry`)
  gives a row one more attempt.
- A customer who is inactive or has no email: the row is 'skipped', with the reason.

The email: templates/emails/posting_alert.txt (masked account number, amount and balance after in ₹ en_IN,
the reference, the time in IST).
"""

import logging
import time
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import User
from portal.audit import audit_record
from portal.celery import app as celery_app
from portal.local_time import date_and_time
from portal.money import format_paise
from transactions.models import Entry, PostingAlert

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6  # the first and five retries
RETRY_BASE = timedelta(minutes=1)  # then 2, 4, 8, 16 minutes: about half an hour from first try to failed
SWEEP_GRACE = timedelta(minutes=2)  # a new alert is its posting's task's for this long, then the sweeper's
STUCK_AFTER = timedelta(minutes=10)  # longer than the send and sweep tasks' hard time limits
SWEEP_LIMIT = 500  # alerts a sweep looks at
SWEEP_BUDGET_SECONDS = 45  # a sweep claims no new alert after this long (it runs every minute)
ERROR_MAX = 300  # characters of last_error

SEND_TASK = "transactions.tasks.posting_alerts_send_task"
STUCK_ERROR = (
    "Stopped while sending (the worker died or was killed): the email may or may not have gone out. "
    "Check with the customer before retrying."
)


def alerts_queue(transaction_id: int) -> None:
    """After the current database transaction commits, queue the sending of this posting's alerts. If the
    broker is unreachable the posting still stands (robust): its alerts wait for the sweeper."""
    transaction.on_commit(partial(_queue, transaction_id), robust=True)


def _queue(transaction_id: int) -> None:
    # By name (transactions.tasks imports this module); a signature still honours task_always_eager. No
    # publish retries: a broker that is down must not hold up the request, the sweeper covers it.
    celery_app.signature(SEND_TASK, args=(transaction_id,)).apply_async(retry=False)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4, 8, 16 minutes."""
    return RETRY_BASE * 2 ** (attempts - 1)


def posting_alerts_send(transaction_id: int) -> int:
    """Send the pending alerts of one posting; the number sent. Safe to run twice, or at once."""
    ids = PostingAlert.objects.filter(
        transaction_id=transaction_id, status=PostingAlert.Status.PENDING
    ).values_list("id", flat=True)
    return sum(alert_send(alert_id) for alert_id in list(ids))


def _claim(alert_id: int, now: datetime) -> bool:
    """Pending → sending, in one UPDATE that only one caller can win (PostgreSQL re-checks the WHERE of a
    second, concurrent UPDATE once the first commits, and finds the row no longer pending). A new alert may
    be claimed at once; one that failed before only once its backoff is over."""
    return bool(
        PostingAlert.objects.filter(pk=alert_id, status=PostingAlert.Status.PENDING)
        .filter(Q(attempts=0) | Q(next_attempt_at__lte=now))
        .update(status=PostingAlert.Status.SENDING, attempts=F("attempts") + 1, claimed_at=now)
    )


def _finish(alert_id: int, **fields: object) -> None:
    PostingAlert.objects.filter(pk=alert_id, status=PostingAlert.Status.SENDING).update(**fields)


def _message(alert: PostingAlert, entry: Entry, user: User) -> tuple[str, str]:
    txn = alert.transaction
    context = {
        "user": user,
        "debit": alert.kind == PostingAlert.Kind.DEBIT,
        "amount": format_paise(abs(entry.amount)),
        "account": "XXXX" + alert.account.number[-4:],
        "when": date_and_time(entry.created),
        "balance": format_paise(entry.balance_after),
        "reference": txn.reference,
        "details": txn.counterparty or txn.description,
        "bank_phone": settings.BANK_PHONE,
    }
    subject = " ".join(render_to_string("emails/posting_alert.txt#subject", context).split())
    body = render_to_string("emails/posting_alert.txt#body", context).strip() + "\n"
    return subject, body


def alert_send(alert_id: int) -> bool:
    """Claim one alert and email it; whether this call sent it. Only the call that claims the alert sends
    it, so running this twice, or in two workers at once, sends one email."""
    now = timezone.now()
    if not _claim(alert_id, now):
        return False
    alert = PostingAlert.objects.select_related("transaction", "account__owner").get(pk=alert_id)
    user = alert.account.owner
    if user is None or not user.is_active or not user.email:
        _finish(
            alert_id,
            status=PostingAlert.Status.SKIPPED,
            last_error="The customer is inactive or has no email.",
        )
        return False
    try:
        entry = Entry.objects.get(transaction_id=alert.transaction_id, account_id=alert.account_id)
        subject, body = _message(alert, entry, user)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except Exception as error:  # whatever the mail backend raised is this attempt's outcome
        _record_failure(alert, error)
        return False
    _finish(alert_id, status=PostingAlert.Status.SENT, sent_at=timezone.now(), last_error="")
    return True


def _record_failure(alert: PostingAlert, error: BaseException) -> None:
    message = f"{type(error).__name__}: {error}"[:ERROR_MAX]
    if alert.attempts >= MAX_ATTEMPTS:
        logger.error("posting alert %s failed after %s attempts: %s", alert.pk, alert.attempts, message)
        _finish(alert.pk, status=PostingAlert.Status.FAILED, last_error=message)
        return
    logger.warning("posting alert %s attempt %s failed: %s", alert.pk, alert.attempts, message)
    _finish(
        alert.pk,
        status=PostingAlert.Status.PENDING,
        next_attempt_at=timezone.now() + retry_delay(alert.attempts),
        last_error=message,
    )


def alerts_sweep() -> dict[str, int]:
    """Beat, every minute: mark alerts stuck in 'sending' failed (see the module docstring), then send the
    pending alerts that are due, oldest first, for at most SWEEP_BUDGET_SECONDS."""
    now = timezone.now()
    stuck = PostingAlert.objects.filter(
        status=PostingAlert.Status.SENDING, claimed_at__lt=now - STUCK_AFTER
    ).update(status=PostingAlert.Status.FAILED, last_error=STUCK_ERROR)
    if stuck:
        logger.error("%s posting alerts were stuck while sending: marked failed for staff", stuck)
    due = list(
        PostingAlert.objects.filter(status=PostingAlert.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:SWEEP_LIMIT]
    )
    deadline = time.monotonic() + SWEEP_BUDGET_SECONDS
    sent = 0
    for alert_id in due:
        if time.monotonic() > deadline:
            break
        sent += alert_send(alert_id)
    return {"stuck": stuck, "due": len(due), "sent": sent}


def alerts_retry(*, alert_ids: list[int], by: User, request: HttpRequest | None = None) -> int:
    """Staff's "Retry now": failed alerts back to pending, due now, one audit event each; their postings'
    send tasks are queued on commit. Returns how many. An alert that is not failed is left alone."""
    with transaction.atomic():
        alerts = list(
            PostingAlert.objects.select_for_update()
            .filter(pk__in=alert_ids, status=PostingAlert.Status.FAILED)
            .order_by("pk")
        )
        now = timezone.now()
        for alert in alerts:
            audit_record(
                action="alert.retry",
                actor=by,
                obj=alert,
                before={"status": alert.status, "attempts": alert.attempts, "last_error": alert.last_error},
                after={"status": PostingAlert.Status.PENDING},
                request=request,
            )
        PostingAlert.objects.filter(pk__in=[a.pk for a in alerts]).update(
            status=PostingAlert.Status.PENDING, next_attempt_at=now
        )
        for transaction_id in sorted({a.transaction_id for a in alerts}):
            alerts_queue(transaction_id)
    return len(alerts)
