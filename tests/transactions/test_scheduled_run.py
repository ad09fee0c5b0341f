"""Running scheduled transfers (transactions/scheduled/services.py, the beat task in transactions/tasks.py):
each occurrence runs once, a refusal is recorded with its reason and emailed, and the schedule advances
to its next working day until its count or end date."""

import datetime
import threading
import time
import uuid
import zoneinfo

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

import accounts.tasks  # noqa: F401 - registers the email task, which notify() sends by name
from accounts.models import Account
from portal.celery import app
from portal.models import AuditEvent
from tests.conftest import fund
from tests.factories import AccountFactory, PayeeFactory
from tests.transactions.ledger_checks import assert_books_balance
from transactions.models import ScheduledRun, ScheduledTransfer, Transaction
from transactions.scheduled import services
from transactions.services import TransferError
from transactions.tasks import scheduled_transfers_run_task

IST = zoneinfo.ZoneInfo("Asia/Kolkata")
D = datetime.date


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=IST)


MONDAY = D(2026, 12, 7)


def _schedule(owner, source, destination=None, payee=None, **kwargs) -> ScheduledTransfer:
    fields = {
        "amount_paise": 1_000_00,
        "description": "Rent",
        "frequency": "monthly",
        "first_date": MONDAY,
        "create_key": uuid.uuid4().hex,
        **kwargs,
    }
    return services.scheduled_transfer_create(
        owner=owner, source=source, destination=destination, payee=payee, **fields
    )


@pytest.fixture
def eager_tasks():
    """Run the email task in this process (Django's locmem outbox); a test below runs a real worker."""
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def travel():
    with time_machine.travel(at(MONDAY), tick=False) as traveller:
        yield traveller


def test_a_due_schedule_runs_once_when_the_task_runs_twice(travel, alice, alice_savings, alice_current):
    schedule = _schedule(alice, alice_savings, alice_current)
    assert scheduled_transfers_run_task() == 1
    assert scheduled_transfers_run_task() == 0

    (run,) = ScheduledRun.objects.filter(schedule=schedule)
    assert run.status == "posted" and run.occurrence == MONDAY
    assert run.transaction.idempotency_key == f"scheduled:{schedule.pk}:2026-12-07"
    alice_current.refresh_from_db()
    assert alice_current.balance == 1_000_00
    schedule.refresh_from_db()
    assert schedule.next_index == 1
    assert schedule.next_occurrence == schedule.next_run_date == D(2027, 1, 7)


def test_an_occurrence_repeated_at_the_ledger_posts_once(travel, alice, alice_savings, alice_current):
    """Even a posting repeated outside the schedule's lock (a second path, a bug) reuses its key."""
    schedule = _schedule(alice, alice_savings, alice_current)
    services.scheduled_transfers_run()
    first = Transaction.objects.get(initiator=alice)
    again = services._post(schedule, services.occurrence_key(schedule.pk, MONDAY))
    assert again.pk == first.pk
    assert Transaction.objects.filter(initiator=alice).count() == 1


def test_nothing_runs_before_its_date_and_a_sunday_runs_on_monday(alice, alice_savings, alice_current):
    with time_machine.travel(at(D(2026, 12, 4)), tick=False) as traveller:  # a Friday
        schedule = _schedule(alice, alice_savings, alice_current, first_date=D(2026, 12, 6), frequency="once")
        assert schedule.next_run_date == MONDAY
        traveller.move_to(at(D(2026, 12, 6), 23))  # Sunday night
        assert services.scheduled_transfers_run() == 0
        traveller.move_to(at(MONDAY, 0))  # just after midnight in India (still Sunday in UTC)
        assert services.scheduled_transfers_run() == 1
    schedule.refresh_from_db()
    assert schedule.status == "finished" and schedule.next_run_date is None
    assert schedule.runs.get().run_date == MONDAY


