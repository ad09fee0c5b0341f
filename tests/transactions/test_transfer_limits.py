"""The limits on money sent to others (transactions/limits.py) and the customer's own lower limits
(transactions.services.transfer_limits_set): per-transfer and daily, at their exact boundaries; lowering
applies at once, a raise 12 hours later; the lower of the bank's and the customer's own applies."""

import datetime
import uuid

import pytest
import time_machine
from django.core import mail

from accounts.tasks import notification_send_task
from portal.models import AuditEvent
from tests.conftest import fund
from tests.factories import AccountFactory, PayeeFactory
from transactions import services
from transactions.models import TransferLimits
from transactions.selectors import transfer_limits_get
from transactions.services import TransferError

pytestmark = pytest.mark.django_db

NOON = datetime.datetime(2026, 12, 5, 12, 0, tzinfo=datetime.UTC)  # 5:30 PM in India
LATER = NOON + datetime.timedelta(hours=12)  # a raise made at NOON applies from here: 6 Dec, 5:30 AM IST
SECOND = datetime.timedelta(seconds=1)


@pytest.fixture
def rich(alice):
    return fund(AccountFactory(owner=alice, name="Savings"), 20_00_000_00)  # ₹20 lakh


@pytest.fixture
def payee(alice):
    return PayeeFactory(owner=alice)


def _send(user, source, payee, paise):
    return services.payee_transfer_create(
        initiator=user,
        source=source,
        payee=payee,
        amount_paise=paise,
        description="",
        idempotency_key=uuid.uuid4().hex,
    )


def _refused(user, source, payee, paise) -> TransferError:
    with pytest.raises(TransferError) as refused:
        _send(user, source, payee, paise)
    return refused.value


def _set(user, daily=None, per_transfer=None, confirmed=False):
    return services.transfer_limits_set(
        user=user, daily_paise=daily, per_transfer_paise=per_transfer, raise_confirmed=confirmed
    )


def test_the_banks_per_transfer_limit_allows_exactly_it_and_refuses_a_paisa_more(alice, rich, payee):
    with time_machine.travel(NOON, tick=False):
        error = _refused(alice, rich, payee, 2_00_000_01)
        assert error.code == "per_transfer_limit"
        assert error.message == "You can send at most ₹2,00,000.00 to others in one transfer."
        _send(alice, rich, payee, 2_00_000_00)


def test_staff_may_set_a_customers_per_transfer_limit(alice, rich, payee):
    TransferLimits.objects.create(user=alice, per_transfer_paise=3_00_000_00)
    with time_machine.travel(NOON, tick=False):
        assert _refused(alice, rich, payee, 3_00_000_01).code == "per_transfer_limit"
        _send(alice, rich, payee, 3_00_000_00)


def test_a_lowered_daily_limit_applies_at_once_to_the_paisa(alice, rich, payee):
    with time_machine.travel(NOON, tick=False):
        _set(alice, daily=1_000_00)
        _send(alice, rich, payee, 600_00)
        error = _refused(alice, rich, payee, 400_01)
        assert error.code == "daily_limit"
        assert "₹1,000.00; ₹400.00 is left today" in error.message
        assert "You set this limit yourself" in error.message
        _send(alice, rich, payee, 400_00)


def test_a_lowered_per_transfer_limit_applies_at_once_to_the_paisa(alice, rich, payee):
    with time_machine.travel(NOON, tick=False):
        _set(alice, per_transfer=500_00)
        assert _refused(alice, rich, payee, 500_01).code == "per_transfer_limit"
        _send(alice, rich, payee, 500_00)


def test_own_account_transfers_are_not_limited(alice, rich):
    with time_machine.travel(NOON, tick=False):
        _set(alice, daily=1_00, per_transfer=1_00)
        services.transfer_create(
            initiator=alice,
            source=rich,
            destination=AccountFactory(owner=alice, name="Current"),
            amount_paise=5_00_000_00,
            description="",
            idempotency_key=uuid.uuid4().hex,
        )


