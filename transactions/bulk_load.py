"""A synthetic ledger at scale, written straight into PostgreSQL with COPY (`manage.py seed_scale`).

Two halves:

- `LedgerGenerator` says *what* is loaded: customers with Indian names, employers, landlords and loans, and
  a history of balanced transactions over several years, one merchant customer (the "hot" account) taking
  a large share of them. It is a pure function of a `ScaleSpec` (the seed makes it repeat) and the ids it is
  given, and produces PostgreSQL binary COPY data: no ORM, no per-row round trip.
- `ScaleLoad` says *how*: in one database transaction it locks the ledger tables, switches triggers off,
  drops the ledger's secondary indexes and constraints, COPYs users, ledger and accounts, puts back every
  index, constraint and trigger exactly as the catalog described them, proves the books in SQL, and only
  then commits. A failure anywhere rolls all of it back, indexes and triggers included.

The ledger's rules hold by construction and are checked again before COMMIT: every transaction has two
entries that sum to zero; ids grow with time, so each account's `balance_after` follows its entries in
(created, id) order and in id order alike; a customer balance never goes below zero (no overdrafts); an
account's balance is the sum of its entries; the bank's total stays zero. The bank's internal accounts may
already hold entries (from `seed_demo`, say): their chain continues from their current balance in id
order, as a posting through the services with a past `created` date would.
"""

import datetime
import itertools
import math
import queue
import random
import struct
import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.db import connection, transaction

from accounts import internal
from accounts.models import User
from portal import demo

SEEDED_DOMAIN = "scale.securebank.test"
HOT_EMAIL = f"merchant@{SEEDED_DOMAIN}"
KEY_PREFIX = "scale:"
ACCOUNT_PREFIX = "55"  # 12-digit account numbers 55ccccccccck: customer number, then 1 savings / 2 current
IST = demo.IST
LEDGER_TABLES = ("transactions_transaction", "transactions_entry")

_PG_EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
_HOUR_US = 3_600_000_000
_DAY_US = 24 * _HOUR_US
# When people pay, in India time, by hour of the day (relative weights).
_HOURLY = (0.3, 0.15, 0.1, 0.1, 0.1, 0.2, 0.6, 1.5, 3, 4, 5, 5.5, 6, 6, 5.5, 5, 5, 5.5, 6.5, 7, 7, 6, 4, 1.5)
_RAMP = 0.75  # customers join evenly over the first three quarters of the window

# PostgreSQL binary COPY framing.
BINARY = "(FORMAT BINARY)"
COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
COPY_TRAILER = struct.pack(">h", -1)
_NULL = struct.pack(">i", -1)
_LEN = struct.Struct(">i").pack
_TXN_HEAD = struct.Struct(">hiq").pack  # field count, then the id
_INT8 = struct.Struct(">iq").pack
_ENTRY_PAIR = struct.Struct(">" + "hiqiqiqiqiqiq" * 2).pack

TRANSACTION_COLUMNS = (
    "id",
    "kind",
    "description",
    "counterparty",
    "idempotency_key",
    "created",
    "category_id",
    "initiator_id",
)
ENTRY_COLUMNS = ("id", "amount", "balance_after", "created", "account_id", "transaction_id")
USER_COLUMNS = (
    "id",
    "password",
    "is_superuser",
    "email",
    "full_name",
    "phone",
    "is_active",
    "is_staff",
    "date_joined",
)
ACCOUNT_COLUMNS = (
    "id",
    "number",
    "name",
    "kind",
    "currency",
    "balance",
    "overdraft_limit",
    "status",
    "opened_on",
    "ledger_version",
    "owner_id",
)


class ScaleLoadError(Exception):
    """The load was refused or failed its checks; nothing was committed."""


# --- Who the customers are -------------------------------------------------------------------------