def test_a_failed_occurrence_is_recorded_notified_and_the_next_one_still_planned(
    travel, eager_tasks, alice, alice_current, django_capture_on_commit_callbacks
):
    poor = fund(AccountFactory(owner=alice, name="Pocket money"), 500_00)
    schedule = _schedule(alice, poor, alice_current, frequency="weekly")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.scheduled_transfers_run() == 1

    run = schedule.runs.get()
    assert run.status == "failed" and run.transaction is None
    assert run.reason_code == "insufficient_funds"
    assert "Not enough money" in run.reason
    schedule.refresh_from_db()
    assert schedule.status == "active" and schedule.next_run_date == D(2026, 12, 14)
    poor.refresh_from_db()
    assert poor.balance == 500_00
    (email,) = mail.outbox
    assert email.to == [alice.email]
    assert "₹1,000.00" in email.subject
    assert "7 December 2026" in email.body and "Not enough money" in email.body
    assert "14 December 2026" in email.body
    assert alice_current.masked_number in email.body and alice_current.number not in email.body
    event = AuditEvent.objects.get(action="transfer.schedule.failed")
    assert event.after["code"] == "insufficient_funds"

    # Funded by next week, the next occurrence goes through.
    fund(poor, 1_000_00)
    travel.move_to(at(D(2026, 12, 14)))
    assert services.scheduled_transfers_run() == 1
    assert schedule.runs.filter(status="posted").count() == 1


def test_a_frozen_source_fails_the_occurrence_but_not_the_schedule(
    travel, alice, alice_savings, alice_current
):
    schedule = _schedule(alice, alice_savings, alice_current)
    Account.objects.filter(pk=alice_savings.pk).update(status=Account.Status.FROZEN)
    services.scheduled_transfers_run()
    assert schedule.runs.get().reason_code == "account_inactive"
    schedule.refresh_from_db()
    assert schedule.status == "active" and schedule.next_run_date == D(2027, 1, 7)


def test_a_removed_payee_cancels_the_schedule_with_the_reason(travel, alice, alice_savings):
    payee = PayeeFactory(owner=alice)
    schedule = _schedule(alice, alice_savings, payee=payee)
    payee.removed_at = timezone.now()
    payee.save(update_fields=["removed_at"])
    services.scheduled_transfers_run()
    assert schedule.runs.get().reason_code == "not_payee"
    schedule.refresh_from_db()
    assert schedule.status == "cancelled" and schedule.status_reason == "The payee was removed."
    assert schedule.next_run_date is None
    travel.move_to(at(D(2027, 1, 7)))
    assert services.scheduled_transfers_run() == 0


def test_a_closed_destination_cancels_the_schedule(travel, alice, alice_savings, alice_current):
    schedule = _schedule(alice, alice_savings, alice_current)
    Account.objects.filter(pk=alice_current.pk).update(status=Account.Status.CLOSED)
    services.scheduled_transfers_run()
    schedule.refresh_from_db()
    assert schedule.status == "cancelled" and "closed" in schedule.status_reason


