"""Writes of scheduled transfers: setting one up, pausing, resuming and cancelling it, and running the
occurrences that are due (the beat job `transactions.tasks.scheduled_transfers_run_task` calls
`scheduled_transfers_run`).

An occurrence runs once, whatever runs the job twice (two beat ticks, two workers, a redelivered task):
- the schedule's row is taken FOR UPDATE SKIP LOCKED and re-read as still due: a second runner skips a
  schedule being run, and after it commits finds the schedule already advanced;
- its run is recorded in the same database transaction as the posting and the schedule's advance, under
  a unique (schedule, planned date): a second record of one occurrence is refused and rolls back its
  posting with it;
- the posting's idempotency key is made from (schedule, planned date), so even a posting repeated
  outside these rules moves money once at the ledger.
Money moves only through the ledger's services (`transfer_create`, `payee_transfer_create`), so a
scheduled transfer to a payee meets the same cooling-off and limits as one made by hand, checked when it
runs. A refusal is recorded on the run with the ledger's code and message and emailed to the customer
after the commit; the schedule carries on with its next occurrence, unless the payee was removed or an
account closed, when it is cancelled with that reason.
"""

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Account, Payee, User
from accounts.notifications import notify
from portal.audit import audit_record
from portal.local_time import date_and_time_from
from portal.money import format_paise
from transactions import limits, services
from transactions.models import ScheduledRun, ScheduledTransfer, Transaction
from transactions.scheduled import dates, selectors
from transactions.services import TransferError

logger = logging.getLogger(__name__)

# At most this many occurrences of one schedule in one pass (a worker that was down for long catches up
# over a few passes rather than in one long transaction-per-occurrence loop).
CATCH_UP_PER_PASS = 12

_FIELDS_ADVANCED = ["next_index", "next_occurrence", "next_run_date", "status", "status_reason", "updated_at"]


def _plan(schedule: ScheduledTransfer, *, not_before: datetime.date | None = None) -> None:
    """Set the next occurrence from `next_index` (skipping any whose run date is before `not_before`), or
    mark the schedule finished when it has none left."""
    while dates.has_occurrence(
        first=schedule.first_date,
        frequency=schedule.frequency,
        index=schedule.next_index,
        end_date=schedule.end_date,
        count=schedule.count,
    ):
        planned = dates.occurrence_date(schedule.first_date, schedule.frequency, schedule.next_index)
        runs_on = dates.next_working_day(planned)
        if not_before is None or runs_on >= not_before:
            schedule.next_occurrence, schedule.next_run_date = planned, runs_on
            return
        schedule.next_index += 1
    schedule.status = ScheduledTransfer.Status.FINISHED
    schedule.next_occurrence = schedule.next_run_date = None


def _describe(schedule: ScheduledTransfer) -> dict:
    """What the audit trail keeps of a schedule (ids and paise, no account numbers)."""
    return {
        "source": schedule.source_id,
        "destination": schedule.destination_id,
        "payee": schedule.payee_id,
        "amount": schedule.amount,
        "frequency": schedule.frequency,
        "first_date": schedule.first_date,
        "end_date": schedule.end_date,
        "count": schedule.count,
        "status": schedule.status,
        "next_run_date": schedule.next_run_date,
    }


