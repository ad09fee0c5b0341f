"""The demo plan: three customers (alice, bob and charlie) with a year of everyday Indian banking.

This module says *what* the demo is; `portal/seeding/demo_load.py` posts it (`manage.py seed_demo`). A
customer's year is a *plan*: a list of postings that is a pure function of the customer's profile and an
anchor date (today in India). A `random.Random` with the customer's fixed seed walks the year before the
anchor day by day, so the same day always gives the same ledger. The loader posts the plan through the ledger
services with the real time of each movement (`portal.seeding.history`) and an idempotency key made of the
customer, the day and what the posting is (``demo:alice:2026-03-05:rent``): posting the same plan twice
moves no money twice.

The plan speaks the models' language: transaction kinds are `Transaction.Kind`, accounts `Account.Kind`,
categories the codes of `transactions.categories.CATEGORIES` (checked as the module loads), and a plan that
would take an account below what `Account.allows_balance` allows (the ledger's overdraft rule; the demo
accounts have no overdraft) is refused before anything is posted.

The year ends yesterday evening. No posting is dated in the future, so a customer's first real payment
today sorts after the demo history and the running balances shown in the history stay in order.
"""

import dataclasses
import datetime
import random
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from accounts.models import Account
from portal.seeding import DEMO_PASSWORD, STAFF_EMAIL
from transactions.categories import CATEGORIES
from transactions.models import Transaction

__all__ = ["DEMO_PASSWORD", "STAFF_EMAIL"]  # re-exported: the loaders and tests read them from here too

IST = ZoneInfo("Asia/Kolkata")

Kind = Transaction.Kind
SAVINGS = Account.Kind.SAVINGS.value
CURRENT = Account.Kind.CURRENT.value
SAVINGS_NAME = "Salary savings"
CURRENT_NAME = "Everyday current"

INTEREST_RATE_BPS = 300  # 3% a year on the savings balance, credited monthly
TOPUP_FLOOR = 2_000_00  # keep at least this much in the current account after a payment
TOPUP_STEP = 5_000_00  # top-ups are whole multiples of this
SMS_ALERT_FEE = 17_70  # a quarter's SMS alerts, GST included
CARD_ANNUAL_FEE = 590_00  # debit card annual fee, GST included

CREDIT_KINDS = frozenset({Kind.SALARY, Kind.DEPOSIT, Kind.INTEREST})


def category_code(code: str) -> str:
    """A category the ledger knows (`CATEGORIES`): a typo here fails when the module loads, not mid-load."""
    if code not in CATEGORIES:
        raise ValueError(f"Unknown category {code!r}: the ledger's are {', '.join(CATEGORIES)}.")
    return code


class PlanError(Exception):
    """A plan that would take an account below zero: the profile's numbers do not add up."""


@dataclass(frozen=True)
class Bill:
    """A utility bill paid by UPI from the current account on a fixed day of each month."""

    day: int
    service: str  # "electricity", "broadband", "mobile": the slug of its idempotency key
    provider: str
    amount: int  # paise; electricity varies around it, and costs half as much again in summer


@dataclass(frozen=True)
class Customer:
    """Who a demo customer is and how they live. Amounts are paise a month unless said otherwise."""

    username: str
    full_name: str
    phone: str
    seed: int
    savings_number: str
    current_number: str
    opening: int  # balance brought forward into savings on the first day
    employer: str
    salary: int  # this financial year's; last year's was about 8% less
    landlord: str
    rent: int
    rent_day: int
    loan: str
    lender: str
    emi: int
    budget: int  # moved from savings to current on the 1st
    bills: tuple[Bill, ...]
    appetite: int  # percent: scales everyday spending
    card_fee_month: int

    @property
    def email(self) -> str:
        return f"{self.username}@example.com"


@dataclass(frozen=True)
class Merchant:
    name: str
    slug: str
    description: str
    category: str
    kind: str
    low: int  # paise
    high: int  # paise
    step: int = 1  # amounts are whole multiples of this (cash comes in notes)


@dataclass(frozen=True)
class Habit:
    """Something a customer may do on any day: a chance in percent, on weekdays and at weekends."""

    merchants: tuple[Merchant, ...]
    weekday_chance: int
    weekend_chance: int
    hours: tuple[int, int]