def test_a_payee_in_cooling_off_or_over_the_limit_fails_with_the_ledgers_reason(
    travel, settings, alice, alice_savings
):
    # Cooling off until Tuesday 8 AM: a schedule may start that day; a run early that morning waits (no run
    # recorded, nothing failed), and a pass after 8 AM pays.
    payee = PayeeFactory(owner=alice, created_at=timezone.now() - datetime.timedelta(hours=1))
    schedule = _schedule(alice, alice_savings, payee=payee, frequency="weekly", first_date=D(2026, 12, 8))
    travel.move_to(at(D(2026, 12, 8), hour=6))
    services.scheduled_transfers_run()
    assert not schedule.runs.exists()
    travel.move_to(at(D(2026, 12, 8), hour=9))
    services.scheduled_transfers_run()
    assert schedule.runs.get().status == "posted"
    # A cooling-off that ends after the run date (the payee was added again meanwhile) fails the run.
    schedule.refresh_from_db()
    type(payee).objects.filter(pk=payee.pk).update(created_at=at(D(2026, 12, 15), hour=5))
    travel.move_to(at(D(2026, 12, 15), hour=6))
    services.scheduled_transfers_run()
    run = schedule.runs.order_by("occurrence").last()
    assert run.status == "failed" and run.reason_code == "payee_cooling_off"
    settings.DAILY_TRANSFER_LIMIT_PAISE = 500_00
    travel.move_to(at(D(2026, 12, 22)))  # a week later: past cooling-off, but over the daily limit
    services.scheduled_transfers_run()
    assert schedule.runs.order_by("occurrence").last().status == "failed"
    settings.DAILY_TRANSFER_LIMIT_PAISE = 5_00_000_00
    travel.move_to(at(D(2026, 12, 29)))
    services.scheduled_transfers_run()
    latest = schedule.runs.order_by("occurrence").last()
    assert latest.status == "posted" and latest.transaction.payee_id == payee.pk


def test_a_schedule_to_a_payee_cannot_start_before_the_day_its_cooling_off_ends(travel, alice, alice_savings):
    payee = PayeeFactory(owner=alice, created_at=timezone.now() - datetime.timedelta(hours=1))
    with pytest.raises(TransferError) as refused:
        _schedule(alice, alice_savings, payee=payee, first_date=MONDAY)
    assert refused.value.code == "payee_cooling_off"
    assert not ScheduledTransfer.objects.exists()


def test_a_weekly_schedule_finishes_after_its_count(travel, alice, alice_savings, alice_current):
    schedule = _schedule(
        alice, alice_savings, alice_current, frequency="weekly", count=3, amount_paise=100_00
    )
    day = MONDAY
    for _week in range(5):
        travel.move_to(at(day))
        services.scheduled_transfers_run()
        day += datetime.timedelta(weeks=1)
    schedule.refresh_from_db()
    assert schedule.status == "finished" and schedule.next_run_date is None
    assert list(schedule.runs.order_by("occurrence").values_list("run_date", flat=True)) == [
        D(2026, 12, 7),
        D(2026, 12, 14),
        D(2026, 12, 21),
    ]
    alice_current.refresh_from_db()
    assert alice_current.balance == 300_00


def test_a_monthly_schedule_on_the_31st_rolls_and_finishes_at_its_end_date(
    alice, alice_savings, alice_current
):
    with time_machine.travel(at(D(2026, 12, 1)), tick=False) as traveller:
        schedule = _schedule(
            alice,
            alice_savings,
            alice_current,
            first_date=D(2026, 12, 31),
            end_date=D(2027, 3, 15),
            amount_paise=100_00,
        )
        for day in (
            D(2026, 12, 31),
            D(2027, 1, 31),
            D(2027, 2, 1),
            D(2027, 2, 28),
            D(2027, 3, 1),
            D(2027, 4, 1),
        ):
            traveller.move_to(at(day))
            services.scheduled_transfers_run()
    runs = list(schedule.runs.order_by("occurrence").values_list("occurrence", "run_date"))
    assert runs == [
        (D(2026, 12, 31), D(2026, 12, 31)),
        (D(2027, 1, 31), D(2027, 2, 1)),  # a Sunday
        (D(2027, 2, 28), D(2027, 3, 1)),  # the month's last day, a Sunday
    ]
    schedule.refresh_from_db()
    assert schedule.status == "finished"  # 31 March is after the end date


