"""Posting alerts (transactions/alerts.py): every debit and credit on a customer's account emails the
customer once, from an outbox row written with the money and handed to send tasks by the dispatcher; failures
are retried with backoff and end, visible to staff, as failed."""

import datetime
import threading
import time
import uuid

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from celery.exceptions import SoftTimeLimitExceeded
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.urls import reverse

from accounts import internal
from accounts.models import Account
from portal.celery import app
from portal.models import AuditEvent
from portal.seeding.history import posted_at
from tests.conftest import fund, spend
from tests.factories import AccountFactory, UserFactory
from tests.twofactor import force_login_verified
from transactions import alerts, services, tasks
from transactions.models import PostingAlert, Transaction
from transactions.services import TransferError

IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
AT = datetime.datetime(2026, 12, 5, 20, 53, 10, tzinfo=IST)


@pytest.fixture(autouse=True)
def _clock_before_at():
    """Each test, its fixtures included, runs on a clock a day before AT: the accounts' opening deposits
    are then dated before the postings a test makes at AT (a posting is never dated before an account's
    newest entry, transactions/services.py `_posting_time`)."""
    with time_machine.travel(AT - datetime.timedelta(days=1), tick=True):
        yield


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server down")


@pytest.fixture
def eager_tasks():
    """Run the send tasks in the process that queues them (the email lands in Django's locmem outbox)."""
    assert app.tasks[alerts.SEND_TASK].run is tasks.posting_alerts_send_task.run  # registered by name
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


def _dispatch() -> dict[str, int]:
    """What beat runs every few seconds (with eager_tasks, the send tasks it queues run at once)."""
    return tasks.posting_alerts_dispatch_task()


def _handed_out(txn: Transaction) -> list[list[int]]:
    """A send task's chunk for the alerts of `txn`, as the dispatcher makes it: [id, attempts] pairs."""
    return [[a.pk, a.attempts] for a in PostingAlert.objects.filter(transaction=txn).order_by("pk")]