@dataclass(frozen=True)
class Posting:
    """One planned movement of money on one of the customer's accounts (a transfer touches both)."""

    when: datetime.datetime
    slug: str  # unique within the day: with the customer and the date it makes the idempotency key
    kind: str
    account: str  # SAVINGS or CURRENT: the account credited or debited; a transfer's source
    amount: int  # paise, > 0
    description: str
    counterparty: str = ""
    category: str | None = None
    by_customer: bool = False  # the customer asked for it (card, UPI, cash, own transfer)

    def key(self, username: str) -> str:
        return f"demo:{username}:{self.when.date().isoformat()}:{self.slug}"

    def deltas(self) -> dict[str, int]:
        """How the posting changes the customer's balances, by account."""
        if self.kind == Kind.TRANSFER:
            return {SAVINGS: -self.amount, CURRENT: self.amount}
        sign = 1 if self.kind in CREDIT_KINDS else -1
        return {self.account: sign * self.amount}


CUSTOMERS: tuple[Customer, ...] = (
    Customer(
        username="alice",
        full_name="Alisha Iyer",
        phone="+91 98450 31427",
        seed=1101,
        savings_number="771000010011",
        current_number="771000010012",
        opening=1_80_000_00,
        employer="Infosys Ltd",
        salary=1_45_000_00,
        landlord="Ramesh Kulkarni",
        rent=38_000_00,
        rent_day=2,
        loan="Car loan",
        lender="HDFC Bank Ltd",
        emi=14_500_00,
        budget=37_000_00,
        bills=(
            Bill(8, "broadband", "Airtel Xstream Fiber", 1_178_82),
            Bill(14, "electricity", "BESCOM", 1_850_00),
            Bill(20, "mobile", "Jio", 349_00),
        ),
        appetite=100,
        card_fee_month=7,
    ),
    Customer(
        username="bob",
        full_name="Bhavesh Menon",
        phone="+91 99205 68113",
        seed=2202,
        savings_number="771000020021",
        current_number="771000020022",
        opening=90_000_00,
        employer="Tata Consultancy Services Ltd",
        salary=92_000_00,
        landlord="Sunita Deshpande",
        rent=22_000_00,
        rent_day=4,
        loan="Personal loan",
        lender="Bajaj Finance Ltd",
        emi=8_900_00,
        budget=28_000_00,
        bills=(
            Bill(6, "mobile", "Airtel postpaid", 707_82),
            Bill(10, "broadband", "JioFiber", 999_00),
            Bill(16, "electricity", "Adani Electricity Mumbai", 1_400_00),
        ),
        appetite=75,
        card_fee_month=11,
    ),
    Customer(
        username="charlie",
        full_name="Charulata Reddy",
        phone="+91 90000 47285",
        seed=3303,
        savings_number="771000030031",
        current_number="771000030032",
        opening=1_25_000_00,
        employer="Wipro Ltd",
        salary=1_18_000_00,
        landlord="Venkat Rao",
        rent=27_000_00,
        rent_day=1,
        loan="Two-wheeler loan",
        lender="ICICI Bank Ltd",
        emi=6_200_00,
        budget=32_000_00,
        bills=(
            Bill(12, "electricity", "TGSPDCL", 1_600_00),
            Bill(18, "broadband", "ACT Fibernet", 1_049_00),
            Bill(22, "mobile", "Jio", 749_00),
        ),
        appetite=90,
        card_fee_month=3,
    ),
)


def _m(name: str, category: str, kind: str, low: int, high: int, description: str, step: int = 1) -> Merchant:
    slug = name.lower().replace(" ", "-").replace(".", "")
    return Merchant(name, slug, description, category_code(category), kind, low * 100, high * 100, step)