def _check_new(
    *,
    owner: User,
    source: Account,
    destination: Account | None,
    payee: Payee | None,
    amount_paise: int,
    frequency: str,
    first_date: datetime.date,
    end_date: datetime.date | None,
    count: int | None,
) -> None:
    if (destination is None) == (payee is None):
        raise TransferError(_("Choose one account or payee to pay."), code="destination_invalid")
    if type(amount_paise) is not int or amount_paise <= 0:
        raise TransferError(_("Enter an amount greater than zero."), code="amount_invalid")
    if amount_paise > settings.TRANSFER_MAX_PAISE:
        raise TransferError(_("That amount is above the limit for one transfer."), code="amount_over_limit")
    if source.owner_id != owner.pk or (destination is not None and destination.owner_id != owner.pk):
        raise TransferError(_("That account is not one of yours."), code="not_owner")
    if source.status != Account.Status.ACTIVE:
        raise TransferError(_("Choose one of your active accounts to pay from."), code="account_inactive")
    if destination is not None and destination.pk == source.pk:
        raise TransferError(_("Choose two different accounts."), code="same_account")
    if payee is not None and (payee.owner_id != owner.pk or payee.removed_at is not None):
        raise TransferError(_("That payee is not one of yours."), code="not_payee")
    if payee is not None and first_date < timezone.localtime(limits.cooling_off_until(payee)).date():
        raise TransferError(
            _("%(name)s can receive money from %(when)s: choose that day or later.")
            % {"name": payee.name, "when": date_and_time_from(limits.cooling_off_until(payee))},
            code="payee_cooling_off",
        )
    if frequency not in ScheduledTransfer.Frequency.values:
        raise TransferError(_("Choose how often to pay."), code="frequency_invalid")
    if first_date < timezone.localdate():
        raise TransferError(_("Choose a first date from today on."), code="date_past")
    if end_date is not None and end_date < first_date:
        raise TransferError(_("The end date must be on or after the first date."), code="end_before_start")
    if count is not None and count < 1:
        raise TransferError(_("Enter how many times: 1 or more."), code="count_invalid")


def scheduled_transfer_create(
    *,
    owner: User,
    source: Account,
    destination: Account | None = None,
    payee: Payee | None = None,
    amount_paise: int,
    description: str,
    frequency: str,
    first_date: datetime.date,
    end_date: datetime.date | None = None,
    count: int | None = None,
    create_key: str,
) -> ScheduledTransfer:
    """Set up a transfer from `source` to one of the owner's accounts (`destination`) or payees (`payee`):
    once on `first_date`, or weekly or monthly from it until `end_date` and at most `count` times. A repeat
    with the same `create_key` (a double submit) returns the first schedule. Audited `transfer.schedule`."""
    if not create_key:
        raise TransferError(_("This request has expired. Please start again."), code="no_idempotency_key")
    if existing := ScheduledTransfer.objects.filter(owner=owner, create_key=create_key).first():
        return existing
    _check_new(
        owner=owner,
        source=source,
        destination=destination,
        payee=payee,
        amount_paise=amount_paise,
        frequency=frequency,
        first_date=first_date,
        end_date=end_date,
        count=count,
    )
    if frequency == ScheduledTransfer.Frequency.ONCE:
        end_date, count = None, None
    schedule = ScheduledTransfer(
        owner=owner,
        source=source,
        destination=destination,
        payee=payee,
        amount=amount_paise,
        description=description,
        frequency=frequency,
        first_date=first_date,
        end_date=end_date,
        count=count,
        create_key=create_key,
    )
    _plan(schedule)
    try:
        with transaction.atomic():
            schedule.save()
            audit_record(action="transfer.schedule", actor=owner, obj=schedule, after=_describe(schedule))
    except IntegrityError:
        existing = ScheduledTransfer.objects.filter(owner=owner, create_key=create_key).first()
        if existing is None:
            raise
        return existing
    return schedule


def _change_status(
    *, user: User, schedule_id: int, action: str, allowed_from: set[str], reason: str = ""
) -> ScheduledTransfer:
    with transaction.atomic():
        schedule = ScheduledTransfer.objects.select_for_update().filter(pk=schedule_id, owner=user).first()
        if schedule is None:
            raise TransferError(_("No such scheduled transfer."), code="no_such_schedule")
        if schedule.status not in allowed_from:
            raise TransferError(
                _("This scheduled transfer is %(status)s.")
                % {"status": schedule.get_status_display().lower()},
                code="schedule_state",
            )
        before = _describe(schedule)
        if action == "pause":
            schedule.status = ScheduledTransfer.Status.PAUSED
        elif action == "cancel":
            schedule.status = ScheduledTransfer.Status.CANCELLED
            schedule.next_occurrence = schedule.next_run_date = None
        else:  # resume: occurrences that fell due while paused are skipped, not paid late in a burst
            schedule.status = ScheduledTransfer.Status.ACTIVE
            _plan(schedule, not_before=timezone.localdate())
        schedule.status_reason = reason
        schedule.updated_at = timezone.now()
        schedule.save(update_fields=_FIELDS_ADVANCED)
        audit_record(
            action=f"transfer.schedule.{action}",
            actor=user,
            obj=schedule,
            before=before,
            after=_describe(schedule),
        )
    return schedule


