import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account
from tests.conftest import fund
from tests.factories import AccountFactory
from transactions import services
from transactions.services import TransferError

transfers = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),
        st.integers(min_value=0, max_value=2),
        st.integers(min_value=-5, max_value=1_500_00),
    ),
    max_size=15,
)


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    opening=st.lists(st.integers(min_value=0, max_value=1_000_00), min_size=3, max_size=3),
    moves=transfers,
)
def test_it_keeps_money_constant_and_balances_non_negative(alice, opening, moves):
    # Every example gets fresh accounts: the examples share one test's database transaction.
    accounts = [AccountFactory(owner=alice) for _ in opening]
    for account, paise in zip(accounts, opening, strict=True):
        if paise:
            fund(account, paise)
    ids = [a.pk for a in accounts]
    expected = dict(zip(ids, opening, strict=True))

    for source, destination, amount in moves:
        try:
            services.transfer_create(
                initiator=alice,
                source=ids[source],
                destination=ids[destination],
                amount_paise=amount,
                description="",
                idempotency_key=str(uuid.uuid4()),
            )
        except TransferError as exc:
            assert exc.code in {"same_account", "amount_invalid", "insufficient_funds"}
            assert exc.code != "same_account" or source == destination
            assert exc.code != "amount_invalid" or amount <= 0
            assert exc.code != "insufficient_funds" or amount > expected[ids[source]]
        else:
            assert source != destination and 0 < amount <= expected[ids[source]]
            expected[ids[source]] -= amount
            expected[ids[destination]] += amount

    balances = dict(Account.objects.filter(pk__in=ids).values_list("pk", "balance"))
    assert balances == expected
    assert sum(balances.values()) == sum(opening)
    assert min(balances.values()) >= 0
    for account_id, balance in balances.items():
        entries = Account.objects.get(pk=account_id).entries.order_by("id")
        assert sum(entries.values_list("amount", flat=True)) == balance
