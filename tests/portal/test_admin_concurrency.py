"""Staff saves in the admin racing the ledger and sign-outs, on real PostgreSQL connections (one per
thread): a save writes only what its form changed, to a row it locked when it read it, so a posting or a
session generation bump that commits meanwhile is never undone."""

import random
import threading
import uuid
from collections.abc import Callable

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts import internal, sessions
from accounts.models import Account, User
from tests.conftest import fund
from tests.factories import PASSWORD, AccountFactory, UserFactory
from tests.threads import WAIT, HeldOpen, Worker, wait_until_blocked_by
from tests.transactions.ledger_checks import assert_books_balance
from tests.twofactor import force_login_verified
from transactions import services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff(db) -> User:
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


def _signed_in(staff: User) -> Client:
    client = Client()
    force_login_verified(client, staff)
    return client


@pytest.fixture
def staff_client(staff) -> Client:
    return _signed_in(staff)


def _account_form(account: Account, **changes: str) -> dict:
    return {
        "name": account.name,
        "status": account.status,
        "opened_on": account.opened_on.isoformat(),
        **changes,
    }


def test_it_keeps_a_deposit_that_commits_while_staff_save_the_account(staff_client, alice_savings):
    url = reverse("admin:accounts_account_change", args=[alice_savings.pk])
    assert staff_client.get(url).status_code == 200
    deposit = HeldOpen(
        lambda: services.deposit_create(
            account=alice_savings, amount_paise=1_000_00, description="Cash", idempotency_key="cash-1"
        )
    )
    deposit.start_and_wait()
    save = Worker(lambda: staff_client.post(url, _account_form(alice_savings, name="Renamed")))
    save.start()
    wait_until_blocked_by(deposit.pid, "the admin request")
    deposit.release()
    deposit.outcome()

    assert save.outcome().status_code == 302
    account = Account.objects.get(pk=alice_savings.pk)
    assert (account.name, account.balance) == ("Renamed", 51_000_00)
    assert account.ledger_version == 2
    assert_books_balance()


def test_it_keeps_a_deposit_that_commits_while_staff_save_the_settlement_account(staff_client, alice_savings):
    settlement = Account.objects.get(number=internal.settlement_for(alice_savings.pk))  # alice's shard
    url = reverse("admin:accounts_account_change", args=[settlement.pk])
    deposit = HeldOpen(
        lambda: services.deposit_create(
            account=alice_savings, amount_paise=1_000_00, description="Cash", idempotency_key="cash-1"
        )
    )
    deposit.start_and_wait()
    save = Worker(lambda: staff_client.post(url, _account_form(settlement, name="Settlement (NEFT)")))
    save.start()
    wait_until_blocked_by(deposit.pid, "the admin request")
    deposit.release()
    deposit.outcome()

    assert save.outcome().status_code == 302
    settlement.refresh_from_db()
    assert (settlement.name, settlement.balance) == ("Settlement (NEFT)", -51_000_00)
    assert_books_balance()


def test_it_keeps_the_books_whole_while_postings_race_admin_saves(staff, alice, alice_savings):
    current = fund(AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT), 10_000_00)
    shards = {internal.settlement_for(alice_savings.pk), internal.settlement_for(current.pk)}
    targets = [alice_savings, current, *Account.objects.filter(number__in=shards)]
    start = threading.Barrier(4)

    def post(seed: int) -> Callable[[], None]:
        def work() -> None:
            rng = random.Random(seed)
            start.wait(WAIT)
            for _ in range(40):
                if rng.random() < 0.5:
                    services.deposit_create(
                        account=rng.choice([alice_savings, current]).pk,
                        amount_paise=rng.randint(1, 500_00),
                        description="Cash",
                        idempotency_key=str(uuid.uuid4()),
                    )
                else:
                    source, destination = rng.sample([alice_savings.pk, current.pk], 2)
                    services.transfer_create(
                        initiator=alice,
                        source=source,
                        destination=destination,
                        amount_paise=rng.randint(1, 100),
                        description="Pocket money",
                        idempotency_key=str(uuid.uuid4()),
                    )

        return work

    def save(seed: int) -> Callable[[], list[int]]:
        client = _signed_in(staff)  # one browser per member of staff

        def work() -> list[int]:
            rng = random.Random(seed)
            statuses = []
            start.wait(WAIT)
            for i in range(20):
                account = rng.choice(targets)
                url = reverse("admin:accounts_account_change", args=[account.pk])
                client.get(url)  # the form as staff see it, then their save
                response = client.post(url, _account_form(account, name=f"{account.name[:40]} {i}"))
                statuses.append(response.status_code)
            return statuses

        return work

    workers = [Worker(post(1)), Worker(post(2)), Worker(save(3)), Worker(save(4))]
    for worker in workers:
        worker.start()
    outcomes = [worker.outcome() for worker in workers]

    assert outcomes[2] == outcomes[3] == [302] * 20
    assert_books_balance()


def _sign_out_everywhere(user: User) -> Callable[[], int]:
    """What "Sign out everywhere" does to the user's row, in the held transaction."""
    request = RequestFactory().post("/security/sessions/")
    request.session = {}
    return lambda: sessions.sessions_revoke(user=user, request=request, keep_current=False)


@pytest.mark.parametrize(
    ("view", "form"),
    [
        (
            "admin:accounts_user_change",
            {"email": "alice@example.com", "full_name": "Alice Iyer-Rao", "is_active": "on"},
        ),
        (
            "admin:auth_user_password_change",
            {"password1": "A-new-long-pass-42", "password2": "A-new-long-pass-42", "usable_password": "true"},
        ),
    ],
)
def test_it_keeps_a_sign_out_everywhere_that_commits_while_staff_save_the_user(
    staff_client, alice, view, form
):
    customer = Client()
    assert customer.post(reverse("login"), {"username": alice.email, "password": PASSWORD}).status_code == 302
    assert customer.get(reverse("dashboard")).status_code == 200
    url = reverse(view, args=[alice.pk])
    assert staff_client.get(url).status_code == 200

    revoke = HeldOpen(_sign_out_everywhere(alice))
    revoke.start_and_wait()
    save = Worker(lambda: staff_client.post(url, form))
    save.start()
    wait_until_blocked_by(revoke.pid, "the admin request")
    revoke.release()
    revoke.outcome()

    assert save.outcome().status_code == 302
    alice.refresh_from_db()
    assert alice.session_generation == 1
    assert customer.get(reverse("dashboard")).status_code == 302  # her session stays ended