def scheduled_transfer_pause(*, user: User, schedule_id: int) -> ScheduledTransfer:
    """Stop an active schedule's runs until it is resumed."""
    return _change_status(user=user, schedule_id=schedule_id, action="pause", allowed_from={"active"})


def scheduled_transfer_resume(*, user: User, schedule_id: int) -> ScheduledTransfer:
    """Run a paused schedule again, from its first occurrence that runs today or later (finished if none)."""
    return _change_status(user=user, schedule_id=schedule_id, action="resume", allowed_from={"paused"})


def scheduled_transfer_cancel(*, user: User, schedule_id: int, reason: str = "") -> ScheduledTransfer:
    """Stop a schedule for good, with `reason` when the bank stops it for the customer (the payee was
    removed). Its runs stay on record."""
    return _change_status(
        user=user, schedule_id=schedule_id, action="cancel", allowed_from={"active", "paused"}, reason=reason
    )


PAYEE_REMOVED = "The payee was removed."


def scheduled_transfers_cancel_for_payee(*, user: User, payee: Payee) -> list[ScheduledTransfer]:
    """Cancel the customer's running (active or paused) schedules to `payee`, each as a cancel of its own
    (audited `transfer.schedule.cancel`), with the reason "The payee was removed." Called by
    accounts.services.payee_remove inside its transaction, so a removal and the cancels commit together."""
    return [
        scheduled_transfer_cancel(user=user, schedule_id=schedule.pk, reason=_(PAYEE_REMOVED))
        for schedule in selectors.scheduled_running_to_payee(user=user, payee=payee)
    ]


# --- running due occurrences ----------------------------------------------------------------------------


def _post(schedule: ScheduledTransfer, key: str) -> Transaction:
    if schedule.payee_id is not None:
        return services.payee_transfer_create(
            initiator=schedule.owner,
            source=schedule.source_id,
            payee=schedule.payee,
            amount_paise=schedule.amount,
            description=schedule.description,
            idempotency_key=key,
        )
    return services.transfer_create(
        initiator=schedule.owner,
        source=schedule.source_id,
        destination=schedule.destination_id,
        amount_paise=schedule.amount,
        description=schedule.description,
        idempotency_key=key,
    )


def occurrence_key(schedule_id: int, occurrence: datetime.date) -> str:
    """The posting's idempotency key: one occurrence of one schedule is one posting at the ledger."""
    return f"scheduled:{schedule_id}:{occurrence.isoformat()}"


def _stop_reason(schedule: ScheduledTransfer, error: TransferError) -> str:
    """Why a refusal ends the schedule (the payee removed, an account closed), or "" if the next
    occurrence may well go through (money short, a limit, a freeze, cooling-off)."""
    if error.code == "not_payee":
        return _(PAYEE_REMOVED)
    ids = [schedule.source_id, schedule.destination_id]
    if Account.objects.filter(pk__in=[i for i in ids if i], status=Account.Status.CLOSED).exists():
        return _("An account of this transfer was closed.")
    if error.code in ("not_owner", "no_such_account"):
        return _("An account of this transfer is no longer yours.")
    return ""


def long_date(day: datetime.date) -> str:
    """A date as the emails write it: "7 December 2026"."""
    return date_format(day, "j F Y")