def test_a_raise_applies_twelve_hours_later_not_a_second_before(alice, rich, payee):
    with time_machine.travel(NOON - datetime.timedelta(hours=1), tick=False):
        _set(alice, per_transfer=1_000_00)
    with time_machine.travel(NOON, tick=False):
        row = _set(alice, per_transfer=5_000_00, confirmed=True)
        assert row.pending_from == LATER
        assert (row.own_per_transfer_paise, row.pending_per_transfer_paise) == (1_000_00, 5_000_00)
    with time_machine.travel(LATER - SECOND, tick=False):
        assert _refused(alice, rich, payee, 1_000_01).code == "per_transfer_limit"
        summary = transfer_limits_get(user=alice)
        assert summary.per_transfer_paise == 1_000_00 and summary.pending_from == LATER
    with time_machine.travel(LATER, tick=False):
        assert _refused(alice, rich, payee, 5_000_01).code == "per_transfer_limit"
        _send(alice, rich, payee, 5_000_00)
        summary = transfer_limits_get(user=alice)
        assert summary.per_transfer_paise == 5_000_00 and summary.pending is None


def test_removing_ones_own_daily_limit_waits_twelve_hours_too(alice, rich, payee):
    with time_machine.travel(NOON - datetime.timedelta(hours=1), tick=False):
        _set(alice, daily=1_000_00)
    with time_machine.travel(NOON, tick=False):
        _set(alice, daily=None, confirmed=True)
    with time_machine.travel(LATER - SECOND, tick=False):
        _send(alice, rich, payee, 1_000_00)
        assert _refused(alice, rich, payee, 1).code == "daily_limit"
    with time_machine.travel(LATER + datetime.timedelta(hours=1), tick=False):  # the same day in India
        _send(alice, rich, payee, 2_00_000_00)
        assert transfer_limits_get(user=alice).daily_paise == 5_00_000_00


def test_a_raise_without_a_confirmation_is_refused_and_changes_nothing(alice):
    with time_machine.travel(NOON, tick=False):
        _set(alice, daily=1_000_00)
        before = AuditEvent.objects.filter(action="limit.change").count()
        with pytest.raises(TransferError) as refused:
            _set(alice, daily=2_000_00)
        assert refused.value.code == "needs_step_up"
        row = TransferLimits.objects.get(user=alice)
        assert (row.own_daily_paise, row.pending_from) == (1_000_00, None)
        assert AuditEvent.objects.filter(action="limit.change").count() == before


def test_a_lower_change_replaces_a_pending_raise(alice, rich, payee):
    with time_machine.travel(NOON - datetime.timedelta(hours=1), tick=False):
        _set(alice, per_transfer=1_000_00)
    with time_machine.travel(NOON, tick=False):
        _set(alice, per_transfer=5_000_00, confirmed=True)
        row = _set(alice, per_transfer=800_00)
        assert (row.own_per_transfer_paise, row.pending_from, row.pending_per_transfer_paise) == (
            800_00,
            None,
            None,
        )
        assert _refused(alice, rich, payee, 800_01).code == "per_transfer_limit"
    with time_machine.travel(LATER, tick=False):
        assert _refused(alice, rich, payee, 800_01).code == "per_transfer_limit"
        assert transfer_limits_get(user=alice).pending is None


def test_a_change_lowering_one_limit_and_raising_the_other_lowers_at_once(alice):
    with time_machine.travel(NOON - datetime.timedelta(hours=1), tick=False):
        _set(alice, daily=10_000_00, per_transfer=1_000_00)
    with time_machine.travel(NOON, tick=False):
        row = _set(alice, daily=5_000_00, per_transfer=2_000_00, confirmed=True)
        summary = transfer_limits_get(user=alice)
        assert (summary.daily_paise, summary.per_transfer_paise) == (5_000_00, 1_000_00)
        assert (row.pending_daily_paise, row.pending_per_transfer_paise) == (5_000_00, 2_000_00)
    with time_machine.travel(LATER, tick=False):
        summary = transfer_limits_get(user=alice)
        assert (summary.daily_paise, summary.per_transfer_paise) == (5_000_00, 2_000_00)


def test_asking_again_for_the_waiting_raise_keeps_its_time(alice):
    with time_machine.travel(NOON - datetime.timedelta(hours=1), tick=False):
        _set(alice, daily=1_000_00)
    with time_machine.travel(NOON, tick=False):
        _set(alice, daily=2_000_00, confirmed=True)
    with time_machine.travel(NOON + datetime.timedelta(hours=6), tick=False):
        assert _set(alice, daily=2_000_00, confirmed=True).pending_from == LATER
    assert AuditEvent.objects.filter(action="limit.change").count() == 2