HABITS: tuple[Habit, ...] = (
    Habit(
        (
            _m("BigBasket", "groceries", Kind.UPI, 1_400, 4_200, "BigBasket weekly order"),
            _m("DMart", "groceries", Kind.CARD, 1_100, 3_600, "DMart groceries"),
            _m("Reliance Smart", "groceries", Kind.CARD, 900, 3_000, "Reliance Smart groceries"),
        ),
        weekday_chance=3,
        weekend_chance=45,
        hours=(9, 20),
    ),
    Habit(
        (
            _m("Zepto", "groceries", Kind.UPI, 150, 900, "Zepto order"),
            _m("Blinkit", "groceries", Kind.UPI, 150, 900, "Blinkit order"),
            _m("Swiggy Instamart", "groceries", Kind.UPI, 150, 800, "Swiggy Instamart order"),
        ),
        weekday_chance=12,
        weekend_chance=20,
        hours=(8, 22),
    ),
    Habit(
        (
            _m("Swiggy", "dining", Kind.UPI, 220, 1_100, "Swiggy food order"),
            _m("Zomato", "dining", Kind.UPI, 220, 1_200, "Zomato food order"),
        ),
        weekday_chance=14,
        weekend_chance=30,
        hours=(12, 22),
    ),
    Habit(
        (
            _m("Third Wave Coffee", "dining", Kind.UPI, 250, 750, "Third Wave Coffee"),
            _m("Chai Point", "dining", Kind.UPI, 120, 400, "Chai Point"),
            _m("MTR", "dining", Kind.CARD, 450, 1_400, "MTR restaurant"),
            _m("Barbeque Nation", "dining", Kind.CARD, 1_800, 4_200, "Barbeque Nation dinner"),
        ),
        weekday_chance=5,
        weekend_chance=30,
        hours=(12, 22),
    ),
    Habit(
        (
            _m("Uber", "travel", Kind.UPI, 150, 650, "Uber ride"),
            _m("Ola", "travel", Kind.UPI, 140, 600, "Ola ride"),
            _m("Rapido", "travel", Kind.UPI, 60, 220, "Rapido bike taxi"),
        ),
        weekday_chance=25,
        weekend_chance=10,
        hours=(8, 21),
    ),
    Habit(
        (
            _m("Amazon", "shopping", Kind.CARD, 300, 4_500, "Amazon.in order"),
            _m("Flipkart", "shopping", Kind.UPI, 350, 6_000, "Flipkart order"),
            _m("Myntra", "shopping", Kind.CARD, 800, 3_500, "Myntra order"),
        ),
        weekday_chance=7,
        weekend_chance=12,
        hours=(10, 23),
    ),
    Habit(
        (
            _m("Apollo Pharmacy", "health", Kind.UPI, 150, 1_600, "Apollo Pharmacy"),
            _m("Tata 1mg", "health", Kind.UPI, 250, 1_400, "Tata 1mg medicines"),
        ),
        weekday_chance=4,
        weekend_chance=4,
        hours=(9, 21),
    ),
    Habit(
        (_m("IRCTC", "travel", Kind.UPI, 450, 3_200, "IRCTC train tickets"),),
        weekday_chance=2,
        weekend_chance=2,
        hours=(9, 23),
    ),
    Habit(
        (_m("IndiGo", "travel", Kind.CARD, 3_800, 11_500, "IndiGo flight tickets"),),
        weekday_chance=1,
        weekend_chance=1,
        hours=(9, 23),
    ),
    Habit(
        (_m("ATM", "other", Kind.WITHDRAWAL, 2_000, 5_000, "ATM cash withdrawal", step=1_000_00),),
        weekday_chance=4,
        weekend_chance=3,
        hours=(9, 20),
    ),
)


# --- The plan: pure functions of a customer and a date -------------------------------------------------


def _at(day: datetime.date, hour: int, minute: int) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=IST)


def _random_time(rng: random.Random, day: datetime.date, hours: tuple[int, int]) -> datetime.datetime:
    return _at(day, rng.randint(hours[0], hours[1] - 1), rng.randint(0, 59))


def year_before(day: datetime.date) -> datetime.date:
    """The same date a year earlier (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def _days(first: datetime.date, end: datetime.date) -> Iterator[datetime.date]:
    """Every day from `first` up to, not including, `end`."""
    day = first
    while day < end:
        yield day
        day += datetime.timedelta(days=1)


def _last_day_of_month(day: datetime.date) -> datetime.date:
    next_month = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return next_month - datetime.timedelta(days=1)


def _last_working_day(day: datetime.date) -> datetime.date:
    last = _last_day_of_month(day)
    while last.weekday() >= 5:
        last -= datetime.timedelta(days=1)
    return last


def _financial_year(day: datetime.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def _salary(customer: Customer, day: datetime.date, anchor: datetime.date) -> int:
    """This financial year's salary; before April's appraisal, about 8% less in whole hundreds of rupees."""
    if _financial_year(day) >= _financial_year(anchor):
        return customer.salary
    return customer.salary * 100 // 108 // 100_00 * 100_00


def _bill_amount(bill: Bill, day: datetime.date, rng: random.Random) -> int:
    if bill.service != "electricity":
        return bill.amount
    typical = bill.amount * 3 // 2 if day.month in (4, 5, 6) else bill.amount
    return rng.randint(typical * 80 // 100, typical * 120 // 100)


def _opening(customer: Customer, day: datetime.date) -> Posting:
    return Posting(
        _at(day, 0, 5),
        "opening",
        Kind.DEPOSIT,
        SAVINGS,
        customer.opening,
        "Balance brought forward",
        counterparty="Own account at State Bank of India",
        category=category_code("transfers"),
    )


def _budget(customer: Customer, day: datetime.date) -> Posting:
    return Posting(
        _at(day, 7, 45),
        "budget",
        Kind.TRANSFER,
        SAVINGS,
        customer.budget,
        f"Monthly budget to {CURRENT_NAME}",
        by_customer=True,
    )


def _rent(customer: Customer, day: datetime.date, rng: random.Random) -> Posting:
    return Posting(
        _random_time(rng, day, (9, 12)),
        "rent",
        Kind.UPI,
        SAVINGS,
        customer.rent,
        f"Rent for {day:%B %Y}",
        counterparty=customer.landlord,
        category=category_code("rent"),
        by_customer=True,
    )


def _emi(customer: Customer, day: datetime.date, rng: random.Random) -> Posting:
    """The loan's auto-debit (NACH mandate): early in the morning, asked for by the lender."""
    return Posting(
        _at(day, 6, rng.randint(0, 59)),
        "emi",
        Kind.WITHDRAWAL,
        SAVINGS,
        customer.emi,
        f"{customer.loan} EMI (NACH)",
        counterparty=customer.lender,
        category=category_code("emi"),
    )