FIRST_NAMES = (
    "Aarav", "Aditi", "Aditya", "Akash", "Ananya", "Anil", "Anjali", "Arjun", "Asha", "Bhavna",
    "Chetan", "Deepa", "Deepak", "Divya", "Farhan", "Gaurav", "Geeta", "Harish", "Ishaan", "Jaya",
    "Karan", "Kavya", "Kiran", "Lakshmi", "Manish", "Meera", "Mohan", "Naveen", "Neha", "Nikhil",
    "Pooja", "Pradeep", "Priya", "Rahul", "Rajesh", "Ramya", "Ravi", "Rohit", "Sakshi", "Sanjay",
    "Shreya", "Siddharth", "Sneha", "Sunil", "Suresh", "Tanvi", "Uma", "Varun", "Vikram", "Zoya",
)  # fmt: skip
LAST_NAMES = (
    "Agarwal", "Banerjee", "Bhat", "Chatterjee", "Chopra", "Das", "Desai", "Fernandes", "Ghosh", "Gupta",
    "Iyer", "Jain", "Joshi", "Kapoor", "Khan", "Kulkarni", "Kumar", "Mehta", "Menon", "Mishra",
    "Nair", "Patel", "Pillai", "Rao", "Reddy", "Saxena", "Shah", "Sharma", "Singh", "Sinha",
    "Thomas", "Trivedi", "Varma", "Verma", "Yadav",
)  # fmt: skip
EMPLOYERS = (
    "Infosys Ltd", "Tata Consultancy Services Ltd", "Wipro Ltd", "HCL Technologies Ltd",
    "Tech Mahindra Ltd", "Reliance Industries Ltd", "Larsen & Toubro Ltd", "Mahindra & Mahindra Ltd",
    "Maruti Suzuki India Ltd", "Asian Paints Ltd", "ITC Ltd", "Bharti Airtel Ltd", "Zoho Corporation Pvt Ltd",
    "Flipkart Internet Pvt Ltd", "Apollo Hospitals Enterprise Ltd", "Cognizant Technology Solutions India",
    "Accenture Solutions Pvt Ltd", "Indian Railways", "Government of Karnataka", "Biocon Ltd",
)  # fmt: skip
BANKS = (
    "State Bank of India", "HDFC Bank", "ICICI Bank", "Axis Bank", "Kotak Mahindra Bank", "Canara Bank",
    "Bank of Baroda", "Punjab National Bank",
)  # fmt: skip
# (provider, service, low, high) in rupees: paid by UPI, category utilities.
UTILITIES = (
    ("BESCOM", "electricity", 600, 3_200),
    ("Tata Power", "electricity", 700, 3_500),
    ("Adani Electricity Mumbai", "electricity", 800, 3_800),
    ("TGSPDCL", "electricity", 500, 2_800),
    ("MSEDCL", "electricity", 500, 3_000),
    ("Jio", "mobile", 239, 999),
    ("Airtel", "mobile", 265, 1_199),
    ("Vi", "mobile", 199, 799),
    ("JioFiber", "broadband", 399, 1_499),
    ("Airtel Xstream Fiber", "broadband", 499, 1_499),
    ("ACT Fibernet", "broadband", 549, 1_349),
    ("Mahanagar Gas", "piped gas", 300, 1_400),
    ("Indane", "LPG cylinder", 803, 1_103),
    ("BWSSB", "water", 150, 900),
)
LENDERS = (
    ("HDFC Bank Ltd", "Car loan"),
    ("Bajaj Finance Ltd", "Personal loan"),
    ("ICICI Bank Ltd", "Two-wheeler loan"),
    ("State Bank of India", "Home loan"),
    ("Tata Capital Ltd", "Consumer durable loan"),
    ("Axis Bank Ltd", "Education loan"),
)
SUPPLIERS = (
    "Hindustan Unilever distributor",
    "ITC distributor",
    "Amul (Kaira District Co-op)",
    "Britannia distributor",
    "Parle Products distributor",
    "Nestle India distributor",
    "Metro Cash & Carry",
    "Tata Consumer Products",
    "Dabur India distributor",
    "Marico distributor",
    "Aashirvaad atta wholesaler",
    "Local vegetable mandi",
)
POS_ACQUIRERS = ("Pine Labs POS settlement", "Paytm EDC settlement", "PhonePe POS settlement")
HOT_FULL_NAME = "Rajesh Agarwal"
HOT_ACCOUNT_NAME = "Agarwal Kirana Stores (business)"


def _merchants() -> tuple[tuple[demo.Merchant, ...], list[float]]:
    """The everyday merchants of the demo, weighted by how often the demo's habits use them."""
    merchants: list[demo.Merchant] = []
    cumulative: list[float] = []
    total = 0.0
    for habit in demo.HABITS:
        weight = (5 * habit.weekday_chance + 2 * habit.weekend_chance) / len(habit.merchants)
        for merchant in habit.merchants:
            total += weight
            merchants.append(merchant)
            cumulative.append(total)
    return tuple(merchants), [c / total for c in cumulative]


@dataclass(frozen=True)
class ScaleSpec:
    """What to load. `end` is the first day *not* loaded: history runs up to the midnight before it (India
    time), so nothing is dated in the future."""

    customers: int
    entries: int
    hot_entries: int
    end: datetime.date
    years: int = 3
    seed: int = 2024

    @property
    def transactions(self) -> int:
        return self.entries // 2

    @property
    def start(self) -> datetime.date:
        try:
            return self.end.replace(year=self.end.year - self.years)
        except ValueError:  # 29 February
            return self.end.replace(year=self.end.year - self.years, day=28)

    def validate(self) -> None:
        if self.customers < 2:
            raise ScaleLoadError("--customers must be at least 2 (the merchant and one other).")
        if self.entries < 2 or self.entries % 2:
            raise ScaleLoadError(
                "--entries must be a positive even number: each transaction has two entries."
            )
        if not 0 <= self.hot_entries <= self.transactions:
            raise ScaleLoadError(
                f"--hot-entries must be between 0 and {self.transactions:,} (one entry per transaction)."
            )
        if self.years < 1:
            raise ScaleLoadError("--years must be at least 1.")


