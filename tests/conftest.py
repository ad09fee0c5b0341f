import datetime
import uuid
from collections.abc import Iterator

import pytest
from django.utils import timezone

from accounts.internal import ensure_internal_accounts
from accounts.models import Account, User
from portal.seeding.history import posted_at
from tests.factories import AccountFactory, UserFactory
from transactions import services
from transactions.categories import ensure_categories
from transactions.insights.defaults import ensure_default_rules
from transactions.insights.models import CategoryRule
from transactions.models import Category


def pytest_configure(config: pytest.Config) -> None:
    """Static files by their plain names, found where they lie: production's hashed names need
    `collectstatic` first (tests/portal/test_static_files.py runs it and checks what production serves)."""
    from django.conf import settings

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _public_page_copies() -> Iterator[None]:
    """Each test starts with no copies of the public pages in this process's memory (portal/public)."""
    from portal.public import page_cache

    page_store = page_cache.store()
    if page_store is not None:
        page_store.reset()
    yield


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache. The test database is new each run but the test Redis database
    is not (cached fragments keyed by primary keys from an earlier run must not leak into this one), and
    rate-limit counters (portal/ratelimit.py) must not carry from one test's sign-ins to the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Tests create many users; the production hasher would be most of their runtime."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _audit_anchor_file(settings, tmp_path) -> None:
    """Each test's sealing runs append their anchors to a file of its own, not to the shared var/."""
    settings.AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.jsonl"


@pytest.fixture(autouse=True)
def _statement_files(settings, tmp_path) -> None:
    """Each test's statement files in its own folder, not under var/."""
    settings.STORAGES = {
        **settings.STORAGES,
        "statements": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "statements"), "base_url": None},
        },
    }


def _is_transactional(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        return True
    return bool({"transactional_db", "live_server"} & set(request.fixturenames))


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest) -> None:
    """Transactional tests flush every table between tests, the migrations' data with them: put back the
    internal accounts and categories that every posting needs, and the bank's default categorisation rules
    (insights/0002) that the catch-up applies."""
    if _is_transactional(request):
        request.getfixturevalue("transactional_db")
        ensure_internal_accounts(Account)
        ensure_categories(Category)
        ensure_default_rules(CategoryRule)


@pytest.fixture
def alice(db) -> User:
    return UserFactory(email="alice@example.com", full_name="Alice Iyer")


@pytest.fixture
def bob(db) -> User:
    return UserFactory(email="bob@example.com", full_name="Bob Menon")


def fund(account: Account, paise: int) -> Account:
    """Put money into an account the way the bank does: a deposit through the ledger."""
    services.deposit_create(
        account=account, amount_paise=paise, description="Opening deposit", idempotency_key=str(uuid.uuid4())
    )
    account.refresh_from_db()
    return account


def spend(account: Account, times: int) -> None:
    """A history of `times` small card payments, one a day, ending today: "Chai 0" is the oldest. Dated
    through the loaders' own door (portal/seeding/history.py): no service takes a time. History is posted
    in time order (transactions/services.py `_posting_time`): if the account already has entries in those
    days, the payments are spread evenly between its newest entry and now instead."""
    now = timezone.now()
    start = now - datetime.timedelta(days=times)
    step = datetime.timedelta(days=1)
    account.refresh_from_db(fields=["posted_until"])
    if account.posted_until is not None and account.posted_until >= start:
        start = account.posted_until
        step = (now - start) / (times + 1)
        start += step
    for i in range(times):
        with posted_at(start + step * i):
            services.payment_create(
                account=account,
                amount_paise=1_00,
                description=f"Chai {i}",
                counterparty="Chaayos",
                category="dining",
                idempotency_key=str(uuid.uuid4()),
            )


@pytest.fixture
def alice_savings(alice) -> Account:
    return fund(AccountFactory(owner=alice, name="Savings", kind=Account.Kind.SAVINGS), 50_000_00)


@pytest.fixture
def alice_current(alice) -> Account:
    return AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)


@pytest.fixture
def bob_savings(bob) -> Account:
    return fund(AccountFactory(owner=bob, name="Savings", kind=Account.Kind.SAVINGS), 10_000_00)


@pytest.fixture
def charlie(db) -> User:
    return UserFactory(email="charlie@example.com", full_name="Charlie Das")
