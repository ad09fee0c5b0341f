"""Writes to the ledger. Every movement of money goes through `_post`, which keeps the ledger's rules:
accounts locked in primary-key order, entries that sum to zero, balances updated in the same database
transaction, an idempotency key that makes a repeated request return the first result, and an audit event
(`portal.audit`) written in the posting's transaction (a replay returns the first result and records nothing),
and the customers' alerts (transactions/alerts.py: an outbox row per customer leg, in the same transaction,
sent by the workers; none for history dated in the past by the loaders).

A posting is dated under its locks, never before the newest entry of a customer account it touches
(`_posting_time`): an account's history order (created, id) is the order of its postings, so the
`balance_after` of its entries is a running balance in the order the history pages show them.

PostgreSQL enforces the same rules again (migrations 0003, 0005, 0013): the checks here exist to give a
readable error.
"""

import datetime
from collections.abc import Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import internal
from accounts.models import Account, Payee
from accounts.notifications import notify
from portal.audit import audit_record
from portal.db import fetch_models
from portal.local_time import date_and_time_from
from portal.money import format_paise
from transactions import limits
from transactions.models import PostingAlert, Transaction, TransferLimits

if TYPE_CHECKING:
    from accounts.models import User

# An account named by primary key, by account number (the bank's internal accounts), or as an object.
AccountRef = Account | int | str

# The time of a posting is now. Only the loaders of history (portal/seeding/history.py: the demo, the tests'
# fixtures) set another, through this context variable: no service takes a time, so nothing a view calls can
# date a posting in the past or the future.
_history_time: ContextVar[datetime.datetime | None] = ContextVar("history_time", default=None)


