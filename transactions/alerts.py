"""Posting alerts: every debit and credit on a customer's account emails the customer (the RBI expects an
alert for every transaction), at most once, and none is lost.

A transactional outbox (`PostingAlert`):
- **Written with the money.** `services._write` inserts one row per customer-owned leg (kind debit or
  credit; the bank's internal accounts get none) in the posting's own database transaction, one multi-row
  INSERT, `ON CONFLICT DO NOTHING` on (transaction, account, kind). A posting that rolls back leaves no
  alert; one that commits has its alerts even if the process dies the next instant. A replayed posting
  (same idempotency key) writes nothing, so it alerts nothing. Postings dated in the past by the loaders of
  history (`portal.seeding.history.posted_at`) write none, and seed_scale's COPY loader writes none.
  That INSERT is all a posting does for its alerts: no task message per posting (measured: publishing one
  on commit cost the web worker more CPU than the posting's own SQL; README, Performance).
- **Handed out by a dispatcher.** `alerts_dispatch` (Celery beat, every `DISPATCH_SECONDS`) takes the
  pending alerts that are due, pushes their `next_attempt_at` a `LEASE` ahead (so the next run does not
  hand them out again), and queues `posting_alerts_send_task` with chunks of `CHUNK` (id, attempts) pairs:
  the workers send in parallel, one message per chunk. A message that is lost (a broker restart, a worker
  that died before claiming) costs only the lease: the alerts are due again after it.
- **Claimed before sending.** `alert_send` claims a row with one conditional UPDATE (pending and still at
  the attempt the message was made for → sending, attempts + 1): of two workers, or a message delivered
  twice, or a stale one, one claims it and the others do nothing. Only the claimer sends, then marks it sent.
- **Retried with backoff.** A failed send (any exception of the mail backend) puts the row back to pending
  with `next_attempt_at` 1, 2, 4, 8, 16 minutes later and the error in `last_error`; after `MAX_ATTEMPTS`
  it is failed.
- **At most once.** A worker that dies between claiming and finishing (killed, the hard time limit) leaves
  the row in 'sending'; nobody can tell whether its email went out. Rather than risk a second email, the
  dispatcher marks such rows failed after `STUCK_AFTER` (longer than the send task may run) with a last
  error that says so. Failed rows are listed for staff in the admin, whose "Retry now" (audited,
  `alert.retry`) makes a row due again, for one more attempt.
- A customer who is inactive or has no email: the row is 'skipped', with the reason.

The email: templates/emails/posting_alert.txt (masked account number, amount and balance after in ₹ en_IN,
the reference, the time in IST).
"""

import logging
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
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
DISPATCH_SECONDS = 5.0  # how often beat runs the dispatcher: an alert leaves within about this long
DISPATCH_LIMIT = 5000  # alerts handed out per run (1,000 a second at most)
# Alerts per send task: a chunk is sent one email after another, and a mail server that hangs costs each
# send up to EMAIL_TIMEOUT (10 s): 20 of them stay well inside the LEASE and the task's time limit.
CHUNK = 20
LEASE = timedelta(minutes=5)  # an alert handed out is not handed out again before this (a lost message)
STUCK_AFTER = timedelta(minutes=10)  # longer than the send task's hard time limit
ERROR_MAX = 300  # characters of last_error

SEND_TASK = "transactions.tasks.posting_alerts_send_task"
STUCK_ERROR = (
    "Stopped while sending (the worker died or was killed): the email may or may not have gone out. "
    "Check with the customer before retrying."
)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4, 8, 16 minutes."""
    return RETRY_BASE * 2 ** (attempts - 1)


def alerts_dispatch() -> dict[str, int]:
    """Beat, every DISPATCH_SECONDS: mark alerts stuck in 'sending' failed (see the module docstring), then
    hand the pending alerts that are due, oldest first, to send tasks. Two runs at once hand out different
    alerts (SKIP LOCKED); the lease keeps a later run from handing out the same ones again."""
    now = timezone.now()
    stuck = PostingAlert.objects.filter(
        status=PostingAlert.Status.SENDING, claimed_at__lt=now - STUCK_AFTER
    ).update(status=PostingAlert.Status.FAILED, last_error=STUCK_ERROR)
    if stuck:
        logger.error("%s posting alerts were stuck while sending: marked failed for staff", stuck)
    with transaction.atomic():
        due = list(
            PostingAlert.objects.select_for_update(skip_locked=True)
            .filter(status=PostingAlert.Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("id", "attempts")[:DISPATCH_LIMIT]
        )
        PostingAlert.objects.filter(pk__in=[alert_id for alert_id, _attempts in due]).update(
            next_attempt_at=now + LEASE
        )
    for start in range(0, len(due), CHUNK):
        # By name (transactions.tasks imports this module); a signature still honours task_always_eager.
        celery_app.signature(SEND_TASK, args=(due[start : start + CHUNK],)).delay()
    return {"stuck": stuck, "due": len(due)}


def alerts_send(alerts: list[tuple[int, int]]) -> int:
    """Send each (alert id, attempts when handed out); the number this call sent. Safe to run twice, or in
    two workers at once: each alert is claimed before it is sent."""
    return sum(alert_send(alert_id, attempts) for alert_id, attempts in alerts)


def _claim(alert_id: int, attempts: int) -> bool:
    """Pending at the expected attempt → sending, in one UPDATE that only one caller can win (PostgreSQL
    re-checks the WHERE of a concurrent UPDATE once the first commits, and finds the row changed). A
    message made for an earlier attempt (redelivered late, or from before a failure) claims nothing."""
    return bool(
        PostingAlert.objects.filter(
            pk=alert_id, status=PostingAlert.Status.PENDING, attempts=attempts
        ).update(status=PostingAlert.Status.SENDING, attempts=F("attempts") + 1, claimed_at=timezone.now())
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
        # The entry's own counterparty first: a payee's credit names the payer, not the payer's label.
        "details": entry.counterparty or txn.counterparty or txn.description,
        "bank_phone": settings.BANK_PHONE,
    }
    subject = " ".join(render_to_string("emails/posting_alert.txt#subject", context).split())
    body = render_to_string("emails/posting_alert.txt#body", context).strip() + "\n"
    return subject, body


def alert_send(alert_id: int, attempts: int) -> bool:
    """Claim one alert (handed out at `attempts`) and email it; whether this call sent it. Only the call
    that claims the alert sends it, so running this twice, or in two workers at once, sends one email."""
    if not _claim(alert_id, attempts):
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
    except SoftTimeLimitExceeded as error:  # the task is out of time: record this attempt, claim no more
        _record_failure(alert, error)
        raise
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


def alerts_retry(*, alert_ids: list[int], by: User, request: HttpRequest | None = None) -> int:
    """Staff's "Retry now": failed alerts back to pending and due now (the dispatcher sends them within
    seconds, one more attempt each), one audit event each. Returns how many; an alert that is not failed is
    left alone."""
    with transaction.atomic():
        alerts = list(
            PostingAlert.objects.select_for_update()
            .filter(pk__in=alert_ids, status=PostingAlert.Status.FAILED)
            .order_by("pk")
        )
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
            status=PostingAlert.Status.PENDING, next_attempt_at=timezone.now()
        )
    return len(alerts)
