"""`manage.py seed_demo`: load the demo customers and their year of banking (planned in portal/demo.py).

Every posting goes through the ledger services, one database transaction per customer, with the time of
the movement and a deterministic idempotency key: a second run posts nothing new. If the demo customers
already have a ledger the command says so and stops at once. On PostgreSQL it runs ANALYZE at the end.
"""

import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from accounts.internal import ensure_internal_accounts
from accounts.models import Account, User
from portal import demo
from portal.demo import CURRENT, SAVINGS, Customer, Posting
from transactions import services
from transactions.categories import ensure_categories
from transactions.models import Category, Entry, Transaction


@dataclass(frozen=True)
class Loaded:
    """What loading one customer did."""

    customer: Customer
    accounts: int
    planned: int  # postings in the plan
    posted: int  # transactions new to the ledger (the rest were already there)


def _ensure_user(
    email: str, full_name: str, phone: str, password_hash: str, since: datetime.date, *, staff: bool = False
) -> User:
    user, _created = User.objects.get_or_create(
        email=email,
        defaults={
            "full_name": full_name,
            "phone": phone,
            "password": password_hash,
            "is_staff": staff,
            "is_superuser": staff,
            "date_joined": datetime.datetime.combine(since, datetime.time(9), demo.IST),
        },
    )
    return user


def _ensure_account(owner: User, number: str, name: str, kind: str, opened_on: datetime.date) -> Account:
    account, _created = Account.objects.get_or_create(
        number=number, defaults={"owner": owner, "name": name, "kind": kind, "opened_on": opened_on}
    )
    if account.owner_id != owner.pk:
        raise demo.PlanError(f"Account {number} exists and belongs to someone else.")
    return account


def _transfer(posting: Posting, key: str, user: User, accounts: dict[str, Account]) -> Transaction:
    return services.transfer_create(
        initiator=user,
        source=accounts[SAVINGS],
        destination=accounts[CURRENT],
        amount_paise=posting.amount,
        description=posting.description,
        idempotency_key=key,
        created=posting.when,
    )


def post(posting: Posting, *, customer: Customer, user: User, accounts: dict[str, Account]) -> Transaction:
    """Post one planned movement through the ledger services."""
    key = posting.key(customer.username)
    account = accounts[posting.account]
    if posting.kind == Transaction.Kind.TRANSFER:
        return _transfer(posting, key, user, accounts)
    if posting.kind == Transaction.Kind.INTEREST:
        return services.interest_credit(
            account=account, amount_paise=posting.amount, idempotency_key=key, created=posting.when
        )
    if posting.kind == Transaction.Kind.FEE:
        return services.fee_charge(
            account=account,
            amount_paise=posting.amount,
            description=posting.description,
            idempotency_key=key,
            created=posting.when,
        )
    write = services.deposit_create if posting.kind in demo.CREDIT_KINDS else services.payment_create
    return write(
        account=account,
        amount_paise=posting.amount,
        description=posting.description,
        idempotency_key=key,
        kind=posting.kind,
        counterparty=posting.counterparty,
        category=posting.category,
        created=posting.when,
        initiator=user if posting.by_customer else None,
    )


def _transaction_count(user: User) -> int:
    return Transaction.objects.filter(entries__account__owner=user).distinct().count()


def load_customer(customer: Customer, anchor: datetime.date, password_hash: str) -> Loaded:
    """Create the customer and their two accounts and post their year, in one database transaction."""
    plan = demo.build_plan(customer, anchor)
    opened_on = demo.year_before(anchor)
    with transaction.atomic():
        user = _ensure_user(customer.email, customer.full_name, customer.phone, password_hash, opened_on)
        accounts = {
            SAVINGS: _ensure_account(
                user, customer.savings_number, demo.SAVINGS_NAME, Account.Kind.SAVINGS, opened_on
            ),
            CURRENT: _ensure_account(
                user, customer.current_number, demo.CURRENT_NAME, Account.Kind.CURRENT, opened_on
            ),
        }
        before = _transaction_count(user)
        for posting in plan:
            post(posting, customer=customer, user=user, accounts=accounts)
        posted = _transaction_count(user) - before
    return Loaded(customer, len(accounts), len(plan), posted)


def is_loaded() -> bool:
    """The fast path: every demo customer already has a ledger."""
    emails = [customer.email for customer in demo.CUSTOMERS]
    owners = Entry.objects.filter(account__owner__email__in=emails).values("account__owner").distinct()
    return owners.count() == len(demo.CUSTOMERS)


def analyze() -> None:
    """After a bulk load PostgreSQL needs fresh statistics, or it may ignore an index (DESIGN.md)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def seed(anchor: datetime.date, progress: Callable[[Loaded], None]) -> list[Loaded]:
    """Load the staff user and every demo customer, then refresh the planner's statistics."""
    ensure_internal_accounts(Account)
    ensure_categories(Category)
    password_hash = make_password(demo.DEMO_PASSWORD)  # hashed once: the hasher is slow on purpose
    since = demo.year_before(anchor)
    _ensure_user(demo.STAFF_EMAIL, "SecureBank staff (demo)", "", password_hash, since, staff=True)
    loaded = []
    for customer in demo.CUSTOMERS:
        loaded.append(load_customer(customer, anchor, password_hash))
        progress(loaded[-1])
    analyze()
    return loaded


class Command(BaseCommand):
    help = "Create the demo customers alice, bob and charlie with a year of everyday banking."

    def handle(self, *args: Any, **options: Any) -> None:
        if is_loaded():
            self.stdout.write("SecureBank demo data already loaded: nothing to do.")
            return
        anchor = demo.today()
        self.stdout.write(f"Loading SecureBank demo data: the year up to {anchor:%d %b %Y}...")
        started = time.monotonic()
        loaded = seed(anchor, progress=self._progress)
        self._summary(loaded, time.monotonic() - started)

    def _progress(self, result: Loaded) -> None:
        self.stdout.write(
            f"  {result.customer.email}: {result.accounts} accounts, {result.posted} new transactions "
            f"({result.planned} planned)"
        )

    def _summary(self, loaded: list[Loaded], elapsed: float) -> None:
        accounts = sum(result.accounts for result in loaded)
        posted = sum(result.posted for result in loaded)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded in {elapsed:.1f} s: {len(loaded)} customers, {accounts} accounts, "
                f"{posted} transactions."
            )
        )
        self.stdout.write("  Customer logins: " + ", ".join(result.customer.email for result in loaded))
        self.stdout.write(f"  Staff login (superuser, admin site): {demo.STAFF_EMAIL}")
        self.stdout.write(
            f"  The admin needs two-factor auth: `manage.py enrol_totp {demo.STAFF_EMAIL}` prints the key."
        )
        self.stdout.write(f"  Password for all of them: {demo.DEMO_PASSWORD}")