def test_a_change_after_a_raise_applied_starts_from_the_raised_limit(alice):
    with time_machine.travel(NOON - datetime.timedelta(hours=1), tick=False):
        _set(alice, daily=1_000_00, per_transfer=500_00)
    with time_machine.travel(NOON, tick=False):
        _set(alice, daily=3_000_00, per_transfer=500_00, confirmed=True)
    with time_machine.travel(LATER + SECOND, tick=False):
        row = _set(alice, daily=2_000_00, per_transfer=500_00)  # lower than 3,000 in force: no step-up
        assert (row.own_daily_paise, row.own_per_transfer_paise, row.pending_from) == (2_000_00, 500_00, None)


def test_the_lower_of_the_banks_and_the_customers_own_limit_applies(alice, rich, payee):
    TransferLimits.objects.create(user=alice, per_transfer_paise=3_00_000_00, daily_paise=4_00_000_00)
    with time_machine.travel(NOON, tick=False):
        _set(alice, per_transfer=1_00_000_00, daily=4_00_000_00)
        assert _refused(alice, rich, payee, 1_00_000_01).code == "per_transfer_limit"  # own below staff's
        # Staff lower the customer's bank limits below their own: the bank's applies.
        TransferLimits.objects.filter(user=alice).update(per_transfer_paise=50_000_00, daily_paise=60_000_00)
        error = _refused(alice, rich, payee, 50_000_01)
        assert error.code == "per_transfer_limit" and "yourself" not in error.message
        _send(alice, rich, payee, 50_000_00)
        assert _refused(alice, rich, payee, 10_000_01).code == "daily_limit"
        assert transfer_limits_get(user=alice).left_today_paise == 10_000_00


def test_an_own_limit_above_the_banks_is_refused_naming_it(alice):
    with pytest.raises(TransferError) as refused:
        _set(alice, daily=5_00_000_01)
    assert refused.value.code == "above_bank_limit"
    assert "₹5,00,000.00" in refused.value.message
    with pytest.raises(TransferError) as refused:
        _set(alice, per_transfer=2_00_000_01)
    assert "₹2,00,000.00" in refused.value.message
    assert not TransferLimits.objects.filter(user=alice, own_daily_paise__isnull=False).exists()


def test_a_change_is_audited_and_emailed_after_commit(alice, django_capture_on_commit_callbacks):
    with time_machine.travel(NOON - datetime.timedelta(hours=1), tick=False):
        _set(alice, daily=1_000_00)
    with time_machine.travel(NOON, tick=False), django_capture_on_commit_callbacks() as callbacks:
        _set(alice, daily=2_000_00, per_transfer=500_00, confirmed=True)
    event = AuditEvent.objects.filter(action="limit.change").latest("seq")
    assert event.actor == alice and event.object_id == str(alice.pk)
    assert event.before["own_daily_paise"] == 1_000_00 and event.before["pending_from"] is None
    assert event.after["own_daily_paise"] == 1_000_00 and event.after["own_per_transfer_paise"] == 500_00
    assert event.after["pending_daily_paise"] == 2_000_00
    assert event.after["pending_from"] == LATER.isoformat()
    (queued,) = callbacks
    assert notification_send_task(*queued.args) is True
    (email,) = mail.outbox
    assert email.to == [alice.email]
    assert email.subject == "Your SecureBank transfer limits were changed"
    assert "Daily limit:        ₹1,000.00" in email.body
    assert "Per-transfer limit: ₹500.00" in email.body
    assert "applies from 6 Dec 2026, 5:30 AM IST" in email.body
    assert "Daily limit:        ₹2,000.00" in email.body


def test_a_change_that_changes_nothing_records_nothing(alice, django_capture_on_commit_callbacks):
    _set(alice, daily=1_000_00)
    with django_capture_on_commit_callbacks() as callbacks:
        _set(alice, daily=1_000_00)
    assert callbacks == []
    assert AuditEvent.objects.filter(action="limit.change").count() == 1


def test_the_summary_says_what_is_left_today(alice, rich, payee):
    with time_machine.travel(NOON, tick=False):
        _send(alice, rich, payee, 1_50_000_00)
        summary = transfer_limits_get(user=alice)
    assert (summary.daily_paise, summary.sent_today_paise, summary.left_today_paise) == (
        5_00_000_00,
        1_50_000_00,
        3_50_000_00,
    )
    assert summary.own.daily_paise is None and summary.pending is None
