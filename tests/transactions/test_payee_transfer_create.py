"""transactions.services.payee_transfer_create: money to a payee, in our ledger or out through settlement,
with the payee's cooling-off and the customer's daily limit checked in the posting's transaction."""

import datetime
import uuid

import pytest
import time_machine
from django.utils import timezone

from accounts import internal
from accounts.models import Account
from tests.conftest import fund
from tests.factories import AccountFactory, PayeeFactory
from tests.transactions.ledger_checks import assert_books_balance
from transactions import services, tasks
from transactions.models import OutwardPayment, Transaction
from transactions.services import TransferError

pytestmark = pytest.mark.django_db

NOON = datetime.datetime(2026, 12, 5, 12, 0, tzinfo=datetime.UTC)  # 5:30 PM in India


def _send(user, source, payee, paise, key=None):
    return services.payee_transfer_create(
        initiator=user,
        source=source,
        payee=payee,
        amount_paise=paise,
        description="",
        idempotency_key=key or uuid.uuid4().hex,
    )


@pytest.fixture
def rich(alice):
    return fund(AccountFactory(owner=alice, name="Savings"), 20_00_000_00)  # ₹20 lakh


def test_it_credits_a_payee_who_banks_with_us(alice, rich, bob_savings):
    payee = PayeeFactory(
        owner=alice, name="Bob", account_number=bob_savings.number, ifsc="SECB0000001", account=bob_savings
    )
    txn = _send(alice, rich, payee, 1_500_00)
    assert txn.kind == Transaction.Kind.PAYEE
    assert txn.payee == payee and txn.counterparty == "Bob"
    assert dict(txn.entries.values_list("account_id", "amount")) == {
        rich.pk: -1_500_00,
        bob_savings.pk: 1_500_00,
    }
    bob_savings.refresh_from_db()
    assert bob_savings.balance == 10_000_00 + 1_500_00
    assert not OutwardPayment.objects.exists()
    assert_books_balance()


def test_the_payee_sees_who_paid_never_the_payers_name_for_them(client, alice, bob, rich, bob_savings):
    """Alice calls Bob "Flatmate (owes me)": that label is hers. Bob's dashboard and his credit alert name
    Alice, as the bank knows her; Alice's side still shows her payee's name. The default note names no one."""
    from django.core import mail

    from portal.celery import app

    payee = PayeeFactory(
        owner=alice,
        name="Flatmate (owes me)",
        account_number=bob_savings.number,
        ifsc="SECB0000001",
        account=bob_savings,
    )
    txn = _send(alice, rich, payee, 1_500_00)
    assert txn.description == "Transfer within SecureBank"
    assert dict(txn.entries.values_list("account_id", "counterparty")) == {
        rich.pk: "",
        bob_savings.pk: "Alice Iyer",
    }

    client.force_login(bob)
    bobs = client.get("/").content.decode()
    assert "Alice Iyer" in bobs and "Flatmate" not in bobs
    client.force_login(alice)
    alices = client.get("/").content.decode()
    assert "Flatmate (owes me)" in alices

    app.conf.task_always_eager = True
    try:
        tasks.posting_alerts_dispatch_task()
    finally:
        app.conf.task_always_eager = False
    (to_bob,) = [m for m in mail.outbox if m.to == [bob.email] and "₹1,500.00" in m.subject]
    (to_alice,) = [m for m in mail.outbox if m.to == [alice.email] and "₹1,500.00" in m.subject]
    assert "Details: Alice Iyer" in to_bob.body and "Flatmate" not in to_bob.body
    assert "Details: Flatmate (owes me)" in to_alice.body


def test_it_pays_another_banks_payee_through_settlement_as_sent(alice, rich):
    payee = PayeeFactory(owner=alice)
    txn = _send(alice, rich, payee, 2_000_00)
    assert txn.kind == Transaction.Kind.OUTWARD
    legs = dict(txn.entries.values_list("account__number", "amount"))
    assert legs[rich.number] == -2_000_00
    assert sum(amount for number, amount in legs.items() if number != rich.number) == 2_000_00
    assert all(Account.objects.get(number=n).is_internal for n in legs if n != rich.number)
    assert txn.outward_payment.status == OutwardPayment.Status.SENT
    assert txn.description == "Transfer to Ravi Kumar"
    assert_books_balance()


def test_it_refuses_another_customers_payee_and_a_removed_one(alice, bob, rich):
    for payee in (PayeeFactory(owner=bob), PayeeFactory(owner=alice, removed_at=timezone.now())):
        with pytest.raises(TransferError) as refused:
            _send(alice, rich, payee, 100_00)
        assert refused.value.code == "not_payee"
    assert not Transaction.objects.filter(kind=Transaction.Kind.OUTWARD).exists()


def test_it_refuses_a_source_that_is_not_the_initiators(alice, bob_savings):
    payee = PayeeFactory(owner=alice)
    with pytest.raises(TransferError) as refused:
        _send(alice, bob_savings, payee, 100_00)
    assert refused.value.code == "not_owner"


def test_it_sends_nothing_during_cooling_off_and_from_its_end(alice, rich):
    with time_machine.travel(NOON, tick=False):
        payee = PayeeFactory(owner=alice, created_at=timezone.now())
    with time_machine.travel(NOON + datetime.timedelta(hours=24) - datetime.timedelta(seconds=1), tick=False):
        with pytest.raises(TransferError) as refused:
            _send(alice, rich, payee, 100_00)
        assert refused.value.code == "payee_cooling_off"
        assert "6 Dec 2026, 5:30 PM IST" in refused.value.message
    with time_machine.travel(NOON + datetime.timedelta(hours=24), tick=False):
        assert _send(alice, rich, payee, 100_00).kind == Transaction.Kind.OUTWARD