@pytest.fixture
def refusing_mail(settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"


def _transfer(alice_savings, alice_current, amount=2_500_00, key=None) -> Transaction:
    return services.transfer_create(
        initiator=alice_savings.owner,
        source=alice_savings,
        destination=alice_current,
        amount_paise=amount,
        description="Rent share",
        idempotency_key=key or str(uuid.uuid4()),
    )


def _by_subject(outbox):
    return {email.subject: email for email in outbox}


def test_a_transfer_emails_one_debit_and_one_credit_alert(alice, alice_savings, alice_current, eager_tasks):
    alice_savings.number, alice_current.number = "500100200011", "500100200042"
    alice_savings.save(update_fields=["number"])
    alice_current.save(update_fields=["number"])
    with time_machine.travel(AT, tick=False):
        txn = _transfer(alice_savings, alice_current)
        assert mail.outbox == []  # the posting only wrote its alerts
        _dispatch()

    emails = _by_subject(e for e in mail.outbox if f"SB{txn.pk:010d}" in e.body)
    assert len(emails) == 2
    debit = emails["₹2,500.00 debited from your account XXXX0011"]
    credit = emails["₹2,500.00 credited to your account XXXX0042"]
    assert debit.to == credit.to == ["alice@example.com"]
    reference = f"SB{txn.pk:010d}"
    assert (
        f"₹2,500.00 debited from your account XXXX0011 on 5 Dec 2026, 8:53 PM IST. Balance: ₹47,500.00. "
        f"Ref {reference}." in debit.body
    )
    assert (
        f"₹2,500.00 credited to your account XXXX0042 on 5 Dec 2026, 8:53 PM IST. Balance: ₹2,500.00. "
        f"Ref {reference}." in credit.body
    )
    for email in (debit, credit):
        assert email.body.startswith("Hello Alice,")
        assert "Details: Rent share" in email.body
        assert "Not you? Call 1800 000 0000." in email.body and "This wasn't me" in email.body
        assert "500100200011" not in email.body + email.subject
        assert "500100200042" not in email.body + email.subject
    rows = PostingAlert.objects.filter(transaction=txn).order_by("kind")
    assert [(a.kind, a.account_id, a.status, a.attempts) for a in rows] == [
        ("credit", alice_current.pk, "sent", 1),
        ("debit", alice_savings.pk, "sent", 1),
    ]


def test_a_large_balance_is_written_in_lakhs(alice, eager_tasks):
    account = AccountFactory(owner=alice)
    services.deposit_create(
        account=account, amount_paise=1_23_456_78, description="Salary", idempotency_key="s"
    )
    _dispatch()
    (email,) = mail.outbox
    assert email.subject == f"₹1,23,456.78 credited to your account XXXX{account.number[-4:]}"
    assert "Balance: ₹1,23,456.78." in email.body


def test_a_deposit_alerts_the_customer_and_not_the_banks_settlement_account(alice):
    account = AccountFactory(owner=alice)
    txn = services.deposit_create(
        account=account, amount_paise=500_00, description="Cash", idempotency_key="c"
    )
    settlement = Account.objects.get(number=internal.SETTLEMENT)
    assert list(PostingAlert.objects.filter(transaction=txn).values_list("account_id", "kind")) == [
        (account.pk, "credit")
    ]
    assert not PostingAlert.objects.filter(account=settlement).exists()


def test_a_payment_and_a_fee_alert_the_debit(alice_savings):
    pay = services.payment_create(
        account=alice_savings, amount_paise=99_00, description="Tea", idempotency_key="t"
    )
    fee = services.fee_charge(
        account=alice_savings, amount_paise=10_00, description="SMS", idempotency_key="f"
    )
    for txn in (pay, fee):
        assert list(PostingAlert.objects.filter(transaction=txn).values_list("account_id", "kind")) == [
            (alice_savings.pk, "debit")
        ]


def test_a_replayed_posting_alerts_nothing_more(alice_savings, alice_current, eager_tasks):
    first = _transfer(alice_savings, alice_current, key="once")
    _dispatch()
    again = _transfer(alice_savings, alice_current, key="once")
    assert again.pk == first.pk
    assert _dispatch()["due"] == 0
    assert PostingAlert.objects.filter(transaction=first).count() == 2
    assert len([e for e in mail.outbox if f"SB{first.pk:010d}" in e.body]) == 2


def test_a_rolled_back_or_refused_posting_alerts_nothing(alice_savings, alice_current):
    before = PostingAlert.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        _transfer(alice_savings, alice_current)
        raise RuntimeError("the request failed after the posting")
    with pytest.raises(TransferError):
        _transfer(alice_savings, alice_current, amount=10_00_000_00)  # more than the balance
    assert PostingAlert.objects.count() == before


def test_history_dated_by_the_loaders_alerts_nothing(alice, alice_savings):
    before = PostingAlert.objects.count()
    spend(alice_savings, 5)  # through posted_at: a history, not news
    with posted_at(AT - datetime.timedelta(days=400)):
        services.deposit_create(
            account=AccountFactory(owner=alice), amount_paise=1_00, description="Old", idempotency_key="old"
        )
    assert PostingAlert.objects.count() == before


def test_a_send_task_run_twice_sends_one_email(alice_savings, alice_current):
    txn = _transfer(alice_savings, alice_current)
    chunk = _handed_out(txn)
    assert tasks.posting_alerts_send_task(chunk) == 2
    assert tasks.posting_alerts_send_task(chunk) == 0  # the same message delivered again
    assert len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_the_same_alerts_send_each_once(alice):
    """Real connections in threads race to claim the same rows: every alert is sent exactly once."""
    source = fund(AccountFactory(owner=alice), 1_000_00)
    destination = AccountFactory(owner=alice)
    posted = [_transfer(source, destination, amount=1_00) for _ in range(10)]
    ids = list(PostingAlert.objects.filter(transaction__in=posted).values_list("pk", flat=True))
    assert len(ids) == 20
    wins: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def work(i: int) -> None:
        try:
            for alert_id in ids:
                start.wait()
                if alerts.alert_send(alert_id, 0):
                    wins[i].append(alert_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(wins[0] + wins[1]) == sorted(ids)
    assert not set(wins[0]) & set(wins[1])
    assert len(mail.outbox) == 20
    assert set(PostingAlert.objects.filter(pk__in=ids).values_list("status", "attempts")) == {("sent", 1)}


def test_a_failing_send_is_retried_with_backoff_then_fails_for_staff(
    client, alice, refusing_mail, settings, eager_tasks
):
    account = AccountFactory(owner=alice)
    with time_machine.travel(AT, tick=False) as traveller:
        txn = services.deposit_create(
            account=account, amount_paise=10_00, description="In", idempotency_key="i"
        )
        (alert,) = PostingAlert.objects.filter(transaction=txn)
        first_message = _handed_out(txn)
        assert _dispatch() == {"stuck": 0, "due": 1}

        waits = []
        for attempt in range(1, alerts.MAX_ATTEMPTS):
            alert.refresh_from_db()
            assert (alert.status, alert.attempts) == ("pending", attempt)
            assert alert.last_error == "ConnectionRefusedError: mail server down"
            wait = alert.next_attempt_at - datetime.datetime.now(tz=IST)
            waits.append(wait)
            traveller.shift(wait - datetime.timedelta(seconds=1))
            assert _dispatch()["due"] == 0  # not before its time
            assert tasks.posting_alerts_send_task(first_message) == 0  # nor by a stale message
            alert.refresh_from_db()
            assert alert.attempts == attempt
            traveller.shift(datetime.timedelta(seconds=1))
            assert _dispatch() == {"stuck": 0, "due": 1}
        assert [w / datetime.timedelta(minutes=1) for w in waits] == [1, 2, 4, 8, 16]
        alert.refresh_from_db()
        assert (alert.status, alert.attempts) == ("failed", alerts.MAX_ATTEMPTS)
        traveller.shift(datetime.timedelta(hours=1))
        assert _dispatch()["due"] == 0  # failed is final until staff retry
    assert mail.outbox == []

    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    force_login_verified(client, staff)
    changelist = reverse("admin:transactions_postingalert_changelist")
    page = client.get(changelist, {"status__exact": "failed"})
    assert list(page.context["cl"].result_list) == [alert]
    html = page.content.decode()
    assert f"SB{txn.pk:010d}" in html and "mail server down" in html and account.number not in html
    found = client.get(changelist, {"q": f"SB{txn.pk:010d}"})
    assert list(found.context["cl"].result_list) == [alert]

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = client.post(changelist, {"action": "retry_now", "_selected_action": [alert.pk]})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "pending"
    event = AuditEvent.objects.get(action="alert.retry")
    assert event.actor == staff and event.object_id == str(alert.pk)
    assert event.before["status"] == "failed" and event.after == {"status": "pending"}
    _dispatch()
    alert.refresh_from_db()
    assert (alert.status, alert.attempts) == ("sent", alerts.MAX_ATTEMPTS + 1)
    (email,) = mail.outbox
    assert email.subject.startswith("₹10.00 credited")


def test_retry_now_leaves_alerts_that_did_not_fail_alone(client, alice_savings):
    (alert,) = PostingAlert.objects.filter(account=alice_savings)  # the opening deposit's, pending
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    force_login_verified(client, staff)
    client.post(
        reverse("admin:transactions_postingalert_changelist"),
        {"action": "retry_now", "_selected_action": [alert.pk]},
    )
    assert not AuditEvent.objects.filter(action="alert.retry").exists()
    after = PostingAlert.objects.get(pk=alert.pk)
    assert (after.status, after.attempts, after.next_attempt_at) == ("pending", 0, alert.next_attempt_at)


def test_alerts_whose_message_was_lost_are_handed_out_again_after_the_lease(alice_savings, alice_current):
    with time_machine.travel(AT, tick=False) as traveller:
        txn = _transfer(alice_savings, alice_current)
        assert _dispatch()["due"] >= 2  # queued on the broker, and never run: the message is "lost"
        app.control.purge()
        assert _dispatch()["due"] == 0  # leased: not handed out twice at once
        traveller.shift(alerts.LEASE)
        app.conf.task_always_eager = True
        try:
            assert _dispatch()["due"] >= 2
        finally:
            app.conf.task_always_eager = False
    assert set(PostingAlert.objects.filter(transaction=txn).values_list("status", flat=True)) == {"sent"}
    assert len([e for e in mail.outbox if "Rent share" in e.body]) == 2


def test_an_alert_stuck_while_sending_is_failed_for_staff_never_sent_again(alice_savings):
    (alert,) = PostingAlert.objects.filter(account=alice_savings)
    with time_machine.travel(AT, tick=False) as traveller:
        PostingAlert.objects.filter(pk=alert.pk).update(status="sending", attempts=1, claimed_at=AT)
        traveller.shift(alerts.STUCK_AFTER - datetime.timedelta(seconds=1))
        assert alerts.alerts_dispatch()["stuck"] == 0  # it may still be sending
        traveller.shift(datetime.timedelta(seconds=2))
        assert alerts.alerts_dispatch()["stuck"] == 1
    alert.refresh_from_db()
    assert alert.status == "failed" and alert.last_error == alerts.STUCK_ERROR
    assert alerts.alert_send(alert.pk, 1) is False
    assert mail.outbox == []


def test_an_inactive_customer_is_skipped(alice, alice_savings):
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    (alert,) = PostingAlert.objects.filter(account=alice_savings)
    assert alerts.alert_send(alert.pk, 0) is False
    alert.refresh_from_db()
    assert alert.status == "skipped" and "inactive" in alert.last_error
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_alerts_after_the_commit(alice):
    """The whole path over the Redis broker: the posting commits its alerts, the dispatcher (sent as beat
    sends it) hands them to a send task, a Celery worker (a thread of this process, sharing the locmem
    outbox) sends them."""
    source = fund(AccountFactory(owner=alice), 1_000_00)
    destination = AccountFactory(owner=alice)
    app.control.purge()  # messages queued by earlier tests with no worker running
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        txn = _transfer(source, destination, amount=100_00)
        tasks.posting_alerts_dispatch_task.delay()
        deadline = time.monotonic() + 15
        while len(mail.outbox) < 3 and time.monotonic() < deadline:  # the opening deposit's, and two
            time.sleep(0.05)
    ours = [e for e in mail.outbox if f"Ref SB{txn.pk:010d}." in e.body]
    assert sorted(e.subject.split(" ")[1] for e in ours) == ["credited", "debited"]
    assert set(PostingAlert.objects.filter(transaction=txn).values_list("status", flat=True)) == {"sent"}


class OutOfTimeBackend(BaseEmailBackend):
    """The send task's soft time limit strikes while the mail server is talking."""

    def send_messages(self, email_messages):
        raise SoftTimeLimitExceeded()


def test_a_task_out_of_time_records_its_attempt_and_claims_no_more(alice_savings, alice_current, settings):
    txn = _transfer(alice_savings, alice_current)
    settings.EMAIL_BACKEND = f"{__name__}.OutOfTimeBackend"
    with pytest.raises(SoftTimeLimitExceeded):
        tasks.posting_alerts_send_task(_handed_out(txn))
    first, second = PostingAlert.objects.filter(transaction=txn).order_by("pk")
    assert (first.status, first.attempts, first.last_error) == (
        "pending",
        1,
        "SoftTimeLimitExceeded: SoftTimeLimitExceeded()",
    )
    assert (second.status, second.attempts) == ("pending", 0)  # left for the next hand-out


def test_only_staff_who_may_change_alerts_can_retry_them(client, alice_savings):
    (alert,) = PostingAlert.objects.filter(account=alice_savings)
    PostingAlert.objects.filter(pk=alert.pk).update(status="failed", attempts=6)
    clerk = UserFactory(email="clerk@example.com", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_postingalert"))
    force_login_verified(client, clerk)
    changelist = reverse("admin:transactions_postingalert_changelist")
    page = client.get(changelist)
    assert page.status_code == 200 and "retry_now" not in page.content.decode()
    client.post(changelist, {"action": "retry_now", "_selected_action": [alert.pk]})
    alert.refresh_from_db()
    assert alert.status == "failed"
    assert not AuditEvent.objects.filter(action="alert.retry").exists()


def test_the_dispatcher_hands_out_alerts_twenty_to_a_send_task(alice, eager_tasks):
    """A chunk is sent one email after another: with a mail server that hangs for EMAIL_TIMEOUT (10 s) a
    send, a chunk of 20 still ends well inside the lease; the rest wait in other chunks, not behind it."""
    from celery.signals import task_prerun

    account = AccountFactory(owner=alice)
    for n in range(45):
        services.deposit_create(
            account=account, amount_paise=1_00, description=f"d{n}", idempotency_key=f"d{n}"
        )
    chunks: list[int] = []

    def record(sender=None, args=None, **kwargs):
        if sender is not None and sender.name == alerts.SEND_TASK:
            chunks.append(len(args[0]))

    task_prerun.connect(record, weak=False)
    try:
        assert _dispatch()["due"] == 45
    finally:
        task_prerun.disconnect(record)
    assert chunks == [20, 20, 5]
    assert PostingAlert.objects.filter(status="sent").count() == 45
