"""Posting the demo plan (portal/seeding/demo.py): what `manage.py seed_demo` runs once its checks pass.

Every posting goes through the ledger services, one database transaction per customer, dated at the time
of the movement (`portal.seeding.history.posted_at`) with a deterministic idempotency key: a second run
posts nothing new. Every user made here is marked as the demo's (`SeededUser`); a user with a demo email
that the demo did not make is never touched. On PostgreSQL it runs ANALYZE at the end.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from accounts.internal import ensure_internal_accounts
from accounts.models import Account, Payee, User
from portal.seeding import demo, guards
from portal.seeding.demo import CURRENT, SAVINGS, Customer, Kind, Posting
from portal.seeding.faq import seed_faq
from portal.seeding.history import posted_at
from portal.seeding.models import SeededUser
from portal.seeding.rates import seed_rates
from transactions import services
from transactions.categories import ensure_categories
from transactions.insights import rollup
from transactions.insights.defaults import ensure_default_rules
from transactions.insights.models import CategoryRule
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
) -> tuple[User, bool]:
    """The demo's user with this email, made now if missing. One that exists and that no loader made
    belongs to someone else: refused."""
    user, created = User.objects.get_or_create(
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
    if created:
        guards.mark_seeded([user], SeededUser.Loader.DEMO)
    elif not guards.is_seeded(user):
        raise demo.PlanError(f"{email} exists and was not made by seed_demo: it is left alone.")
    return user, created


def _ensure_previous_sign_in(user: User, anchor: datetime.date) -> None:
    """A customer with a year of history has signed in before: the evening before `anchor`, unless they
    have signed in since. The sign-in copies it to `previous_login`, which the dashboard shows (a demo
    customer told "This is your first sign-in" over a year of transactions reads as a bug)."""
    if user.last_login is None:
        evening = datetime.datetime.combine(
            anchor - datetime.timedelta(days=1), datetime.time(20, 15), demo.IST
        )
        User.objects.filter(pk=user.pk, last_login__isnull=True).update(last_login=evening)
        user.last_login = evening


def _ensure_account(owner: User, number: str, name: str, kind: str, opened_on: datetime.date) -> Account:
    account, _created = Account.objects.get_or_create(
        number=number, defaults={"owner": owner, "name": name, "kind": kind, "opened_on": opened_on}
    )
    if account.owner_id != owner.pk:
        raise demo.PlanError(f"Account {number} exists and belongs to someone else.")
    return account


def _post(posting: Posting, key: str, user: User, accounts: dict[str, Account]) -> Transaction:
    account = accounts[posting.account]
    if posting.kind == Kind.TRANSFER:
        return services.transfer_create(
            initiator=user,
            source=accounts[SAVINGS],
            destination=accounts[CURRENT],
            amount_paise=posting.amount,
            description=posting.description,
            idempotency_key=key,
        )
    if posting.kind == Kind.INTEREST:
        return services.interest_credit(account=account, amount_paise=posting.amount, idempotency_key=key)
    if posting.kind == Kind.FEE:
        return services.fee_charge(
            account=account, amount_paise=posting.amount, description=posting.description, idempotency_key=key
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
        initiator=user if posting.by_customer else None,
    )


def post(posting: Posting, *, customer: Customer, user: User, accounts: dict[str, Account]) -> Transaction:
    """Post one planned movement through the ledger services, dated when it happened."""
    with posted_at(posting.when):
        return _post(posting, posting.key(customer.username), user, accounts)


def _transaction_count(user: User) -> int:
    return Transaction.objects.filter(entries__account__owner=user).distinct().count()


def load_customer(customer: Customer, anchor: datetime.date, password_hash: str) -> Loaded:
    """Create the customer and their two accounts and post their year, in one database transaction."""
    plan = demo.build_plan(customer, anchor)
    opened_on = demo.year_before(anchor)
    with transaction.atomic():
        user, _created = _ensure_user(
            customer.email, customer.full_name, customer.phone, password_hash, opened_on
        )
        accounts = {
            SAVINGS: _ensure_account(
                user, customer.savings_number, demo.SAVINGS_NAME, Account.Kind.SAVINGS, opened_on
            ),
            CURRENT: _ensure_account(
                user, customer.current_number, demo.CURRENT_NAME, Account.Kind.CURRENT, opened_on
            ),
        }
        _ensure_previous_sign_in(user, anchor)
        before = _transaction_count(user)
        for posting in plan:
            post(posting, customer=customer, user=user, accounts=accounts)
        posted = _transaction_count(user) - before
    return Loaded(customer, len(accounts), len(plan), posted)


def _ensure_payees() -> None:
    """The demo's payees (demo.PAYEES), made if missing: written as a loader writes users, without the
    add-payee flow's step-up, email or audit event (nobody added them)."""
    users = {u.email: u for u in User.objects.filter(email__in=[c.email for c in demo.CUSTOMERS])}
    by_username = {c.username: c for c in demo.CUSTOMERS}
    now = timezone.now()
    for planned in demo.PAYEES:
        owner = users[by_username[planned.owner].email]
        account = None
        number, ifsc, bank = planned.account_number, planned.ifsc, planned.bank_name
        if planned.to:
            account = Account.objects.get(number=by_username[planned.to].savings_number)
            number, ifsc, bank = account.number, settings.BANK_IFSC, "SecureBank"
        Payee.objects.get_or_create(
            owner=owner,
            account_number=number,
            ifsc=ifsc,
            removed_at=None,
            defaults={
                "name": planned.name,
                "bank_name": bank,
                "account": account,
                "created_at": now - datetime.timedelta(days=planned.days_ago),
            },
        )


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


