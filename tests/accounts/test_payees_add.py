"""accounts.services.payee_add (and payee_target, the review step's check): the bank by its IFSC, a
SecureBank payee a real customer account that is not one's own, no duplicate, audited, notified after the
commit with the number masked."""

import pytest
from django.core import mail
from django.db import transaction

from accounts.models import Account, Payee
from accounts.services import PayeeError, payee_add, payee_remove
from accounts.tasks import notification_send_task
from portal.celery import app
from portal.models import AuditEvent
from tests.factories import AccountFactory, PayeeFactory

pytestmark = pytest.mark.django_db


def _add(owner, **changes) -> Payee:
    details = {"name": "Ravi Kumar", "account_number": "50100012345678", "ifsc": "HDFC0001234", **changes}
    return payee_add(owner=owner, **details)


def _refusal(owner, **changes) -> str:
    with pytest.raises(PayeeError) as caught:
        _add(owner, **changes)
    return caught.value.code


@pytest.fixture
def eager_tasks():
    """Run the email task in this process (registered by importing accounts.tasks)."""
    assert notification_send_task.name
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


def test_it_adds_a_payee_at_another_bank(alice):
    payee = _add(alice)
    assert (payee.owner, payee.name, payee.account_number, payee.ifsc) == (
        alice,
        "Ravi Kumar",
        "50100012345678",
        "HDFC0001234",
    )
    assert payee.bank_name == "HDFC Bank"
    assert payee.account is None and payee.removed_at is None


def test_it_links_a_securebank_payee_to_the_customers_account(alice, bob_savings):
    payee = _add(alice, account_number=bob_savings.number, ifsc="SECB0000001")
    assert payee.account == bob_savings and payee.bank_name == "SecureBank" and payee.is_internal


def test_a_frozen_securebank_account_may_be_added(alice, bob_savings):
    """Only money out of a frozen account is stopped: it can still be paid."""
    Account.objects.filter(pk=bob_savings.pk).update(status=Account.Status.FROZEN)
    assert _add(alice, account_number=bob_savings.number, ifsc="SECB0000001").account == bob_savings


def test_a_securebank_payee_must_be_a_real_customer_account(alice, bob, bob_savings):
    assert _refusal(alice, account_number="999999999999", ifsc="SECB0000001") == "no_such_account"
    closed = AccountFactory(owner=bob, status=Account.Status.CLOSED)
    assert _refusal(alice, account_number=closed.number, ifsc="SECB0000001") == "no_such_account"
    settlement = Account.objects.filter(kind=Account.Kind.INTERNAL).first()
    if settlement is not None and settlement.number.isdigit() and 9 <= len(settlement.number) <= 18:
        assert _refusal(alice, account_number=settlement.number, ifsc="SECB0000001") == "no_such_account"
    assert Payee.objects.count() == 0


def test_a_securebank_payee_is_not_ones_own_account(alice, alice_savings):
    with pytest.raises(PayeeError) as caught:
        _add(alice, account_number=alice_savings.number, ifsc="SECB0000001")
    assert caught.value.code == "own_account"
    assert "one of your own accounts" in caught.value.message
    assert Payee.objects.count() == 0


def test_securebank_has_one_ifsc(alice, bob_savings):
    assert _refusal(alice, account_number=bob_savings.number, ifsc="SECB0000002") == "bank_ifsc"


def test_it_refuses_an_unknown_bank_and_bad_formats(alice):
    assert _refusal(alice, ifsc="ZZZZ0001234") == "unknown_bank"
    assert _refusal(alice, ifsc="hdfc0001234") == "ifsc_invalid"  # the service takes cleaned input only
    assert _refusal(alice, account_number="12345678") == "account_number_invalid"
    assert _refusal(alice, account_number="1" * 19) == "account_number_invalid"
    assert _refusal(alice, name="   ") == "name_required"
    assert _refusal(alice, name="x" * 101) == "name_too_long"
    assert Payee.objects.count() == 0


def test_it_refuses_a_duplicate_active_payee_with_a_clear_message(alice, bob):
    _add(alice, name="Ravi")
    with pytest.raises(PayeeError) as caught:
        _add(alice, name="Ravi again")
    assert (caught.value.code, caught.value.message) == ("duplicate", "You already have this payee, as Ravi.")
    assert _add(alice, account_number="50100012345679").pk  # another number is another payee
    assert _add(bob).owner == bob  # and another customer's payee is theirs


def test_a_removed_payee_can_be_added_again(alice):
    first = _add(alice)
    payee_remove(owner=alice, payee_id=first.pk)
    again = _add(alice)
    assert again.pk != first.pk and again.removed_at is None
    assert Payee.objects.filter(owner=alice).count() == 2


def test_it_records_the_addition_in_the_same_transaction_without_the_whole_number(alice):
    payee = _add(alice)
    event = AuditEvent.objects.get(action="payee.add")
    assert (event.actor, event.object_id) == (alice, str(payee.pk))
    assert event.after == {
        "name": "Ravi Kumar",
        "account": "••5678",
        "ifsc": "HDFC0001234",
        "bank": "HDFC Bank",
    }
    assert "50100012345678" not in str(event.after)


def test_nothing_is_recorded_or_sent_when_it_rolls_back(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        _add(alice)
        raise RuntimeError("the caller's transaction fails")
    assert callbacks == []
    assert not Payee.objects.exists() and not AuditEvent.objects.filter(action="payee.add").exists()


def test_it_emails_the_customer_after_the_commit_with_the_number_masked(
    alice, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _add(alice)
        assert mail.outbox == []
    assert len(callbacks) == 1 and mail.outbox == []  # queued for the commit, not sent in the transaction
    callbacks[0]()
    (email,) = mail.outbox
    assert email.to == ["alice@example.com"]
    assert email.subject == "New payee added to your SecureBank account"
    assert "Ravi Kumar (account ending 5678)" in email.body
    assert "50100012345678" not in email.body


def test_factory_payees_still_count_as_duplicates(alice):
    PayeeFactory(owner=alice, account_number="50100012345678", ifsc="HDFC0001234")
    assert _refusal(alice) == "duplicate"