def _to_whom(schedule: ScheduledTransfer) -> str:
    if schedule.payee_id is not None:
        return f"{schedule.payee.name} ({schedule.payee.masked_account_number})"
    return f"{schedule.destination.name} ({schedule.destination.masked_number})"


def _cooling_off_ends_on_run_date(schedule: ScheduledTransfer, error: TransferError) -> bool:
    """A payee's cooling-off that ends later on the day this occurrence runs (a schedule may start on that
    day: the form allows it) holds the occurrence until it ends, rather than failing it at the morning's
    first pass."""
    if error.code != "payee_cooling_off" or schedule.payee_id is None:
        return False
    return timezone.localtime(limits.cooling_off_until(schedule.payee)).date() <= schedule.next_run_date


def _run_next(schedule_id: int, today: datetime.date) -> ScheduledRun | None:
    """Run the schedule's next occurrence if it is due and no one else is running it; None otherwise."""
    with transaction.atomic():
        schedule = (
            ScheduledTransfer.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("owner", "payee", "source", "destination")
            .filter(pk=schedule_id, status=ScheduledTransfer.Status.ACTIVE, next_run_date__lte=today)
            .first()
        )
        if schedule is None:
            return None
        occurrence = schedule.next_occurrence
        txn, failure = None, None
        try:
            with transaction.atomic():
                txn = _post(schedule, occurrence_key(schedule.pk, occurrence))
        except TransferError as error:
            failure = error
        if failure is not None and _cooling_off_ends_on_run_date(schedule, failure):
            return None  # not a failure: a later pass today runs it, once the payee can receive money
        run = ScheduledRun.objects.create(
            schedule=schedule,
            occurrence=occurrence,
            run_date=schedule.next_run_date,
            status=ScheduledRun.Status.POSTED if failure is None else ScheduledRun.Status.FAILED,
            reason_code=failure.code[:40] if failure else "",
            reason=failure.message[:300] if failure else "",
            transaction=txn,
        )
        stop = _stop_reason(schedule, failure) if failure else ""
        if stop:
            schedule.status = ScheduledTransfer.Status.CANCELLED
            schedule.status_reason = stop
            schedule.next_occurrence = schedule.next_run_date = None
        else:
            schedule.next_index += 1
            _plan(schedule)
        schedule.updated_at = timezone.now()
        schedule.save(update_fields=_FIELDS_ADVANCED)
        if failure is not None:
            audit_record(
                action="transfer.schedule.failed",
                actor=schedule.owner,
                obj=schedule,
                after={"occurrence": occurrence, "code": failure.code, "stopped": bool(stop)},
            )
            notify(
                schedule.owner,
                "scheduled_transfer_failed",
                amount=format_paise(schedule.amount),
                to=_to_whom(schedule),
                occurrence=long_date(occurrence),
                reason=failure.message,
                stopped=stop,
                next_run_date=long_date(schedule.next_run_date) if schedule.next_run_date else "",
            )
    return run


def scheduled_transfer_run_due(*, schedule_id: int, today: datetime.date) -> list[ScheduledRun]:
    """Run every due occurrence of one schedule (each in its own database transaction), up to
    CATCH_UP_PER_PASS. Safe to call from several workers at once: each occurrence runs once."""
    runs = []
    for _i in range(CATCH_UP_PER_PASS):
        run = _run_next(schedule_id, today)
        if run is None:
            break
        runs.append(run)
    return runs


def scheduled_transfers_run(*, today: datetime.date | None = None, limit: int = 1000) -> int:
    """Run the due occurrences of every active schedule whose next run date is on or before `today` (the
    date in India). Returns how many occurrences ran (posted or failed)."""
    today = today or timezone.localdate()
    ran = 0
    for schedule_id in selectors.scheduled_due_ids(today=today, limit=limit):
        try:
            ran += len(scheduled_transfer_run_due(schedule_id=schedule_id, today=today))
        except Exception:  # one schedule's bug must not hold up every other customer's: logged, retried
            logger.exception("Scheduled transfer %s could not run", schedule_id)  # on the next pass
    return ran