def _refuse_strangers() -> None:
    """Before anything is written: a user with one of the demo's emails that no loader made is someone
    else's (a real staff member, a real customer), and the demo never touches them."""
    emails = [demo.STAFF_EMAIL, *(customer.email for customer in demo.CUSTOMERS)]
    for user in User.objects.filter(email__in=emails).order_by("email"):
        if not guards.is_seeded(user):
            raise demo.PlanError(f"{user.email} exists and was not made by seed_demo: it is left alone.")


def ensure_staff(password: str, since: datetime.date) -> bool:
    """The demo's superuser, with `password` if it is made now (True); an existing one keeps its own."""
    _user, created = _ensure_user(
        demo.STAFF_EMAIL, "SecureBank staff (demo)", "", make_password(password), since, staff=True
    )
    return created


def seed(
    anchor: datetime.date, progress: Callable[[Loaded], None], *, staff_password: str
) -> tuple[bool, list[Loaded]]:
    """Load the staff user and every demo customer, then refresh the planner's statistics. Returns whether
    the staff user was made now (with `staff_password`) and what loading each customer did."""
    _refuse_strangers()
    ensure_internal_accounts(Account)
    ensure_categories(Category)
    ensure_default_rules(CategoryRule)  # (insights/0002 made them; a flushed database may lack them)
    password_hash = make_password(demo.DEMO_PASSWORD)  # hashed once: the hasher is slow on purpose
    staff_made = ensure_staff(staff_password, demo.year_before(anchor))
    loaded = []
    for customer in demo.CUSTOMERS:
        loaded.append(load_customer(customer, anchor, password_hash))
        progress(loaded[-1])
    with transaction.atomic():
        _ensure_payees()
    seed_rates(anchor=anchor)
    seed_faq()
    catch_up_insights()
    analyze()
    return staff_made, loaded


def catch_up_insights() -> None:
    """Bring the demo accounts' daily sums up to their ledger, the bank's default rules with them (the card
    and UPI payments arrive uncategorised): the insights page and the history show the categories at once,
    not after the beat's first catch-up."""
    emails = [customer.email for customer in demo.CUSTOMERS]
    for account_id in (
        Account.objects.filter(owner__email__in=emails).order_by("pk").values_list("pk", flat=True)
    ):
        rollup.catch_up(account_id)