def test_it_caps_a_new_payee_at_one_lakh_a_day_for_four_days(alice, rich):
    with time_machine.travel(NOON, tick=False):
        payee = PayeeFactory(owner=alice, created_at=timezone.now())
    day2 = NOON + datetime.timedelta(hours=25)
    with time_machine.travel(day2, tick=False):
        _send(alice, rich, payee, 60_000_00)
        with pytest.raises(TransferError) as refused:
            _send(alice, rich, payee, 40_000_01)
        assert refused.value.code == "payee_new_cap"
        assert "₹40,000.00 is left today" in refused.value.message
        _send(alice, rich, payee, 40_000_00)  # exactly the cap
    # The next day in India (midnight IST is 18:30 UTC) the cap starts again.
    with time_machine.travel(datetime.datetime(2026, 12, 6, 18, 30, tzinfo=datetime.UTC), tick=False):
        _send(alice, rich, payee, 1_00_000_00)
    # Five days after it was added the cap is gone (the daily limit still applies).
    with time_machine.travel(NOON + datetime.timedelta(days=5), tick=False):
        _send(alice, rich, payee, 1_50_000_00)


def test_it_holds_the_daily_limit_across_payees_and_accounts_at_its_boundary(alice, rich):
    other = fund(AccountFactory(owner=alice, name="Current"), 5_00_000_00)
    first, second = PayeeFactory(owner=alice), PayeeFactory(owner=alice, name="Meena")
    with time_machine.travel(NOON, tick=False):
        _send(alice, rich, first, 2_00_000_00)  # the per-transfer limit
        _send(alice, rich, first, 1_00_000_00)
        _send(alice, other, second, 1_99_999_99)
        with pytest.raises(TransferError) as refused:
            _send(alice, rich, second, 2)
        assert refused.value.code == "daily_limit"
        assert "₹5,00,000.00" in refused.value.message and "₹0.01 is left today" in refused.value.message
        _send(alice, rich, second, 1)  # exactly the limit
    # Own-account transfers are not sent to others: they do not count.
    services.transfer_create(
        initiator=alice,
        source=rich,
        destination=other,
        amount_paise=1_00_000_00,
        description="",
        idempotency_key=uuid.uuid4().hex,
    )


def test_it_uses_the_limit_staff_set_for_the_customer(alice, rich):
    from transactions.models import TransferLimits

    TransferLimits.objects.create(user=alice, daily_paise=1_000_00)
    payee = PayeeFactory(owner=alice)
    _send(alice, rich, payee, 1_000_00)
    with pytest.raises(TransferError) as refused:
        _send(alice, rich, payee, 1)
    assert refused.value.code == "daily_limit"


def test_a_resubmit_returns_the_first_transfer_even_at_the_limit(alice, rich):
    from transactions.models import TransferLimits

    TransferLimits.objects.create(user=alice, daily_paise=1_000_00)
    payee = PayeeFactory(owner=alice)
    first = _send(alice, rich, payee, 1_000_00, key="k1")
    again = _send(alice, rich, payee, 1_000_00, key="k1")
    assert again.pk == first.pk
    assert Transaction.objects.filter(kind=Transaction.Kind.OUTWARD).count() == 1
    assert OutwardPayment.objects.get().transaction_id == first.pk
    with pytest.raises(TransferError) as refused:
        _send(alice, rich, payee, 999_00, key="k1")
    assert refused.value.code == "idempotency_conflict"
    # The day's running total counts the transfer once: the resubmits added nothing to it.
    assert TransferLimits.objects.get(user=alice).sent_paise == 1_000_00


def test_a_refused_transfer_changes_nothing(alice):
    poor = fund(AccountFactory(owner=alice), 100_00)
    payee = PayeeFactory(owner=alice)
    before = internal.SETTLEMENT
    with pytest.raises(TransferError) as refused:
        _send(alice, poor, payee, 100_01)
    assert refused.value.code == "insufficient_funds"
    poor.refresh_from_db()
    assert poor.balance == 100_00
    assert not OutwardPayment.objects.exists()
    assert Account.objects.get(number=before).ledger_version >= 0


def test_the_days_total_is_kept_on_the_limits_row_and_summed_only_on_the_first_transfer_of_a_day(alice, rich):
    """The daily limit's check reads a running total kept under the lock, not a sum over the day's entries
    (whose cost grew with every transfer, inside the lock); a refusal leaves the total as it was; a row
    whose total is of another day (or of none: before the total existed) sums the ledger once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from transactions.models import TransferLimits

    payee = PayeeFactory(owner=alice)
    with time_machine.travel(NOON, tick=False):
        _send(alice, rich, payee, 1_000_00)
        with CaptureQueriesContext(connection) as queries:
            _send(alice, rich, payee, 2_000_00)
        assert not [q for q in queries if "SUM(" in q["sql"].upper()]
        limits_row = TransferLimits.objects.get(user=alice)
        assert (limits_row.sent_on, limits_row.sent_paise) == (datetime.date(2026, 12, 5), 3_000_00)
        with pytest.raises(TransferError):
            _send(alice, rich, payee, 5_00_000_00)  # over the limit: refused, nothing counted
        assert TransferLimits.objects.get(user=alice).sent_paise == 3_000_00
        # As before the running total existed: the next transfer sums the day from the ledger.
        TransferLimits.objects.filter(user=alice).update(sent_on=None, sent_paise=0)
        TransferLimits.objects.filter(user=alice).update(daily_paise=4_000_00)
        with pytest.raises(TransferError) as refused:
            _send(alice, rich, payee, 1_000_01)
        assert refused.value.code == "daily_limit"
        _send(alice, rich, payee, 1_000_00)
        assert TransferLimits.objects.get(user=alice).sent_paise == 4_000_00
