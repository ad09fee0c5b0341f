"""The scale data set: what `manage.py seed_scale` loads (the loader is `portal/seeding/copy_load.py`).

`LedgerGenerator` makes customers with Indian names, employers, landlords and loans, and a history of
balanced transactions over several years, one merchant customer (the "hot" account) taking a large share of
them. It is a pure function of a `ScaleSpec` (the seed makes it repeat) and the ids it is given, and
produces PostgreSQL binary COPY data: no ORM, no per-row round trip.

The ledger's rules hold by construction (the loader proves them again in SQL before COMMIT): every
transaction has two entries that sum to zero; ids grow with time, so each account's `balance_after` follows
its entries in (created, id) order and in id order alike; no customer balance goes below zero (the
accounts have no overdraft, so the ledger's rule, `Account.allows_balance`, holds; the loader checks it in
SQL against each account's limit); the bank's total stays zero. Kinds,
account kinds and categories are the models' own (`Transaction.Kind`, `Account.Kind`, `CATEGORIES`). The
bank's internal accounts may already hold entries (from `seed_demo`, say): their chain continues from their
current balance in id order, as a posting through the services dated in the past would.
"""

import datetime
import itertools
import math
import random
import struct
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from accounts import internal
from accounts.models import Account
from portal.seeding import demo
from portal.seeding.demo import category_code
from transactions.models import Transaction