def default_hot_entries(entries: int) -> int:
    """One million entries on the hot account, or a tenth of the load when that is smaller."""
    return min(1_000_000, entries // 10)


def pg_time(moment: datetime.datetime) -> int:
    """Microseconds since PostgreSQL's epoch: a timestamptz in binary COPY."""
    delta = moment - _PG_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_pg_time(value: int) -> datetime.datetime:
    return (_PG_EPOCH + datetime.timedelta(microseconds=value)).astimezone(IST)


@dataclass
class Ids:
    """Database ids handed out before the load, so that rows reference each other without round trips."""

    users: list[int]  # one per customer, the merchant first
    accounts: list[int]  # one per customer account, in LedgerGenerator slot order
    first_transaction: int
    first_entry: int
    internal: dict[str, int]  # number -> id of the bank's internal accounts
    internal_balances: dict[str, int]  # their balances before the load


@dataclass
class Chunk:
    transactions: bytes  # binary COPY data, signature and trailer included
    entries: bytes
    count: int  # transactions in the chunk (twice as many entries)


@dataclass
class Customer:
    """One seeded customer: a user with a savings account and perhaps a current account."""

    number: int
    email: str
    full_name: str
    phone: str
    joined: int  # pg_time
    savings: int  # slot of the savings account
    current: int  # slot of the current account, or -1


@dataclass
class Population:
    customers: list[Customer] = field(default_factory=list)
    account_customer: list[int] = field(default_factory=list)  # slot -> customer index
    account_kind: list[str] = field(default_factory=list)  # slot -> "savings" / "current"


class LedgerGenerator:
    """Customers and their history, as binary COPY data. Use `population` for users and accounts, then
    iterate `chunks()`, then read `balances` and `entry_counts` (by slot) for the accounts' rows."""

    def __init__(self, spec: ScaleSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)  # noqa: S311 (synthetic data that must repeat, not secrets)
        self.base = pg_time(datetime.datetime.combine(spec.start, datetime.time(), IST))
        self.days = (spec.end - spec.start).days
        total = sum(_HOURLY)
        self._hour_cum = list(itertools.accumulate((w / total for w in _HOURLY), initial=0.0))
        self._hour_cum[-1] = 1.0
        self._month_label = [f"{spec.start + datetime.timedelta(days=d):%B %Y}" for d in range(self.days + 1)]
        self.population = self._population()
        slots = len(self.population.account_kind)
        self.balances = [0] * (slots + 3)  # customer slots, then settlement, interest, fees
        self.entry_counts = [0] * (slots + 3)
        self._frags: dict[str, bytes] = {}

    # -- time ------------------------------------------------------------------------------------------

    def _warp(self, days: float) -> int:
        """A point on the window's time line (in days, uniform) to a moment with the day's rhythm: few
        payments at night, most in the evening. Monotonic, so sorted input stays sorted."""
        days = min(max(days, 0.0), self.days - 1e-9)
        day = int(days)
        frac = days - day
        cum = self._hour_cum
        hour = bisect_right(cum, frac) - 1
        low = cum[hour]
        return self.base + day * _DAY_US + int((hour + (frac - low) / (cum[hour + 1] - low)) * _HOUR_US)

    def _times(self, count: int, inverse: Callable[[float], float], seed: int) -> Iterator[int]:
        """`count` sorted moments: stratified uniform samples mapped through `inverse` (days)."""
        rand = random.Random(seed).random  # noqa: S311
        warp = self._warp
        for i in range(count):
            yield warp(inverse((i + rand()) / count))

    def _everyone_inverse(self) -> Callable[[float], float]:
        """Customers join evenly over the first part of the window and each pays at the same rate, so the
        number of payments per day grows with the number of customers."""
        ramp = self.days * _RAMP
        area = self.days - ramp / 2

        def inverse(x: float) -> float:
            y = x * area
            return math.sqrt(2 * ramp * y) if y <= ramp / 2 else y + ramp / 2

        return inverse

    # -- customers --------------------------------------------------------------------------------------

    def _population(self) -> Population:
        rng = self.rng
        pop = Population()
        ramp = self.days * _RAMP
        others = self.spec.customers - 1
        for number in range(self.spec.customers):
            if number == 0:
                email, full_name, joined = HOT_EMAIL, HOT_FULL_NAME, self.base
            else:
                email = f"customer{number:06d}@{SEEDED_DOMAIN}"
                full_name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                joined = self._warp(ramp * (number - 1) / others)
            phone = f"+91 {rng.randint(70000, 99999)} {rng.randint(10000, 99999)}"
            savings = len(pop.account_kind)
            pop.account_kind.append("savings")
            pop.account_customer.append(number)
            current = -1
            if number == 0 or rng.random() < 0.55:
                current = len(pop.account_kind)
                pop.account_kind.append("current")
                pop.account_customer.append(number)
            pop.customers.append(Customer(number, email, full_name, phone, joined, savings, current))
        return pop

    def account_number(self, slot: int) -> str:
        number = self.population.account_customer[slot]
        kind = self.population.account_kind[slot]
        return f"{ACCOUNT_PREFIX}{number:09d}{1 if kind == 'savings' else 2}"

    def account_name(self, slot: int) -> str:
        if slot == self.population.customers[0].current:
            return HOT_ACCOUNT_NAME
        return demo.SAVINGS_NAME if self.population.account_kind[slot] == "savings" else demo.CURRENT_NAME

    # -- the ledger ----------------------------------------------------------------------------------------

    def _frag(self, text: str) -> bytes:
        """A text field in binary COPY: its length, then its UTF-8 bytes (cached: most repeat)."""
        found = self._frags.get(text)
        if found is None:
            data = text.encode()
            found = self._frags[text] = _LEN(len(data)) + data
        return found

    def chunks(self, ids: Ids, size: int = 50_000) -> Iterator[Chunk]:
        """The whole history in time order, `size` transactions at a time. Iterate it once: it moves
        `balances` and `entry_counts` as it goes.

        One long function on purpose: it runs five million times for the 10M-entry load, and local names
        are what keeps Python fast here.
        """
        spec = self.spec
        rng = random.Random(spec.seed + 1)  # noqa: S311
        rand = rng.random
        frag = self._frag
        pop = self.population
        slots = len(pop.account_kind)
        settlement, interest_acct, fees = slots, slots + 1, slots + 2
        acct = [*ids.accounts, ids.internal[internal.SETTLEMENT], ids.internal[internal.INTEREST]]
        acct.append(ids.internal[internal.FEES])
        bal = self.balances
        cnt = self.entry_counts
        bal[settlement] = ids.internal_balances[internal.SETTLEMENT]
        bal[interest_acct] = ids.internal_balances[internal.INTEREST]
        bal[fees] = ids.internal_balances[internal.FEES]
        month_label = self._month_label
        base = self.base

        # Per customer, drawn once: what they earn, where, their rent, loan and bills.
        customers = pop.customers
        savings = [c.savings for c in customers]
        current = [c.current for c in customers]
        user_frag = [_INT8(8, uid) for uid in ids.users]
        joined = [c.joined for c in customers[1:]]  # the others, in joining order
        salary, employer, rent, landlord, emi, loan, lender, bills = [], [], [], [], [], [], [], []
        for _c in customers:
            salary.append(rng.randrange(18_000, 2_40_000, 500) * 100)
            employer.append(frag(rng.choice(EMPLOYERS)))
            renter = rand() < 0.6
            rent.append(rng.randrange(8_000, 60_000, 500) * 100 if renter else 0)
            landlord.append(frag(f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"))
            has_loan = rand() < 0.4
            lender_name, loan_name = rng.choice(LENDERS)
            emi.append(rng.randrange(2_000, 45_000, 100) * 100 if has_loan else 0)
            loan.append(frag(f"{loan_name} EMI (NACH)"))
            lender.append(frag(lender_name))
            bills.append(rng.sample(range(len(UTILITIES)), 3))
        names = [f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES]
        people = [frag(name) for name in names]
        from_people = [frag(f"UPI from {name}") for name in names]
        n_people = len(people)
        merchants, merchant_cum = _merchants()
        merchant_rows = [
            (frag(m.name), frag(m.description), frag(m.category), frag(m.kind), m.low, m.high, m.step)
            for m in merchants
        ]
        utilities = [(frag(p), frag(f"{p} {s} bill"), low * 100, high * 100) for p, s, low, high in UTILITIES]
        suppliers = [frag(s) for s in SUPPLIERS]
        acquirers = [frag(s) for s in POS_ACQUIRERS]
        banks = [(frag(f"Own account at {b}"), frag(f"NEFT from own account at {b}")) for b in BANKS]

        k = {kind: frag(kind) for kind in ("transfer", "deposit", "withdrawal", "upi", "salary")}
        k_interest, k_fee = frag("interest"), frag("fee")
        cat = {c: frag(c) for c in ("groceries", "rent", "salary", "utilities", "transfers", "interest")}
        cat_other, cat_emi = frag("other"), frag("emi")
        bank_name = frag("SecureBank")
        empty = frag("")
        desc_interest = frag("Savings interest")
        desc_cash = frag("Cash deposit at branch")
        desc_topup = frag(f"Transfer to {demo.CURRENT_NAME}")
        desc_sweep = frag(f"Sweep to {demo.SAVINGS_NAME}")
        desc_collect = frag("UPI collection")
        desc_supplier = frag("Stock purchase (NEFT)")
        desc_wages = frag("Staff wages")
        desc_shop_rent = frag("Shop rent")
        desc_shop_power = frag("BESCOM electricity bill (shop)")
        desc_pos_rental = frag("POS terminal rental (incl. GST)")
        fee_rows = (
            (frag("SMS alerts for the quarter (incl. GST)"), 17_70),
            (frag("Debit card annual fee (incl. GST)"), 590_00),
            (frag("ATM withdrawal charges beyond free limit (incl. GST)"), 23_60),
        )
        owner_landlord = frag("Mohan Lal Gupta")
        bescom = frag("BESCOM")
        pos_card = frag("Pine Labs")

        hot_user = user_frag[0]
        hot_current, hot_savings = current[0], savings[0]
        hot_n = spec.hot_entries
        rest_n = spec.transactions - hot_n
        hot_times = self._times(hot_n, lambda x: x * self.days, spec.seed + 2)
        rest_times = self._times(rest_n, self._everyone_inverse(), spec.seed + 3)
        never = 1 << 62
        next_hot = next(hot_times, never)
        next_rest = next(rest_times, never)

        tid = ids.first_transaction
        eid = ids.first_entry
        txn_rows: list[bytes] = []
        entry_rows: list[bytes] = []
        txn_add = txn_rows.append
        entry_add = entry_rows.append
        pair = _ENTRY_PAIR
        key_format = KEY_PREFIX.encode() + b"%d"
        head = _TXN_HEAD
        int8 = _INT8
        length = _LEN
        null = _NULL

        for _ in range(spec.transactions):
            # Each branch sets: src, dst (slots), amount > 0, and kind/desc/cp/category/initiator fragments.
            if next_hot <= next_rest:
                ts = next_hot
                next_hot = next(hot_times, never)
                r = rand()
                bal_hot = bal[hot_current]
                initiator = null
                if r < 0.96 and r >= 0.80 and bal_hot < 5_000_00:
                    r = 0.0  # too little in the till for a payment: another sale instead
                if r < 0.80:  # a customer pays the shop by UPI
                    amount = (20 + int(1_980 * rand() ** 3)) * 100
                    src, dst = settlement, hot_current
                    cp = people[int(rand() * n_people)]
                    kind, desc, category = k["upi"], desc_collect, cat_other
                elif r < 0.88:  # card takings settled by the acquirer
                    amount = (2_000 + int(38_000 * rand())) * 100 + int(rand() * 100)
                    src, dst = settlement, hot_current
                    kind, desc, cp, category = k["deposit"], acquirers[int(rand() * 3)], pos_card, cat_other
                elif r < 0.96:  # stock from a supplier
                    amount = min((5_000 + int(75_000 * rand())) * 100, bal_hot // 2)
                    src, dst = hot_current, settlement
                    kind, desc = k["upi"], desc_supplier
                    cp, category = suppliers[int(rand() * len(suppliers))], cat["groceries"]
                    initiator = hot_user
                elif r < 0.985:  # sweep to the owner's savings
                    amount = bal_hot * (2 + int(rand() * 3)) // 10 // 1_000_00 * 1_000_00
                    if amount <= 0:
                        amount = (20 + int(980 * rand())) * 100
                        src, dst = settlement, hot_current
                        kind, desc, cp, category = k["upi"], desc_collect, people[0], cat_other
                    else:
                        src, dst = hot_current, hot_savings
                        kind, desc, cp, category = k["transfer"], desc_sweep, empty, cat["transfers"]
                        initiator = hot_user
                elif r < 0.995:  # running the shop
                    which = int(rand() * 3)
                    src, dst, initiator = hot_current, settlement, hot_user
                    if which == 0:
                        amount = min(45_000_00, bal_hot // 2)
                        kind, desc, cp, category = k["upi"], desc_shop_rent, owner_landlord, cat["rent"]
                    elif which == 1:
                        amount = min((2_000 + int(6_000 * rand())) * 100, bal_hot // 2)
                        kind, desc, cp, category = k["upi"], desc_shop_power, bescom, cat["utilities"]
                    else:
                        amount = min((12_000 + int(8_000 * rand())) * 100, bal_hot // 2)
                        kind, desc, category = k["upi"], desc_wages, cat_other
                        cp = people[int(rand() * n_people)]
                else:
                    amount = min(354_00, bal_hot)
                    src, dst = hot_current, fees
                    kind, desc, cp, category = k_fee, desc_pos_rental, bank_name, cat_other
                if amount <= 0:  # nothing left at all: a sale
                    amount = 100_00
                    src, dst, initiator = settlement, hot_current, null
                    kind, desc, cp, category = k["upi"], desc_collect, people[1], cat_other
            else:
                ts = next_rest
                next_rest = next(rest_times, never)
                c = 1 + int(rand() * bisect_right(joined, ts))
                sav = savings[c]
                cur = current[c]
                spend = cur if cur >= 0 else sav
                initiator = null
                amount = 0
                r = rand()
                if r < 0.05:
                    src, dst, amount = settlement, sav, salary[c]
                    day = (ts - base) // _DAY_US
                    kind, desc = k["salary"], frag(f"Salary for {month_label[day]}")
                    cp, category = employer[c], cat["salary"]
                elif r < 0.08:
                    pass  # money in: below
                elif r < 0.09:
                    amount = bal[sav] * 3 // 400  # a quarter's interest at 3% a year
                    if amount > 0:
                        src, dst = interest_acct, sav
                        kind, desc, cp, category = k_interest, desc_interest, bank_name, cat["interest"]
                elif r < 0.10:
                    desc, amount = fee_rows[int(rand() * 3)]
                    if amount <= bal[sav]:
                        src, dst = sav, fees
                        kind, cp, category = k_fee, bank_name, cat_other
                    else:
                        amount = 0
                elif r < 0.15 and cur >= 0:
                    amount = bal[sav] * (1 + int(rand() * 4)) // 10 // 500_00 * 500_00
                    if amount > 0:
                        src, dst = sav, cur
                        kind, desc, cp, category = k["transfer"], desc_topup, empty, cat["transfers"]
                        initiator = user_frag[c]
                elif r < 0.20:
                    provider, desc, low, high = utilities[bills[c][int(rand() * 3)]]
                    amount = low + int(rand() * (high - low))
                    if amount <= bal[spend]:
                        src, dst = spend, settlement
                        kind, cp, category = k["upi"], provider, cat["utilities"]
                        initiator = user_frag[c]
                    else:
                        amount = 0
                elif r < 0.23 and rent[c]:
                    amount = rent[c]
                    if amount <= bal[sav]:
                        day = (ts - base) // _DAY_US
                        src, dst = sav, settlement
                        kind, desc = k["upi"], frag(f"Rent for {month_label[day]}")
                        cp, category = landlord[c], cat["rent"]
                        initiator = user_frag[c]
                    else:
                        amount = 0
                elif r < 0.26 and emi[c]:
                    amount = emi[c]
                    if amount <= bal[sav]:
                        src, dst = sav, settlement
                        kind, desc, cp, category = k["withdrawal"], loan[c], lender[c], cat_emi
                    else:
                        amount = 0
                else:
                    m_cp, desc, category, kind, low, high, step = merchant_rows[
                        bisect_right(merchant_cum, rand())
                    ]
                    amount = (low + int(rand() * (high - low))) // step * step
                    if amount > bal[spend]:
                        cap = bal[spend] // step * step
                        amount = (low + int(rand() * (cap - low))) // step * step if cap >= low else 0
                    if amount > 0:
                        src, dst, cp = spend, settlement, m_cp
                        initiator = user_frag[c]
                if amount <= 0:  # money coming in: from another bank, in cash, or from a friend
                    dst = sav
                    src = settlement
                    r = rand()
                    initiator = null
                    if r < 0.45:
                        amount = (5_000 + int(45_000 * rand())) // 500 * 500_00
                        cp, desc = banks[int(rand() * len(banks))]
                        kind, category = k["deposit"], cat["transfers"]
                    elif r < 0.65:
                        amount = (2_000 + int(18_000 * rand())) // 100 * 100_00
                        kind, desc, cp, category = k["deposit"], desc_cash, empty, cat_other
                    else:
                        amount = (200 + int(4_800 * rand())) * 100
                        who = int(rand() * n_people)
                        kind, desc, cp, category = k["upi"], from_people[who], people[who], cat["transfers"]

            # Post it: both legs in account-id order, each with the balance after it.
            after_src = bal[src] - amount
            after_dst = bal[dst] + amount
            bal[src] = after_src
            bal[dst] = after_dst
            cnt[src] += 1
            cnt[dst] += 1
            a, b = acct[src], acct[dst]
            if a < b:
                entry_add(
                    pair(6, 8, eid, 8, -amount, 8, after_src, 8, ts, 8, a, 8, tid,
                         6, 8, eid + 1, 8, amount, 8, after_dst, 8, ts, 8, b, 8, tid)
                )  # fmt: skip
            else:
                entry_add(
                    pair(6, 8, eid, 8, amount, 8, after_dst, 8, ts, 8, b, 8, tid,
                         6, 8, eid + 1, 8, -amount, 8, after_src, 8, ts, 8, a, 8, tid)
                )  # fmt: skip
            key = key_format % tid
            txn_add(
                b"".join(
                    (head(8, 8, tid), kind, desc, cp, length(len(key)), key, int8(8, ts), category, initiator)
                )
            )
            tid += 1
            eid += 2
            if len(txn_rows) >= size:
                yield self._chunk(txn_rows, entry_rows)
                txn_rows.clear()
                entry_rows.clear()
        if txn_rows:
            yield self._chunk(txn_rows, entry_rows)

    @staticmethod
    def _chunk(txn_rows: list[bytes], entry_rows: list[bytes]) -> Chunk:
        return Chunk(
            COPY_SIGNATURE + b"".join(txn_rows) + COPY_TRAILER,
            COPY_SIGNATURE + b"".join(entry_rows) + COPY_TRAILER,
            len(txn_rows),
        )


# --- Loading it ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerSchema:
    """The ledger tables' secondary indexes, unique and foreign-key constraints and enabled user triggers,
    as the catalog states them: what the load drops (or disables) and must put back exactly."""

    constraints: tuple[tuple[str, str, str], ...]  # (table, name, definition)
    indexes: tuple[tuple[str, str, str], ...]  # (table, name, CREATE INDEX ...) not backing a constraint
    triggers: tuple[tuple[str, str], ...]  # (table, name)


def read_ledger_schema(cursor: Any) -> LedgerSchema:
    tables = list(LEDGER_TABLES)
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = ANY(%s::text[]::regclass[]) AND contype IN ('u', 'f', 'x')"
        " ORDER BY contype = 'f', 1, 2",
        [tables],
    )
    constraints = tuple(cursor.fetchall())
    cursor.execute(
        "SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
        " FROM pg_index i WHERE i.indrelid = ANY(%s::text[]::regclass[]) AND NOT i.indisprimary"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
        "                 WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))"
        " ORDER BY 1, 2",
        [tables],
    )
    indexes = tuple(cursor.fetchall())
    cursor.execute(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger"
        " WHERE tgrelid = ANY(%s::text[]::regclass[]) AND NOT tgisinternal AND tgenabled = 'O'"
        " ORDER BY 1, 2",
        [tables],
    )
    triggers = tuple(cursor.fetchall())
    return LedgerSchema(constraints, indexes, triggers)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class LoadReport:
    customers: int = 0
    accounts: int = 0
    transactions: int = 0
    entries: int = 0
    hot_email: str = HOT_EMAIL
    hot_account: str = ""
    hot_entries: int = 0
    triggers_off_by: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    database_bytes: int = 0


class ScaleLoad:
    """Writes a `LedgerGenerator`'s data into PostgreSQL through Django's connection, in one transaction.

    `say` receives progress lines. The caller has already checked that the database may be loaded.
    """

    progress_every = 5.0  # seconds between progress lines
    chunk_transactions = 50_000

    def __init__(self, spec: ScaleSpec, *, password_hash: str, say: Callable[[str], None]) -> None:
        self.spec = spec
        self.password_hash = password_hash
        self.say = say
        self.report = LoadReport()

    def run(self) -> LoadReport:
        started = time.monotonic()
        self.say("Planning customers...")
        generator = LedgerGenerator(self.spec)
        try:
            with transaction.atomic(), connection.cursor() as wrapper:
                self._load(wrapper.cursor, generator)  # psycopg's own cursor: COPY, and psycopg's errors
        except psycopg.errors.LockNotAvailable as exc:
            raise ScaleLoadError(
                "The ledger tables stayed busy for 30 s (another session holds a lock on them)."
            ) from exc
        except psycopg.Error as exc:
            raise ScaleLoadError(f"PostgreSQL refused the load: {exc}") from exc
        self._timed("analyze", self._analyze)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            self.report.database_bytes = cursor.fetchone()[0]
        self.report.timings["total"] = time.monotonic() - started
        return self.report

    def _load(self, cursor: Any, generator: LedgerGenerator) -> None:
        """Everything up to COMMIT, in the caller's database transaction."""
        self._settings(cursor)
        schema = read_ledger_schema(cursor)
        self._triggers_off(cursor, schema)
        ids = self._allocate(cursor, generator)
        self._timed("drop indexes", lambda: self._drop(cursor, schema))
        self._timed("copy users", lambda: self._copy_users(cursor, generator, ids))
        self._timed("generate + copy ledger", lambda: self._copy_ledger(cursor, generator, ids))
        self._timed("copy accounts", lambda: self._copy_accounts(cursor, generator, ids))
        self._timed("rebuild indexes", lambda: self._restore(cursor, schema))
        self._triggers_on(cursor, schema)
        self._timed("check books", lambda: self._check(cursor, ids))

    def _timed(self, phase: str, work: Callable[[], None]) -> None:
        began = time.monotonic()
        work()
        self.report.timings[phase] = elapsed = time.monotonic() - began
        self.say(f"  {phase}: {elapsed:.1f} s")

    @staticmethod
    def _settings(cursor: Any) -> None:
        """For this transaction only: no waiting on WAL at COMMIT, room to sort in memory, and a bounded
        wait for the ledger tables' lock (a long query elsewhere must not hang the load silently)."""
        for setting in (
            "synchronous_commit = off",
            "maintenance_work_mem = '1GB'",
            "work_mem = '512MB'",
            "statement_timeout = 0",
            "lock_timeout = '30s'",
        ):
            cursor.execute(f"SET LOCAL {setting}")
        cursor.execute(f"LOCK TABLE {', '.join(LEDGER_TABLES)} IN ACCESS EXCLUSIVE MODE")

    def _triggers_off(self, cursor: Any, schema: LedgerSchema) -> None:
        """The ledger's triggers check one row at a time, and the deferred one would queue ten million
        checks for COMMIT: the books are proved once, in SQL, after the load instead. Replication-role
        `replica` silences every ordinary trigger for this transaction (superuser only); otherwise each
        enabled trigger of the ledger tables is disabled and enabled again before COMMIT."""
        cursor.execute("SAVEPOINT seed_scale_role")
        try:
            cursor.execute("SET LOCAL session_replication_role = replica")
        except psycopg.errors.InsufficientPrivilege:
            cursor.execute("ROLLBACK TO SAVEPOINT seed_scale_role")
            for table, name in schema.triggers:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {_ident(name)}")
            self.report.triggers_off_by = "ALTER TABLE ... DISABLE TRIGGER"
        else:
            self.report.triggers_off_by = "session_replication_role = replica"
        cursor.execute("RELEASE SAVEPOINT seed_scale_role")

    def _triggers_on(self, cursor: Any, schema: LedgerSchema) -> None:
        if self.report.triggers_off_by.startswith("session"):
            cursor.execute("SET LOCAL session_replication_role = origin")
        else:
            for table, name in schema.triggers:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {_ident(name)}")

    def _allocate(self, cursor: Any, generator: LedgerGenerator) -> Ids:
        """Ids from the tables' own sequences: a block for the ledger (its tables are locked, so nobody
        else draws from them meanwhile), one by one for users and accounts."""

        def draw(table: str, count: int) -> list[int]:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]

        def block(table: str, count: int) -> int:
            cursor.execute(
                f"SELECT GREATEST(nextval(pg_get_serial_sequence(%s, 'id')), "  # noqa: S608 (our table names)
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}))",
                [table],
            )
            first = cursor.fetchone()[0]
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, first + count - 1])
            return first

        numbers = list(internal.INTERNAL_ACCOUNTS)
        cursor.execute(
            "SELECT number, id, balance FROM accounts_account WHERE number = ANY(%s) ORDER BY id FOR UPDATE",
            [numbers],
        )
        found = {number: (pk, balance) for number, pk, balance in cursor.fetchall()}
        if len(found) != len(numbers):
            raise ScaleLoadError("The bank's internal accounts are missing: run `manage.py migrate`.")
        spec = self.spec
        return Ids(
            users=draw("accounts_user", spec.customers),
            accounts=draw("accounts_account", len(generator.population.account_kind)),
            first_transaction=block("transactions_transaction", spec.transactions),
            first_entry=block("transactions_entry", spec.entries),
            internal={number: pk for number, (pk, _b) in found.items()},
            internal_balances={number: balance for number, (_pk, balance) in found.items()},
        )

    @staticmethod
    def _drop(cursor: Any, schema: LedgerSchema) -> None:
        """Indexes are cheaper built once over the loaded rows than kept up to date row by row."""
        for table, name, _definition in schema.constraints:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_ident(name)}")
        for _table, name, _definition in schema.indexes:
            cursor.execute(f"DROP INDEX {name}")

    def _restore(self, cursor: Any, schema: LedgerSchema) -> None:
        """Put back what `_drop` removed, from the catalog's own definitions: unique constraints and
        indexes first, then the foreign keys, which PostgreSQL validates over every row as it adds them."""
        for table, name, definition in schema.constraints:
            if not definition.startswith("FOREIGN KEY"):
                self._step(cursor, f"ALTER TABLE {table} ADD CONSTRAINT {_ident(name)} {definition}", name)
        for _table, name, definition in schema.indexes:
            self._step(cursor, definition, name)
        for table, name, definition in schema.constraints:
            if definition.startswith("FOREIGN KEY"):
                self._step(cursor, f"ALTER TABLE {table} ADD CONSTRAINT {_ident(name)} {definition}", name)

    def _step(self, cursor: Any, sql: str, name: str) -> None:
        began = time.monotonic()
        cursor.execute(sql)
        self.say(f"    {name}: {time.monotonic() - began:.1f} s")

    def _copy_users(self, cursor: Any, generator: LedgerGenerator, ids: Ids) -> None:
        sql = f"COPY accounts_user ({', '.join(USER_COLUMNS)}) FROM STDIN"
        with cursor.copy(sql) as copy:
            for customer, pk in zip(generator.population.customers, ids.users, strict=True):
                copy.write_row(
                    (
                        pk,
                        self.password_hash,
                        False,
                        customer.email,
                        customer.full_name,
                        customer.phone,
                        True,
                        False,
                        from_pg_time(customer.joined),
                    )
                )
        self.report.customers = len(ids.users)

    def _copy_ledger(self, cursor: Any, generator: LedgerGenerator, ids: Ids) -> None:
        """Python makes the next chunk in a thread while PostgreSQL takes the previous one: on two cores
        the two halves run side by side (psycopg lets go of the GIL while it waits on the server)."""
        chunks: queue.Queue[Chunk | BaseException | None] = queue.Queue(maxsize=3)
        stop = threading.Event()

        def put(item: Chunk | BaseException | None) -> bool:
            while not stop.is_set():
                try:
                    chunks.put(item, timeout=0.5)
                    return True
                except queue.Full:
                    continue
            return False

        def produce() -> None:
            try:
                for chunk in generator.chunks(ids, self.chunk_transactions):
                    if not put(chunk):
                        return
                put(None)
            except BaseException as exc:  # handed to the main thread, which raises it
                put(exc)

        worker = threading.Thread(target=produce, name="seed-scale-generator", daemon=True)
        txn_sql = f"COPY transactions_transaction ({', '.join(TRANSACTION_COLUMNS)}) FROM STDIN {BINARY}"
        entry_sql = f"COPY transactions_entry ({', '.join(ENTRY_COLUMNS)}) FROM STDIN {BINARY}"
        total = self.spec.entries
        done = 0
        began = last = time.monotonic()
        worker.start()
        try:
            while (item := chunks.get()) is not None:
                if isinstance(item, BaseException):
                    raise ScaleLoadError(f"Generating the ledger failed: {item!r}") from item
                with cursor.copy(txn_sql) as copy:
                    copy.write(item.transactions)
                with cursor.copy(entry_sql) as copy:
                    copy.write(item.entries)
                done += 2 * item.count
                now = time.monotonic()
                if now - last >= self.progress_every or done == total:
                    last = now
                    rate = done / (now - began)
                    eta = (total - done) / rate if rate else 0
                    self.say(
                        f"    {done:>12,} / {total:,} entries ({100 * done / total:3.0f}%)"
                        f"  {rate:,.0f} entries/s  ETA {datetime.timedelta(seconds=round(eta))}"
                    )
        finally:
            stop.set()
            worker.join()
        self.report.transactions = done // 2
        self.report.entries = done

    def _copy_accounts(self, cursor: Any, generator: LedgerGenerator, ids: Ids) -> None:
        """Accounts go in last, with the balances and ledger versions the ledger left them."""
        pop = generator.population
        balances, counts = generator.balances, generator.entry_counts
        sql = f"COPY accounts_account ({', '.join(ACCOUNT_COLUMNS)}) FROM STDIN"
        with cursor.copy(sql) as copy:
            for slot, pk in enumerate(ids.accounts):
                owner = pop.customers[pop.account_customer[slot]]
                copy.write_row(
                    (
                        pk,
                        generator.account_number(slot),
                        generator.account_name(slot),
                        pop.account_kind[slot],
                        "INR",
                        balances[slot],
                        0,
                        "active",
                        from_pg_time(owner.joined).date(),
                        counts[slot],
                        ids.users[owner.number],
                    )
                )
        slots = len(ids.accounts)
        for offset, number in enumerate((internal.SETTLEMENT, internal.INTEREST, internal.FEES)):
            cursor.execute(
                "UPDATE accounts_account SET balance = %s, ledger_version = ledger_version + %s"
                " WHERE id = %s",
                [balances[slots + offset], counts[slots + offset], ids.internal[number]],
            )
        hot = pop.customers[0].current
        self.report.accounts = slots
        self.report.hot_account = generator.account_number(hot)
        self.report.hot_entries = counts[hot]

    def _check(self, cursor: Any, ids: Ids) -> None:
        """Prove the books before COMMIT, since no trigger looked at the rows: every transaction has two or
        more entries summing to zero; every account's balance is the sum of its entries; the bank's total
        is zero; each loaded entry's balance_after follows its account's entries in (created, id) order,
        and no customer balance went below zero on the way."""
        problems = []
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE total <> 0), count(*) FILTER (WHERE legs < 2)"
            " FROM (SELECT sum(amount) AS total, count(*) AS legs FROM transactions_entry"
            "       GROUP BY transaction_id) AS per_transaction"
        )
        with_entries, unbalanced, one_legged = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM transactions_transaction")
        transactions = cursor.fetchone()[0]
        if unbalanced or one_legged or with_entries != transactions:
            problems.append(
                f"{unbalanced} transactions do not sum to zero, {one_legged} have fewer than two entries,"
                f" {transactions - with_entries} have none"
            )
        cursor.execute(
            "SELECT count(*) FROM accounts_account AS a LEFT JOIN"
            " (SELECT account_id, sum(amount) AS total FROM transactions_entry GROUP BY account_id) AS e"
            " ON e.account_id = a.id WHERE a.balance <> COALESCE(e.total, 0)"
        )
        if wrong := cursor.fetchone()[0]:
            problems.append(f"{wrong} account balances are not the sum of their entries")
        # The accounts' foreign key to their owner was not checked row by row either (replica mode).
        cursor.execute(
            "SELECT count(*) FROM accounts_account AS a WHERE a.owner_id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM accounts_user AS u WHERE u.id = a.owner_id)"
        )
        if orphans := cursor.fetchone()[0]:
            problems.append(f"{orphans} accounts belong to no user")
        cursor.execute("SELECT COALESCE(sum(balance), 0) FROM accounts_account")
        if total := cursor.fetchone()[0]:
            problems.append(f"the bank's total is {total} paise, not zero")
        # The statistics come with ANALYZE after COMMIT; without them the planner walks an index over
        # every entry in heap-random order. One sequential scan and one in-memory sort is faster.
        cursor.execute("SET LOCAL work_mem = '1GB'")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        starts = ids.internal_balances
        cursor.execute(
            "SELECT count(*) FILTER (WHERE e.balance_after <> COALESCE(s.opening, 0) + e.running),"
            "       count(*) FILTER (WHERE e.balance_after < 0 AND s.opening IS NULL)"
            " FROM (SELECT account_id, balance_after,"
            "              sum(amount) OVER (PARTITION BY account_id ORDER BY created, id) AS running"
            "       FROM transactions_entry WHERE id >= %s) AS e"
            " LEFT JOIN unnest(%s::bigint[], %s::bigint[]) AS s (account_id, opening)"
            " ON s.account_id = e.account_id",
            [ids.first_entry, [ids.internal[n] for n in starts], list(starts.values())],
        )
        broken, negative = cursor.fetchone()
        cursor.execute("SET LOCAL enable_indexscan = on")
        cursor.execute("SET LOCAL enable_bitmapscan = on")
        if broken:
            problems.append(f"{broken} loaded entries have a balance_after out of step with their account")
        if negative:
            problems.append(f"{negative} loaded entries take a customer balance below zero")
        if problems:
            raise ScaleLoadError("The loaded books do not balance: " + "; ".join(problems) + ".")

    @staticmethod
    def _analyze() -> None:
        """Fresh planner statistics: without them PostgreSQL may ignore an index (DESIGN.md)."""
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE accounts_user, accounts_account, {', '.join(LEDGER_TABLES)}")


def census() -> tuple[int, int]:
    """(real customers, scale-seeded customers) in the database. A customer is a user who is not staff;
    seeded ones are this loader's (the SEEDED_DOMAIN) and the demo's (portal/demo.py, example.com)."""
    customers = User.objects.filter(is_staff=False, is_superuser=False)
    suffix = "@" + SEEDED_DOMAIN
    demo_emails = [customer.email for customer in demo.CUSTOMERS]
    real = customers.exclude(email__iendswith=suffix).exclude(email__in=demo_emails).count()
    return real, customers.filter(email__iendswith=suffix).count()