def _utility(bill: Bill, day: datetime.date, rng: random.Random) -> Posting:
    return Posting(
        _random_time(rng, day, (8, 22)),
        bill.service,
        Kind.UPI,
        CURRENT,
        _bill_amount(bill, day, rng),
        f"{bill.provider} {bill.service} bill",
        counterparty=bill.provider,
        category=category_code("utilities"),
        by_customer=True,
    )


def _salary_credit(
    customer: Customer, day: datetime.date, anchor: datetime.date, rng: random.Random
) -> Posting:
    return Posting(
        _random_time(rng, day, (9, 11)),
        "salary",
        Kind.SALARY,
        SAVINGS,
        _salary(customer, day, anchor),
        f"Salary for {day:%B %Y}",
        counterparty=customer.employer,
        category=category_code("salary"),
    )


def _bank_charge(slug: str, day: datetime.date, amount: int, description: str) -> Posting:
    return Posting(
        _at(day, 23, 40),
        slug,
        Kind.FEE,
        SAVINGS,
        amount,
        description,
        counterparty="SecureBank",
        category=category_code("other"),
    )


def _interest_marker(day: datetime.date) -> Posting:
    """Interest for the month; its amount is worked out from the balance when the plan is settled."""
    return Posting(
        _at(day, 23, 55),
        "interest",
        Kind.INTEREST,
        SAVINGS,
        0,
        "Savings interest",
        counterparty="SecureBank",
        category=category_code("interest"),
    )


def _monthly(
    customer: Customer, day: datetime.date, first: datetime.date, anchor: datetime.date, rng: random.Random
) -> list[Posting]:
    """What falls due on the day: salary, rent, EMI, bills, the current account's budget, charges."""
    found: list[Posting] = []
    if day == first:
        found.append(_opening(customer, day))
    if day.day == 1 or day == first:
        found.append(_budget(customer, day))
    if day.day == customer.rent_day:
        found.append(_rent(customer, day, rng))
    if day.day == 5:
        found.append(_emi(customer, day, rng))
    found.extend(_utility(bill, day, rng) for bill in customer.bills if bill.day == day.day)
    if day.month == customer.card_fee_month and day.day == 15:
        found.append(_bank_charge("card-fee", day, CARD_ANNUAL_FEE, "Debit card annual fee (incl. GST)"))
    if day == _last_working_day(day):
        found.append(_salary_credit(customer, day, anchor, rng))
    if day == _last_day_of_month(day):
        if day.month % 3 == 0:
            found.append(
                _bank_charge("sms-fee", day, SMS_ALERT_FEE, "SMS alerts for the quarter (incl. GST)")
            )
        found.append(_interest_marker(day))
    return found