SEEDED_DOMAIN = "scale.securebank.test"
HOT_EMAIL = f"merchant@{SEEDED_DOMAIN}"
KEY_PREFIX = "scale:"
ACCOUNT_PREFIX = "55"  # 12-digit account numbers 55ccccccccck: customer number, then 1 savings / 2 current
IST = demo.IST
Kind = Transaction.Kind
SAVINGS, CURRENT = Account.Kind.SAVINGS.value, Account.Kind.CURRENT.value

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
    account_kind: list[str] = field(default_factory=list)  # slot -> SAVINGS / CURRENT


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
            pop.account_kind.append(SAVINGS)
            pop.account_customer.append(number)
            current = -1
            if number == 0 or rng.random() < 0.55:
                current = len(pop.account_kind)
                pop.account_kind.append(CURRENT)
                pop.account_customer.append(number)
            pop.customers.append(Customer(number, email, full_name, phone, joined, savings, current))
        return pop

    def account_number(self, slot: int) -> str:
        number = self.population.account_customer[slot]
        kind = self.population.account_kind[slot]
        return f"{ACCOUNT_PREFIX}{number:09d}{1 if kind == SAVINGS else 2}"

    def account_name(self, slot: int) -> str:
        if slot == self.population.customers[0].current:
            return HOT_ACCOUNT_NAME
        return demo.SAVINGS_NAME if self.population.account_kind[slot] == SAVINGS else demo.CURRENT_NAME

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
        # All the generated history settles through shard 0 (accounts/internal.py): a valid shard like any
        # other, and the bank's settlement position is the sum over the shards, so the books are the same.
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

        # The models' kinds and categories, encoded once: the loop below runs millions of times.
        k_transfer, k_deposit, k_withdrawal = frag(Kind.TRANSFER), frag(Kind.DEPOSIT), frag(Kind.WITHDRAWAL)
        k_upi, k_salary, k_interest, k_fee = (
            frag(Kind.UPI),
            frag(Kind.SALARY),
            frag(Kind.INTEREST),
            frag(Kind.FEE),
        )
        codes = ("groceries", "rent", "salary", "utilities", "transfers", "interest")
        cat = {c: frag(category_code(c)) for c in codes}
        cat_other, cat_emi = frag(category_code("other")), frag(category_code("emi"))
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
                    kind, desc, category = k_upi, desc_collect, cat_other
                elif r < 0.88:  # card takings settled by the acquirer
                    amount = (2_000 + int(38_000 * rand())) * 100 + int(rand() * 100)
                    src, dst = settlement, hot_current
                    kind, desc, cp, category = k_deposit, acquirers[int(rand() * 3)], pos_card, cat_other
                elif r < 0.96:  # stock from a supplier
                    amount = min((5_000 + int(75_000 * rand())) * 100, bal_hot // 2)
                    src, dst = hot_current, settlement
                    kind, desc = k_upi, desc_supplier
                    cp, category = suppliers[int(rand() * len(suppliers))], cat["groceries"]
                    initiator = hot_user
                elif r < 0.985:  # sweep to the owner's savings
                    amount = bal_hot * (2 + int(rand() * 3)) // 10 // 1_000_00 * 1_000_00
                    if amount <= 0:
                        amount = (20 + int(980 * rand())) * 100
                        src, dst = settlement, hot_current
                        kind, desc, cp, category = k_upi, desc_collect, people[0], cat_other
                    else:
                        src, dst = hot_current, hot_savings
                        kind, desc, cp, category = k_transfer, desc_sweep, empty, cat["transfers"]
                        initiator = hot_user
                elif r < 0.995:  # running the shop
                    which = int(rand() * 3)
                    src, dst, initiator = hot_current, settlement, hot_user
                    if which == 0:
                        amount = min(45_000_00, bal_hot // 2)
                        kind, desc, cp, category = k_upi, desc_shop_rent, owner_landlord, cat["rent"]
                    elif which == 1:
                        amount = min((2_000 + int(6_000 * rand())) * 100, bal_hot // 2)
                        kind, desc, cp, category = k_upi, desc_shop_power, bescom, cat["utilities"]
                    else:
                        amount = min((12_000 + int(8_000 * rand())) * 100, bal_hot // 2)
                        kind, desc, category = k_upi, desc_wages, cat_other
                        cp = people[int(rand() * n_people)]
                else:
                    amount = min(354_00, bal_hot)
                    src, dst = hot_current, fees
                    kind, desc, cp, category = k_fee, desc_pos_rental, bank_name, cat_other
                if amount <= 0:  # nothing left at all: a sale
                    amount = 100_00
                    src, dst, initiator = settlement, hot_current, null
                    kind, desc, cp, category = k_upi, desc_collect, people[1], cat_other
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
                    kind, desc = k_salary, frag(f"Salary for {month_label[day]}")
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
                        kind, desc, cp, category = k_transfer, desc_topup, empty, cat["transfers"]
                        initiator = user_frag[c]
                elif r < 0.20:
                    provider, desc, low, high = utilities[bills[c][int(rand() * 3)]]
                    amount = low + int(rand() * (high - low))
                    if amount <= bal[spend]:
                        src, dst = spend, settlement
                        kind, cp, category = k_upi, provider, cat["utilities"]
                        initiator = user_frag[c]
                    else:
                        amount = 0
                elif r < 0.23 and rent[c]:
                    amount = rent[c]
                    if amount <= bal[sav]:
                        day = (ts - base) // _DAY_US
                        src, dst = sav, settlement
                        kind, desc = k_upi, frag(f"Rent for {month_label[day]}")
                        cp, category = landlord[c], cat["rent"]
                        initiator = user_frag[c]
                    else:
                        amount = 0
                elif r < 0.26 and emi[c]:
                    amount = emi[c]
                    if amount <= bal[sav]:
                        src, dst = sav, settlement
                        kind, desc, cp, category = k_withdrawal, loan[c], lender[c], cat_emi
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
                        kind, category = k_deposit, cat["transfers"]
                    elif r < 0.65:
                        amount = (2_000 + int(18_000 * rand())) // 100 * 100_00
                        kind, desc, cp, category = k_deposit, desc_cash, empty, cat_other
                    else:
                        amount = (200 + int(4_800 * rand())) * 100
                        who = int(rand() * n_people)
                        kind, desc, cp, category = k_upi, from_people[who], people[who], cat["transfers"]

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