class TransferError(Exception):
    """A movement of money that the ledger refuses. The message is fit to show the customer."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _ref_key(ref: AccountRef) -> int | str:
    return ref.pk if isinstance(ref, Account) else ref


def _lock_accounts(refs: Sequence[int | str]) -> dict[int | str, Account]:
    """Lock every touched account, in primary-key order so that two postings never deadlock. Every posting
    starts here: on PostgreSQL a fixed SELECT … FOR UPDATE (`portal.db.fetch_models`, no ORM compilation)."""
    ids = [r for r in refs if isinstance(r, int)]
    numbers = [r for r in refs if isinstance(r, str)]
    rows = fetch_models(Account, "id = ANY(%s) OR number = ANY(%s)", [ids, numbers], "id", lock=True)
    if rows is None:
        rows = list(
            Account.objects.select_for_update().filter(Q(pk__in=ids) | Q(number__in=numbers)).order_by("pk")
        )
    found: dict[int | str, Account] = {}
    for account in rows:
        found[account.pk] = account
        found[account.number] = account
    missing = [r for r in refs if r not in found]
    if missing:
        raise TransferError(_("That account does not exist."), code="no_such_account")
    return found


# A replay compares the settlement side as one leg: which shard carries an account's money depends on
# SETTLEMENT_SHARDS, which may have changed between a request and its retry (accounts/internal.py).
_SETTLEMENT_SIDE = "settlement"
Legs = dict[int | str, int]  # account id (or _SETTLEMENT_SIDE) → signed paise


def _settlement_side(legs: Sequence[tuple[int | str, str, int]]) -> Legs:
    """(account id, account number, amount) legs as a replay compares them: customer (and the bank's other)
    accounts by id, every settlement shard summed under _SETTLEMENT_SIDE."""
    found: Legs = {}
    for account_id, number, amount in legs:
        key = _SETTLEMENT_SIDE if internal.is_settlement_number(number) else account_id
        found[key] = found.get(key, 0) + amount
    return found


def _same_request(existing: Transaction, kind: str, legs: Legs, description: str) -> bool:
    """Whether `existing` is the posting this request asks for: its kind, description and legs, the customer
    legs exactly and the settlement side as one (any shard). One query: its entries with their numbers."""
    existing_legs = _settlement_side(existing.entries.values_list("account_id", "account__number", "amount"))
    return existing.kind == kind and existing.description == description and existing_legs == legs


def _find_existing(initiator: "User | None", key: str) -> Transaction | None:
    """The transaction an idempotency key made, if any. Every confirmation asks first (a replay lands on
    its receipt): on PostgreSQL a fixed SELECT (`portal.db.fetch_models`, no ORM compilation per call)."""
    if initiator is None:
        return Transaction.objects.filter(initiator__isnull=True, idempotency_key=key).first()
    found = fetch_models(Transaction, "initiator_id = %s AND idempotency_key = %s", [initiator.pk, key])
    if found is not None:
        return found[0] if found else None  # unique (initiator, key): one row at most
    return Transaction.objects.filter(initiator=initiator, idempotency_key=key).first()


def _replay(existing: Transaction | None, kind: str, legs: Legs, description: str) -> Transaction:
    """`existing` if it is the posting this request asks for (marked `replayed`: nothing new was made),
    else TransferError (idempotency_conflict)."""
    if existing is None or not _same_request(existing, kind, legs, description):
        raise TransferError(
            _("This request was already used for a different payment. Please start again."),
            code="idempotency_conflict",
        )
    existing.replayed = True
    return existing


def _legs_by_id(legs: Sequence[tuple[AccountRef, int]]) -> Legs:
    """Legs as a replay compares them (`_settlement_side`), before posting: a settlement shard named by
    number is the settlement side (no query), another of the bank's accounts named by number is looked up."""
    found: Legs = {}
    numbers = [
        ref for ref, _amount in legs if isinstance(ref, str) and not internal.is_settlement_number(ref)
    ]
    ids = dict(Account.objects.filter(number__in=numbers).values_list("number", "pk")) if numbers else {}
    for ref, amount in legs:
        key = _ref_key(ref)
        if isinstance(key, str) and internal.is_settlement_number(key):
            key = _SETTLEMENT_SIDE
        key = ids.get(key, key) if isinstance(key, str) else key
        found[key] = found.get(key, 0) + amount
    return found


def _locked_legs(locked: dict[int | str, Account], by_id: dict[int, int]) -> Legs:
    """The legs of a posting under its locks, as a replay compares them (no query)."""
    return _settlement_side([(pk, locked[pk].number, amount) for pk, amount in by_id.items()])


def _check_account_rules(
    account: Account, amount: int, *, owner: "User | None", owner_required: bool
) -> None:
    # Ownership first: the bank's internal accounts belong to no customer, so they must not skip it.
    if owner_required and (owner is None or account.owner_id != owner.pk):
        raise TransferError(_("That account is not one of yours."), code="not_owner")
    if account.is_internal:
        return
    if amount < 0:
        if account.status != Account.Status.ACTIVE:
            raise TransferError(
                _("Account %(account)s is %(status)s: no money can leave it.")
                % {"account": account.masked_number, "status": account.get_status_display().lower()},
                code="account_inactive",
            )
        if not account.allows_balance(account.balance + amount):
            raise TransferError(
                _("Not enough money in %(account)s for this amount.") % {"account": account.masked_number},
                code="insufficient_funds",
            )
    elif account.status == Account.Status.CLOSED:
        raise TransferError(
            _("Account %(account)s is closed.") % {"account": account.masked_number}, code="account_inactive"
        )


def _settlement_leg(account: AccountRef) -> AccountRef:
    """The settlement shard that carries `account`'s money in and out of the bank (accounts/internal.py):
    a pure function of the reference, no query. A settlement account named by number or as an object is
    its own leg, so that the posting is refused for naming one account twice."""
    number = account.number if isinstance(account, Account) else account
    if isinstance(number, str) and internal.is_settlement_number(number):
        return number
    return internal.settlement_for(_ref_key(account))


def _check_positive(amount_paise: int) -> None:
    """The public services take an amount and choose its direction: a negative one would reverse it."""
    if type(amount_paise) is not int or amount_paise <= 0:
        raise TransferError(_("Enter an amount greater than zero."), code="amount_invalid")


def _post(
    *,
    kind: str,
    legs: Sequence[tuple[AccountRef, int]],
    description: str,
    idempotency_key: str,
    initiator: "User | None" = None,
    counterparty: str = "",
    category: str | None = None,
    owner: "User | None" = None,
    debits_need_owner: bool = False,
    credits_need_owner: bool = False,
    payee: Payee | None = None,
    credit_counterparty: str = "",
    outward: bool = False,
    savepoint: bool = True,
) -> Transaction:
    """Post one balanced transaction. `legs` pairs an account with a signed amount in paise.
    `credit_counterparty`: who the credited customers see, if not `counterparty` (their entries keep it).
    `outward`: a payment to another bank, written with its OutwardPayment "sent".
    `savepoint=False`, for a caller that holds a transaction of its own (`payee_transfer_create`): no
    savepoint (two round trips saved), so a refusal raised here rolls back the caller's whole transaction,
    and a unique violation is raised to the caller to replay (its transaction is broken: no query here)."""
    if not idempotency_key:
        raise TransferError(_("This request has expired. Please start again."), code="no_idempotency_key")
    if len(legs) < 2:
        raise TransferError(_("A transaction needs at least two accounts."), code="too_few_legs")
    refs = [_ref_key(ref) for ref, _amount in legs]
    if len(set(refs)) != len(refs):
        raise TransferError(_("Choose two different accounts."), code="same_account")
    for _ref, amount in legs:
        if type(amount) is not int or amount == 0:
            raise TransferError(_("Enter an amount greater than zero."), code="amount_invalid")
    if sum(amount for _ref, amount in legs) != 0:
        raise TransferError(_("The entries of a transaction must balance."), code="unbalanced")
    history = _history_time.get()

    by_id: dict[int, int] = {}
    locked: dict[int | str, Account] = {}
    try:
        with transaction.atomic(savepoint=savepoint):
            locked = _lock_accounts(refs)
            by_id = {locked[ref].pk: amount for ref, (_r, amount) in zip(refs, legs, strict=True)}
            if len(by_id) != len(legs):
                # One account named twice (by number and by primary key): the legs would collapse.
                raise TransferError(_("Choose two different accounts."), code="same_account")
            try:
                for ref, (_r, amount) in zip(refs, legs, strict=True):
                    need_owner = debits_need_owner if amount < 0 else credits_need_owner
                    _check_account_rules(locked[ref], amount, owner=owner, owner_required=need_owner)
                created = _posting_time(locked, history)
            except TransferError:
                # A resubmit of a posting that went through returns it, even if the rules would now refuse.
                existing = _find_existing(initiator, idempotency_key)
                if existing is None:
                    raise
                return _replay(existing, kind, _locked_legs(locked, by_id), description)
            txn = Transaction(
                kind=str(kind),
                description=description,
                counterparty=counterparty,
                category_id=category,
                initiator=initiator,
                idempotency_key=idempotency_key,
                created=created,
                payee=payee,
            )
            # The customers' alerts are written with the money (transactions/alerts.py); none for history.
            written = _write(
                txn,
                locked=locked,
                by_id=by_id,
                alerts=history is None,
                credit_counterparty=credit_counterparty,
                outward=outward,
            )
            if not written:
                # The key was used before (or by a request that committed while we waited).
                existing = _find_existing(initiator, idempotency_key)
                return _replay(existing, kind, _locked_legs(locked, by_id), description)
            # In the posting's transaction: no money moves without its event, no event without the money.
            audit_record(
                action=f"money.{kind!s}",
                actor=initiator,
                obj=txn,
                after={
                    "amounts": {str(pk): amount for pk, amount in sorted(by_id.items())},
                    "kind": str(kind),
                    "description": description,
                },
            )
            return txn
    except IntegrityError:
        if not savepoint:  # the caller's transaction is broken: it replays, after its rollback
            raise
        # Two requests with one key raced: the unique constraint let one through.
        existing = _find_existing(initiator, idempotency_key)
        if existing is None:
            raise
        return _replay(existing, kind, _locked_legs(locked, by_id), description)


def _posting_time(locked: dict[int | str, Account], history: datetime.datetime | None) -> datetime.datetime:
    """The time of a posting, read under its locks: now, but never before the newest entry of a customer
    account it touches (`Account.posted_until`, read with the lock, so no posting can slip in between).
    Two postings on one account are therefore dated in the order they take its lock, which is the order of
    their entry ids and of `balance_after`: the account's history order (created, id) is its posting
    order, and the running balance shown beside each row of it is exact, whatever the clocks of two web
    hosts say or however long a posting waited for the lock (a time taken before the lock allowed both).
    No query: the locked rows carry the time.

    A loader's history (`history`, portal.seeding.history.posted_at) keeps its own time; it is refused
    (`history_out_of_order`) if a customer account it touches already has a later entry: loaders post in
    time order. The bank's internal accounts are left out of both rules: every customer's history goes
    through the settlement shards, loaded customer by customer, and a clock running ahead on one posting
    must not date every customer's posting through that shard after it. Their entries follow id order
    (their balance is their newest entry's by id) and no page shows them with a running balance.
    PostgreSQL refuses what breaks the rule (transactions migration 0013)."""
    customers = {a.pk: a for a in locked.values() if not a.is_internal}.values()
    newest = max((a.posted_until for a in customers if a.posted_until is not None), default=None)
    if history is None:
        now = timezone.now()
        return now if newest is None or newest <= now else newest
    later = [a for a in customers if a.posted_until is not None and a.posted_until > history]
    if later:
        raise TransferError(
            _("History for %(account)s cannot be dated %(when)s: it already has an entry dated %(newest)s.")
            % {
                "account": later[0].masked_number,
                "when": history.isoformat(),
                "newest": later[0].posted_until.isoformat(),
            },
            code="history_out_of_order",
        )
    return history


_INSERT_TRANSACTION = """
INSERT INTO transactions_transaction
       (kind, description, counterparty, category_id, initiator_id, idempotency_key, created, payee_id)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT DO NOTHING
RETURNING id
"""
# A payment to another bank: the transaction and its OutwardPayment "sent" in one statement (none if the key
# was used before: the CTE inserted no transaction).
_INSERT_OUTWARD = """
WITH txn AS (
    INSERT INTO transactions_transaction
           (kind, description, counterparty, category_id, initiator_id, idempotency_key, created, payee_id)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT DO NOTHING
    RETURNING id
), outward AS (
    INSERT INTO transactions_outwardpayment (transaction_id, status, updated_at)
    SELECT id, 'sent', %s FROM txn
)
SELECT id FROM txn
"""


_INSERT_ALERTS = (
    "INSERT INTO transactions_postingalert (transaction_id, account_id, kind, created, next_attempt_at) "
    "VALUES {values} ON CONFLICT DO NOTHING"
)
_INSERT_ENTRIES = (
    "INSERT INTO transactions_entry "
    "(transaction_id, account_id, amount, balance_after, created, counterparty) VALUES {values}"
)
_DEBIT, _CREDIT = PostingAlert.Kind.DEBIT.value, PostingAlert.Kind.CREDIT.value


def _write(
    txn: Transaction,
    *,
    locked: dict[int | str, Account],
    by_id: dict[int, int],
    alerts: bool,
    credit_counterparty: str = "",
    outward: bool = False,
) -> bool:
    """The lean write, three statements under the locks already held: the transaction (yielding to an
    earlier one with the same key: then False, nothing written), its entries in one INSERT, every touched
    balance, ledger version and `posted_until` (the time of the newest entry, never moved back) in one
    UPDATE; and with `alerts`, a fourth: the alerts of its customer legs in one INSERT (the outbox of
    transactions/alerts.py, due at once). With `outward`, the transaction's statement also writes its
    OutwardPayment "sent" (`_INSERT_OUTWARD`). Raw SQL because this is the hottest path of the portal: the
    ORM cost more than PostgreSQL. On success `txn` is saved (it has its id) and the locked accounts
    carry their new balances."""
    when = connection.ops.adapt_datetimefield_value(txn.created)
    legs = sorted(by_id.items())
    # SQLite (the embedded defaults) has no INSERT inside a WITH: there the OutwardPayment is a statement of
    # its own.
    together = outward and connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_OUTWARD if together else _INSERT_TRANSACTION,
            [
                txn.kind,
                txn.description,
                txn.counterparty,
                txn.category_id,
                txn.initiator_id,
                txn.idempotency_key,
                when,
                txn.payee_id,
                *([when] if together else []),
            ],
        )
        row = cursor.fetchone()
        if row is None:
            return False
        if outward and not together:
            cursor.execute(
                "INSERT INTO transactions_outwardpayment (transaction_id, status, updated_at) "
                "VALUES (%s, 'sent', %s)",
                [row[0], when],
            )
        txn.id = row[0]
        txn._state.adding, txn._state.db = False, connection.alias
        entry_params: list = []
        balance_params: list = []
        until_params: list = []
        alert_params: list = []
        for account_id, amount in legs:
            account = locked[account_id]
            account.balance += amount
            account.ledger_version += 1
            if account.posted_until is None or account.posted_until < txn.created:
                account.posted_until = txn.created  # never back (a loader's history on a bank account)
            # A customer's credit may name someone else than the transaction does (_post's docstring).
            theirs = credit_counterparty if amount > 0 and account.owner_id is not None else ""
            entry_params += [txn.id, account_id, amount, account.balance, when, theirs]
            balance_params += [account_id, account.balance]
            until_params += [account_id, connection.ops.adapt_datetimefield_value(account.posted_until)]
            if alerts and account.owner_id is not None:  # a customer's account, not the bank's
                alert_params += [txn.id, account_id, _DEBIT if amount < 0 else _CREDIT, when, when]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(legs))
        cursor.execute(
            _INSERT_ENTRIES.format(values=values),
            entry_params,
        )
        cases = " ".join(["WHEN %s THEN %s"] * len(legs))
        ids = ", ".join(["%s"] * len(legs))
        cursor.execute(
            f"UPDATE accounts_account SET balance = CASE id {cases} END, "  # noqa: S608 - placeholders only
            f"posted_until = CASE id {cases} END, "
            f"ledger_version = ledger_version + 1 WHERE id IN ({ids})",
            [*balance_params, *until_params, *(account_id for account_id, _amount in legs)],
        )
        if alert_params:
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * (len(alert_params) // 5))
            cursor.execute(_INSERT_ALERTS.format(values=values), alert_params)
    return True


def transfer_description(*, description: str, payee: Payee | None = None) -> str:
    """The description a transfer is posted with: the customer's note, else the bank's own words (the
    review shows it, so that it says what the receipt will). To a payee who banks with us, both customers
    read the description (each leg shows it), so the default names no one: not the payer's private name for
    the payee, nor the payee's registered name (which the payer was never shown). Each side's counterparty
    names the other party instead, as a bank's statement does: the payer sees their payee's name, the payee
    sees who paid (`_payer_name`). To another bank's payee only the payer reads it: "Transfer to <payee>"."""
    if description:
        return description
    if payee is not None and payee.is_internal:
        return _("Transfer within SecureBank")
    if payee is not None:
        return _("Transfer to %(name)s") % {"name": payee.name}
    return _("Transfer between own accounts")


def _transfer_description(description: str) -> str:
    return transfer_description(description=description)


def transfer_replay(
    *,
    initiator: "User",
    source: AccountRef,
    destination: AccountRef,
    amount_paise: int,
    description: str,
    idempotency_key: str,
) -> Transaction | None:
    """The transfer that `transfer_create` would return for a repeat of this request without posting: None
    if the key is unused, the first transfer if it asked for the same one, and the same TransferError
    (idempotency_conflict) if the key was used for a different payment. For a caller that must know before
    posting (a large transfer asks for a step-up only when it would move money)."""
    existing = _find_existing(initiator, idempotency_key)
    if existing is None:
        return None
    legs: Legs = {_ref_key(source): -amount_paise, _ref_key(destination): amount_paise}
    return _replay(existing, Transaction.Kind.TRANSFER, legs, _transfer_description(description))


def transfer_create(
    *,
    initiator: "User",
    source: AccountRef,
    destination: AccountRef,
    amount_paise: int,
    description: str,
    idempotency_key: str,
) -> Transaction:
    """Move money between two accounts of the initiator."""
    _check_positive(amount_paise)
    if amount_paise > settings.TRANSFER_MAX_PAISE:
        raise TransferError(_("That amount is above the limit for one transfer."), code="amount_over_limit")
    if _ref_key(source) == _ref_key(destination):
        raise TransferError(_("Choose two different accounts."), code="same_account")
    for ref in (source, destination):
        if isinstance(ref, str):
            raise TransferError(_("That account is not one of yours."), code="not_owner")
    return _post(
        kind=Transaction.Kind.TRANSFER,
        legs=[(source, -amount_paise), (destination, amount_paise)],
        description=_transfer_description(description),
        idempotency_key=idempotency_key,
        initiator=initiator,
        category="transfers",
        owner=initiator,
        debits_need_owner=True,
        credits_need_owner=True,
    )


def _payee_legs(source: AccountRef, payee: Payee, amount_paise: int) -> list[tuple[AccountRef, int]]:
    """A payee who banks with us is credited in our ledger; another bank's, through the settlement side."""
    destination: AccountRef = payee.account_id if payee.is_internal else _settlement_leg(source)
    return [(source, -amount_paise), (destination, amount_paise)]


def _payee_description(description: str, payee: Payee) -> str:
    return transfer_description(description=description, payee=payee)


def _payer_name(initiator: "User") -> str:
    """Who paid, as the credited SecureBank customer reads it: the payer's full name (as the bank holds it,
    like the remitter's name on an IMPS or NEFT credit), never empty so the payee's nickname cannot show."""
    return initiator.full_name.strip() or _("A SecureBank customer")


def payee_transfer_replay(
    *,
    initiator: "User",
    source: AccountRef,
    payee: Payee,
    amount_paise: int,
    description: str,
    idempotency_key: str,
) -> Transaction | None:
    """As `transfer_replay`, for a transfer to a payee: the first transfer if this request repeats it, None
    if the key is unused, TransferError (idempotency_conflict) if the key made another payment."""
    existing = _find_existing(initiator, idempotency_key)
    if existing is None:
        return None
    legs = _legs_by_id(_payee_legs(source, payee, amount_paise))
    kind = Transaction.Kind.PAYEE if payee.is_internal else Transaction.Kind.OUTWARD
    return _replay(existing, kind, legs, _payee_description(description, payee))


def payee_transfer_create(
    *,
    initiator: "User",
    source: AccountRef,
    payee: Payee,
    amount_paise: int,
    description: str,
    idempotency_key: str,
) -> Transaction:
    """Send money from one of the initiator's accounts to one of their payees: credited in our ledger when
    the payee banks with us (kind payee), else paid out through the settlement side (kind outward, with an
    OutwardPayment "sent"). The payee's cooling-off and the customer's limits are checked in the posting's
    database transaction, under the customer's limits lock (transactions/limits.py)."""
    _check_positive(amount_paise)
    if amount_paise > settings.TRANSFER_MAX_PAISE:
        raise TransferError(_("That amount is above the limit for one transfer."), code="amount_over_limit")
    if isinstance(source, str):
        raise TransferError(_("That account is not one of yours."), code="not_owner")
    if payee.owner_id != initiator.pk or payee.removed_at is not None:
        raise TransferError(_("That payee is not one of yours."), code="not_payee")
    kind = Transaction.Kind.PAYEE if payee.is_internal else Transaction.Kind.OUTWARD
    description = _payee_description(description, payee)
    legs = _payee_legs(source, payee, amount_paise)
    try:
        with transaction.atomic():
            now = timezone.now()
            held, used = limits.lock_and_use(
                user=initiator,
                payee=payee,
                idempotency_key=idempotency_key,
                amount_paise=amount_paise,
                now=now,
            )
            # Under the lock a request with this key that committed before is visible: a resubmit returns it
            # (below, once this transaction has undone the running total `use` added to).
            if used.existing_id is not None:
                transaction.set_rollback(True)
            else:
                if not used.payee_active:  # removed since the form was drawn
                    raise TransferError(_("That payee is not one of yours."), code="not_payee")
                try:
                    limits.check(
                        user=initiator,
                        limits=held,
                        payee=payee,
                        amount_paise=amount_paise,
                        now=now,
                        used=used,
                    )
                except limits.LimitError as error:
                    # A transfer with this key that committed while this one waited for the lock (which the
                    # one statement above may not see): its receipt, not a refusal.
                    if (existing := _find_existing(initiator, idempotency_key)) is not None:
                        replayed = _replay(existing, kind, _legs_by_id(legs), description)
                        transaction.set_rollback(True)  # the running total `lock_and_use` added
                        return replayed
                    raise TransferError(error.message, code=error.code) from error
                # In this transaction (no savepoint of its own: a refusal rolls back the running total too);
                # the OutwardPayment row in the posting's own statements.
                txn = _post(
                    kind=kind,
                    legs=legs,
                    description=description,
                    idempotency_key=idempotency_key,
                    initiator=initiator,
                    counterparty=payee.name,
                    category="transfers",
                    owner=initiator,
                    debits_need_owner=True,
                    payee=payee,
                    credit_counterparty=_payer_name(initiator) if payee.is_internal else "",
                    outward=kind == Transaction.Kind.OUTWARD,
                    savepoint=False,
                )
                if getattr(
                    txn, "replayed", False
                ):  # made by an earlier request with this key: undo the total
                    transaction.set_rollback(True)
                return txn
    except IntegrityError:
        # Two requests with one key raced past the lock (one of them not a payee transfer): as `_post` does.
        existing = _find_existing(initiator, idempotency_key)
        if existing is None:
            raise
        return _replay(existing, kind, _legs_by_id(legs), description)
    existing = Transaction.objects.get(pk=used.existing_id)
    return _replay(existing, kind, _legs_by_id(legs), description)


def deposit_create(
    *,
    account: AccountRef,
    amount_paise: int,
    description: str,
    idempotency_key: str,
    kind: str = Transaction.Kind.DEPOSIT,
    counterparty: str = "",
    category: str | None = None,
    initiator: "User | None" = None,
) -> Transaction:
    """Money from outside the bank (a cash deposit, a salary, an incoming NEFT) into an account, through
    the account's settlement shard."""
    _check_positive(amount_paise)
    return _post(
        kind=kind,
        legs=[(_settlement_leg(account), -amount_paise), (account, amount_paise)],
        description=description,
        idempotency_key=idempotency_key,
        initiator=initiator,
        counterparty=counterparty,
        category=category,
    )


def payment_create(
    *,
    account: AccountRef,
    amount_paise: int,
    description: str,
    idempotency_key: str,
    kind: str = Transaction.Kind.UPI,
    counterparty: str = "",
    category: str | None = None,
    initiator: "User | None" = None,
) -> Transaction:
    """Money leaving the bank from an account (a card or UPI payment, a withdrawal, an EMI), through the
    account's settlement shard."""
    _check_positive(amount_paise)
    return _post(
        kind=kind,
        legs=[(account, -amount_paise), (_settlement_leg(account), amount_paise)],
        description=description,
        idempotency_key=idempotency_key,
        initiator=initiator,
        counterparty=counterparty,
        category=category,
    )


def interest_credit(*, account: AccountRef, amount_paise: int, idempotency_key: str) -> Transaction:
    _check_positive(amount_paise)
    return _post(
        kind=Transaction.Kind.INTEREST,
        legs=[(internal.INTEREST, -amount_paise), (account, amount_paise)],
        description=_("Savings interest"),
        idempotency_key=idempotency_key,
        counterparty="SecureBank",
        category="interest",
    )


def fee_charge(
    *,
    account: AccountRef,
    amount_paise: int,
    description: str,
    idempotency_key: str,
) -> Transaction:
    _check_positive(amount_paise)
    return _post(
        kind=Transaction.Kind.FEE,
        legs=[(account, -amount_paise), (internal.FEES, amount_paise)],
        description=description,
        idempotency_key=idempotency_key,
        counterparty="SecureBank",
        category="other",
    )


_LIMIT_FIELDS = [
    "own_daily_paise",
    "own_per_transfer_paise",
    "pending_daily_paise",
    "pending_per_transfer_paise",
    "pending_from",
]


def _limits_state(row: TransferLimits) -> dict[str, object]:
    return {name: getattr(row, name) for name in _LIMIT_FIELDS}


def _limit_words(own: int | None, bank: int) -> str:
    """An own limit as the customer reads it: "₹50,000.00", or the bank's when they have none."""
    if own is None:
        return _("the bank's limit, %(limit)s") % {"limit": format_paise(bank)}
    return format_paise(own)


def transfer_limits_set(
    *,
    user: "User",
    daily_paise: int | None,
    per_transfer_paise: int | None,
    raise_confirmed: bool = False,
) -> TransferLimits:
    """Set the customer's own limits on money sent to others, lower than the bank's (None: none of their
    own, the bank's applies). A limit lowered (or kept) applies at once; one raised or removed applies
    `settings.TRANSFER_LIMIT_RAISE_DELAY` later, kept on the row as a pending pair that replaces any pending
    before it. A raise is refused (`needs_step_up`) unless `raise_confirmed`: the caller asked the customer
    to prove who they are for these values. Audited (`limit.change`, before and after) and emailed to the
    customer after commit; a request that changes nothing does neither. Returns the row."""
    for value in (daily_paise, per_transfer_paise):
        if value is not None and value <= 0:
            raise TransferError(_("Enter a limit greater than zero."), code="limit_not_positive")
    with transaction.atomic():
        row = limits.lock(user)
        now = timezone.now()
        current = limits.own_limits(row, now)
        waiting = limits.pending_raise(row, now)
        if waiting is not None and waiting[0] == limits.OwnLimits(daily_paise, per_transfer_paise):
            return row  # asked again for the raise already waiting: its time stays
        bank_daily, bank_per_transfer = limits.bank_daily_limit(row), limits.bank_per_transfer_limit(row)
        # A value kept as it was may stand above a bank limit that staff lowered since (the lower applies).
        if daily_paise is not None and daily_paise > bank_daily and daily_paise != current.daily_paise:
            raise TransferError(
                _("Your daily limit can be at most the bank's, %(limit)s.")
                % {"limit": format_paise(bank_daily)},
                code="above_bank_limit",
            )
        if (
            per_transfer_paise is not None
            and per_transfer_paise > bank_per_transfer
            and per_transfer_paise != current.per_transfer_paise
        ):
            raise TransferError(
                _("Your per-transfer limit can be at most the bank's, %(limit)s.")
                % {"limit": format_paise(bank_per_transfer)},
                code="above_bank_limit",
            )
        daily_raised = limits.is_raise(current.daily_paise, daily_paise)
        per_transfer_raised = limits.is_raise(current.per_transfer_paise, per_transfer_paise)
        if (daily_raised or per_transfer_raised) and not raise_confirmed:
            raise TransferError(
                _("Raising a limit needs you to confirm it is you. Please save it again."),
                code="needs_step_up",
            )
        before = _limits_state(row)
        row.own_daily_paise = current.daily_paise if daily_raised else daily_paise
        row.own_per_transfer_paise = current.per_transfer_paise if per_transfer_raised else per_transfer_paise
        if daily_raised or per_transfer_raised:
            row.pending_daily_paise, row.pending_per_transfer_paise = daily_paise, per_transfer_paise
            row.pending_from = now + datetime.timedelta(seconds=settings.TRANSFER_LIMIT_RAISE_DELAY)
        else:  # a change that raises nothing replaces a pending raise with nothing
            row.pending_daily_paise = row.pending_per_transfer_paise = row.pending_from = None
        after = _limits_state(row)
        if after == before:
            return row
        row.save(update_fields=_LIMIT_FIELDS)
        audit_record(action="limit.change", actor=user, obj=row, before=before, after=after)
        notify(
            user,
            "limits_changed",
            at=now,
            daily=_limit_words(row.own_daily_paise, bank_daily),
            per_transfer=_limit_words(row.own_per_transfer_paise, bank_per_transfer),
            pending=row.pending_from is not None,
            pending_daily=_limit_words(row.pending_daily_paise, bank_daily),
            pending_per_transfer=_limit_words(row.pending_per_transfer_paise, bank_per_transfer),
            pending_from=date_and_time_from(row.pending_from) if row.pending_from else "",
        )
        return row