def _amount(rng: random.Random, merchant: Merchant, appetite: int) -> int:
    amount = rng.randint(merchant.low, merchant.high) * appetite // 100
    return max(merchant.step, amount // merchant.step * merchant.step)


# Card and UPI payments reach the bank with the merchant's name and no category, as real ones do: the bank's
# default rules (transactions/insights/defaults.py) categorise them when the insights' sums catch up.
# `Merchant.category` is what those rules must give (tests/portal/test_seed_demo.py checks every merchant).
UNCATEGORISED_KINDS = frozenset({Kind.CARD, Kind.UPI})


def _everyday(customer: Customer, day: datetime.date, rng: random.Random) -> list[Posting]:
    """What the customer buys on the day, paid from the current account."""
    found: list[Posting] = []
    weekend = day.weekday() >= 5
    for habit in HABITS:
        chance = habit.weekend_chance if weekend else habit.weekday_chance
        if rng.randrange(100) >= chance:
            continue
        merchant = rng.choice(habit.merchants)
        when = _random_time(rng, day, habit.hours)
        amount = _amount(rng, merchant, customer.appetite)
        found.append(
            Posting(
                when,
                merchant.slug,
                merchant.kind,
                CURRENT,
                amount,
                merchant.description,
                counterparty=merchant.name,
                category=None if merchant.kind in UNCATEGORISED_KINDS else merchant.category,
                by_customer=True,
            )
        )
    return found


def _topup(before: Posting, previous: datetime.datetime | None, shortfall: int, number: int) -> Posting:
    """A transfer from savings just before the payment that needs it, in whole TOPUP_STEPs."""
    when = before.when - datetime.timedelta(minutes=3)
    if previous is not None:
        when = max(when, previous)
    amount = -(-shortfall // TOPUP_STEP) * TOPUP_STEP
    return Posting(
        when, f"topup-{number}", Kind.TRANSFER, SAVINGS, amount, f"Top-up to {CURRENT_NAME}", by_customer=True
    )


def _settle(draft: list[Posting]) -> list[Posting]:
    """Walk the draft in time order: work out interest, add top-ups so that the current account never goes
    below zero, and refuse a plan that would take savings below zero."""
    balances = {SAVINGS: 0, CURRENT: 0}
    # The demo's accounts as the ledger will hold them (no overdraft), for its rule: `Account.allows_balance`.
    accounts = {kind: Account(kind=kind) for kind in balances}
    settled: list[Posting] = []
    topups: dict[datetime.date, int] = {}

    def apply(posting: Posting) -> None:
        for account, delta in posting.deltas().items():
            balances[account] += delta
            if not accounts[account].allows_balance(balances[account]):
                raise PlanError(f"{posting.key('?')} takes {account} to {balances[account]} paise")
        settled.append(posting)

    for posting in draft:
        if posting.kind == Kind.INTEREST:
            amount = balances[SAVINGS] * INTEREST_RATE_BPS // (12 * 10_000)
            if amount <= 0:
                continue
            posting = dataclasses.replace(posting, amount=amount)
        debit = -posting.deltas().get(CURRENT, 0)
        needed = debit + TOPUP_FLOOR - balances[CURRENT]
        if debit > 0 and needed > 0:
            day = posting.when.date()
            topups[day] = topups.get(day, 0) + 1
            apply(_topup(posting, settled[-1].when if settled else None, needed, topups[day]))
        apply(posting)
    return settled


def build_plan(customer: Customer, anchor: datetime.date) -> list[Posting]:
    """The customer's year up to the day before `anchor`, in the order it happened."""
    rng = random.Random(customer.seed)  # noqa: S311 (demo data, not secrets: it must repeat)
    first = year_before(anchor)
    draft: list[Posting] = []
    for day in _days(first, anchor):
        draft.extend(_monthly(customer, day, first, anchor, rng))
        draft.extend(_everyday(customer, day, rng))
    draft.sort(key=lambda posting: posting.when)  # stable: postings at the same minute keep their order
    return _settle(draft)


def closing_balances(plan: list[Posting]) -> dict[str, int]:
    """The balances the plan leaves, by account (SAVINGS, CURRENT)."""
    balances = {SAVINGS: 0, CURRENT: 0}
    for posting in plan:
        for account, delta in posting.deltas().items():
            balances[account] += delta
    return balances


def today() -> datetime.date:
    """The anchor date: today in India."""
    return datetime.datetime.now(tz=IST).date()


@dataclass(frozen=True)
class DemoPayee:
    """A payee a demo customer added `days_ago` days before the load: past its cooling-off and new-payee
    cap after 5 days, capped between 1 and 5, cooling off within one. `to` names another demo customer's
    savings account (a SecureBank payee) or is empty for an account at another bank."""

    owner: str  # username
    name: str
    days_ago: float
    account_number: str = ""
    ifsc: str = ""
    bank_name: str = ""
    to: str = ""


PAYEES = (
    DemoPayee("alice", "Bob Menon", 120, to="bob"),
    DemoPayee("alice", "Lakshmi Rao (landlord)", 200, "50100234567812", "HDFC0001234", "HDFC Bank"),
    DemoPayee("alice", "Arjun Iyer", 2, "39012345678", "SBIN0000691", "State Bank of India"),
    DemoPayee("bob", "Alice Iyer", 90, to="alice"),
    DemoPayee("bob", "Sharma Tutors", 45, "920020012345678", "UTIB0000123", "Axis Bank"),
    DemoPayee("charlie", "Meena Das", 0.1, "001234567890", "ICIC0000104", "ICICI Bank"),
)