def test_a_paused_or_cancelled_schedule_does_not_run(travel, alice, alice_savings, alice_current):
    paused = _schedule(alice, alice_savings, alice_current, frequency="weekly")
    cancelled = _schedule(alice, alice_savings, alice_current, frequency="weekly")
    services.scheduled_transfer_pause(user=alice, schedule_id=paused.pk)
    services.scheduled_transfer_cancel(user=alice, schedule_id=cancelled.pk)
    assert services.scheduled_transfers_run() == 0
    assert not ScheduledRun.objects.exists()
    assert {e.action for e in AuditEvent.objects.filter(action__startswith="transfer.schedule.")} == {
        "transfer.schedule.pause",
        "transfer.schedule.cancel",
    }

    # Resumed three weeks later, the occurrences missed while paused are skipped, not paid in a burst.
    travel.move_to(at(D(2026, 12, 28)))
    services.scheduled_transfer_resume(user=alice, schedule_id=paused.pk)
    paused.refresh_from_db()
    assert paused.status == "active" and paused.next_occurrence == D(2026, 12, 28)
    assert services.scheduled_transfers_run() == 1
    with pytest.raises(services.TransferError):
        services.scheduled_transfer_resume(user=alice, schedule_id=cancelled.pk)


def test_a_double_submitted_schedule_is_made_once(travel, alice, alice_savings, alice_current):
    key = uuid.uuid4().hex
    first = _schedule(alice, alice_savings, alice_current, create_key=key)
    again = _schedule(alice, alice_savings, alice_current, create_key=key)
    assert first.pk == again.pk
    assert ScheduledTransfer.objects.count() == 1
    assert AuditEvent.objects.filter(action="transfer.schedule").count() == 1


def test_the_database_refuses_a_schedule_with_two_destinations_or_none(
    travel, alice, alice_savings, alice_current
):
    payee = PayeeFactory(owner=alice)
    schedule = _schedule(alice, alice_savings, alice_current)
    for destination, payee_id in ((alice_current.pk, payee.pk), (None, None)):
        with pytest.raises(IntegrityError), transaction.atomic():
            ScheduledTransfer.objects.filter(pk=schedule.pk).update(
                destination_id=destination, payee_id=payee_id
            )


# --- concurrency: real connections in threads, and a real worker -------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_runners_at_once_run_each_occurrence_once(alice):
    savings = fund(AccountFactory(owner=alice, name="Savings"), 100_000_00)
    current = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    today = timezone.localdate()
    schedules = [
        services.scheduled_transfer_create(
            owner=alice,
            source=savings,
            destination=current,
            amount_paise=10_00,
            description="",
            frequency="weekly",
            first_date=today,
            create_key=f"k{i}",
        )
        for i in range(20)
    ]
    # Today may be a closed day: run as of the first run date, for every schedule.
    run_day = schedules[0].next_run_date
    start = threading.Barrier(4)
    counts: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            counts.append(services.scheduled_transfers_run(today=run_day))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(counts) == 20
    assert ScheduledRun.objects.filter(status="posted").count() == 20
    assert Transaction.objects.filter(initiator=alice).count() == 20
    current.refresh_from_db()
    assert current.balance == 20 * 10_00
    assert_books_balance()


@pytest.mark.django_db(transaction=True)
def test_the_beat_task_runs_on_a_real_worker(alice):
    """The task over the Redis broker to a Celery worker (a thread of this process, on a Monday in India
    by time-machine, which moves the worker's clock too), delivered twice: one posting."""
    savings = fund(AccountFactory(owner=alice, name="Savings"), 10_000_00)
    current = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    app.control.purge()
    with (
        time_machine.travel(at(MONDAY), tick=True),
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
    ):
        services.scheduled_transfer_create(
            owner=alice,
            source=savings,
            destination=current,
            amount_paise=10_00,
            description="",
            frequency="once",
            first_date=MONDAY,
            create_key="worker",
        )
        scheduled_transfers_run_task.delay()
        scheduled_transfers_run_task.delay()  # a duplicate delivery
        deadline = time.monotonic() + 15
        while not ScheduledRun.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
    assert ScheduledRun.objects.get().status == "posted"
    assert Transaction.objects.filter(initiator=alice).count() == 1
