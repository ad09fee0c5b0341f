"""The limits on money a customer sends to others, checked inside the transfer's database transaction.

`lock(user)` takes the customer's `TransferLimits` row FOR UPDATE (making it on first use); a transfer to a
payee takes it with `lock_and_use`, the UPDATE that also adds the transfer to the day's running total.
Every transfer of that customer to a payee holds it until it commits, so what it reads under it (the day's
total on the row, what was sent to this payee today) includes every transfer that committed before, and
none can commit meanwhile. Two concurrent transfers that together exceed a limit therefore pass one at a
time: the second sees the first.

The rules, each refused with a TransferError fit to show the customer:
- a payee added less than `settings.PAYEE_COOLING_OFF` ago receives nothing;
- for `settings.PAYEE_NEW_PERIOD` after that, at most `settings.PAYEE_NEW_DAILY_PAISE` a day to it;
- at most the customer's per-transfer limit in one transfer, and their daily limit a day to all payees.
Each of the last two is the lower of the bank's limit (staff set it per customer, else
`settings.PER_TRANSFER_LIMIT_PAISE` / `settings.DAILY_TRANSFER_LIMIT_PAISE`) and the customer's own, if they
set one (`own_limits`: lowering applies at once, a raise `settings.TRANSFER_LIMIT_RAISE_DELAY` later). All
of them are read from the locked row, so a change of limits (`services.transfer_limits_set`, the admin)
and a transfer are one before the other, never interleaved.
A day is the calendar day in India (the portal's TIME_ZONE).
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Payee, User
from portal.db import fetch_models
from portal.local_time import date_and_time_from
from portal.money import format_paise
from transactions.models import Entry, Transaction, TransferLimits

TO_OTHERS = (Transaction.Kind.PAYEE, Transaction.Kind.OUTWARD)


class LimitError(Exception):
    """A transfer that a limit refuses. The message is fit to show the customer."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _locked_row(user: User) -> TransferLimits | None:
    found = fetch_models(TransferLimits, "user_id = %s", [user.pk], lock=True)
    if found is None:  # not PostgreSQL
        return TransferLimits.objects.select_for_update().filter(user=user).first()
    return found[0] if found else None


def lock(user: User) -> TransferLimits:
    """The customer's limits row, locked until the current transaction ends (made on first use). On the hot
    path of a payee transfer: through `portal.db.fetch_models`, without the ORM's query compilation."""
    found = _locked_row(user)
    if found is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO transactions_transferlimits (user_id) VALUES (%s) ON CONFLICT DO NOTHING",
                [user.pk],
            )
        found = _locked_row(user)
    assert found is not None  # noqa: S101 - inserted above, or by a concurrent first use
    return found


def day_start(now: datetime.datetime) -> datetime.datetime:
    """Midnight in India of the day `now` falls on."""
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def bank_daily_limit(limits: TransferLimits) -> int:
    """The bank's daily limit for this customer: what staff set, else the default."""
    return settings.DAILY_TRANSFER_LIMIT_PAISE if limits.daily_paise is None else limits.daily_paise


def bank_per_transfer_limit(limits: TransferLimits) -> int:
    """The bank's per-transfer limit for this customer: what staff set, else the default."""
    return (
        settings.PER_TRANSFER_LIMIT_PAISE if limits.per_transfer_paise is None else limits.per_transfer_paise
    )


@dataclass(frozen=True)
class OwnLimits:
    """The customer's own lower limits (None: none of their own, the bank's applies)."""

    daily_paise: int | None
    per_transfer_paise: int | None


def own_limits(limits: TransferLimits, now: datetime.datetime) -> OwnLimits:
    """The customer's own limits in force at `now`: the pending pair once its time has come."""
    if limits.pending_from is not None and now >= limits.pending_from:
        return OwnLimits(limits.pending_daily_paise, limits.pending_per_transfer_paise)
    return OwnLimits(limits.own_daily_paise, limits.own_per_transfer_paise)


def pending_raise(
    limits: TransferLimits, now: datetime.datetime
) -> tuple[OwnLimits, datetime.datetime] | None:
    """The customer's own limits still waiting to apply at `now`, and from when; None if none wait."""
    if limits.pending_from is None or now >= limits.pending_from:
        return None
    return OwnLimits(limits.pending_daily_paise, limits.pending_per_transfer_paise), limits.pending_from


def _lower(bank: int, own: int | None) -> int:
    return bank if own is None else min(bank, own)


def daily_limit(limits: TransferLimits, now: datetime.datetime) -> int:
    """The daily limit at `now`: the lower of the bank's and the customer's own."""
    return _lower(bank_daily_limit(limits), own_limits(limits, now).daily_paise)


def per_transfer_limit(limits: TransferLimits, now: datetime.datetime) -> int:
    """The per-transfer limit at `now`: the lower of the bank's and the customer's own."""
    return _lower(bank_per_transfer_limit(limits), own_limits(limits, now).per_transfer_paise)


def is_raise(current: int | None, new: int | None) -> bool:
    """Whether an own limit going from `current` to `new` lets more money out (None: no own limit)."""
    if new is None:
        return current is not None
    return current is not None and new > current


def sent_today(*, user: User, now: datetime.datetime, payee: Payee | None = None) -> int:
    """Paise the customer sent to others (to `payee` alone, if given) since midnight in India."""
    found = Entry.objects.filter(
        transaction__initiator=user,
        transaction__kind__in=TO_OTHERS,
        transaction__created__gte=day_start(now),
        amount__lt=0,
    )
    if payee is not None:
        found = found.filter(transaction__payee=payee)
    return -(found.aggregate(total=Sum("amount"))["total"] or 0)


@dataclass(frozen=True)
class Usage:
    """What a transfer to a payee needs to know under the customer's lock, read in one statement: the
    transaction already made with its idempotency key (a resubmit), whether the payee is still theirs (not
    removed since the form was drawn), and what they sent to others today before this transfer, in all and
    to this payee."""

    existing_id: int | None
    payee_active: bool
    sent_today: int
    sent_today_to_payee: int


_SENT = """
COALESCE((SELECT -SUM(e.amount) FROM transactions_entry e
            JOIN transactions_transaction t ON t.id = e.transaction_id
           WHERE t.initiator_id = %s AND t.kind IN ('payee', 'outward') AND t.created >= %s AND e.amount < 0
                 {payee}), 0)"""
# The running total and the reads in one statement: it adds the transfer to the day's total on the locked row
# and returns what the checks need. The sums run in the statement's snapshot, taken after the lock was held.
_USE = """
UPDATE transactions_transferlimits SET sent_on = %s, sent_paise = {before} + %s WHERE user_id = %s
RETURNING (SELECT id FROM transactions_transaction WHERE initiator_id = %s AND idempotency_key = %s),
          EXISTS (SELECT 1 FROM accounts_payee WHERE id = %s AND owner_id = %s AND removed_at IS NULL),
          sent_paise,
          {to_payee}
"""


def use(
    *,
    user: User,
    limits: TransferLimits,
    payee: Payee,
    idempotency_key: str,
    amount_paise: int,
    now: datetime.datetime,
) -> Usage:
    """One round trip (the hot path of a payee transfer): add `amount_paise` to the customer's running
    total of the day (`sent_on`, `sent_paise` on the locked row) and read what `check` needs. Run it after
    `lock`, as a statement of its own, so that it reads every transfer that committed while this one
    waited for the lock (in READ COMMITTED a statement sees what committed before it began, and the lock's
    own statement began before the wait). The total is written before it is checked: the caller refuses by
    raising inside the posting's transaction (or rolls it back, for a resubmit), which undoes it with
    everything else. Today's total before this transfer is the locked row's, summed from the ledger only
    on the customer's first transfer of a day; the sum to one payee only while it is capped (a new payee:
    a few transfers a day at most)."""
    since = connection.ops.adapt_datetimefield_value(day_start(now))
    today = timezone.localdate(now)
    kept = limits.sent_on == today
    capped = now < capped_until(payee)
    params: list = [today]
    before, to_payee = "sent_paise", "0"
    if not kept:
        before = _SENT.format(payee="")
        params += [user.pk, since]
    params += [amount_paise, user.pk, user.pk, idempotency_key, payee.pk, user.pk]
    if capped:
        to_payee = _SENT.format(payee="AND t.payee_id = %s")
        params += [user.pk, since, payee.pk]
    with connection.cursor() as cursor:
        cursor.execute(_USE.format(before=before, to_payee=to_payee), params)  # placeholders only
        existing, active, total, to_payee_sum = cursor.fetchone()
    return Usage(existing, bool(active), int(total) - amount_paise, int(to_payee_sum))


_LOCK_AND_USE = """
UPDATE transactions_transferlimits
   SET sent_paise = CASE WHEN sent_on = %s THEN sent_paise + %s ELSE sent_paise END
 WHERE user_id = %s
RETURNING {columns},
          sent_on IS NOT DISTINCT FROM %s,
          (SELECT id FROM transactions_transaction WHERE initiator_id = %s AND idempotency_key = %s),
          EXISTS (SELECT 1 FROM accounts_payee WHERE id = %s AND owner_id = %s AND removed_at IS NULL)
"""
_FIRST_OF_DAY = f"""
UPDATE transactions_transferlimits SET sent_on = %s, sent_paise = {_SENT.format(payee="")} + %s
 WHERE user_id = %s RETURNING sent_on, sent_paise
"""  # noqa: S608 - fixed text, placeholders only
_SENT_TO_PAYEE = f"SELECT {_SENT.format(payee='AND t.payee_id = %s')}"


def lock_and_use(
    *, user: User, payee: Payee, idempotency_key: str, amount_paise: int, now: datetime.datetime
) -> tuple[TransferLimits, Usage]:
    """`lock` and `use` in one statement where it is safe, on PostgreSQL (the hot path of a payee transfer):
    an UPDATE of the customer's limits row takes its lock itself, adds the transfer to the day's running
    total and returns the row with what `check` needs.

    Why one statement is enough: in READ COMMITTED an UPDATE that waited for the row's lock works on the
    row as the transfer that held it left it (PostgreSQL re-reads the newest version), so the running total
    is exact. If that row holds another day's total (the customer's first transfer to others today), a
    second statement, run under the lock with a fresh view of the ledger, sums the day. The subqueries
    see only what had committed when the statement began, so they may miss what committed during the wait: a
    transaction made with this key (the posting's INSERT then meets the key's unique constraint, and the
    caller returns that transaction and rolls this one back, running total included) and a payee removed
    meanwhile (as with a removal a moment after the check). The sum sent to one payee today, which caps a
    new payee, must see every transfer to it that committed before: it is read by a second statement,
    after the lock, and only while the payee is capped (a new payee: a few transfers a day at most).
    Elsewhere (SQLite: the embedded defaults) `lock` then `use`."""
    if connection.vendor != "postgresql":
        held = lock(user)
        used = use(
            user=user,
            limits=held,
            payee=payee,
            idempotency_key=idempotency_key,
            amount_paise=amount_paise,
            now=now,
        )
        return held, used
    since = connection.ops.adapt_datetimefield_value(day_start(now))
    today = timezone.localdate(now)
    fields = TransferLimits._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = _LOCK_AND_USE.format(columns=columns)
    params = [today, amount_paise, user.pk, today, user.pk, idempotency_key, payee.pk, user.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)  # placeholders only
        row = cursor.fetchone()
        if row is None:  # the customer's first transfer to others: their row is made, then updated
            cursor.execute(
                "INSERT INTO transactions_transferlimits (user_id) VALUES (%s) ON CONFLICT DO NOTHING",
                [user.pk],
            )
            cursor.execute(sql, params)
            row = cursor.fetchone()
        held = TransferLimits.from_db(connection.alias, [f.attname for f in fields], row[: len(fields)])
        kept, existing, active = row[len(fields) :]
        if not kept:  # the first transfer of the day (the row holds another day's total): the day summed once
            cursor.execute(_FIRST_OF_DAY, [today, user.pk, since, amount_paise, user.pk])
            held.sent_on, held.sent_paise = cursor.fetchone()
        to_payee = 0
        if now < capped_until(payee):
            cursor.execute(_SENT_TO_PAYEE, [user.pk, since, payee.pk])
            to_payee = int(cursor.fetchone()[0])
    return held, Usage(existing, bool(active), held.sent_paise - amount_paise, to_payee)


def _set_by_you() -> str:
    """Said after a refusal by a limit the customer set lower than the bank's."""
    return _("You set this limit yourself: you can change it on your Security page, under Limits.")


def cooling_off_until(payee: Payee) -> datetime.datetime:
    """Until when nothing can be sent to the payee."""
    return payee.created_at + datetime.timedelta(seconds=settings.PAYEE_COOLING_OFF)


def capped_until(payee: Payee) -> datetime.datetime:
    """Until when the new-payee cap applies."""
    return cooling_off_until(payee) + datetime.timedelta(seconds=settings.PAYEE_NEW_PERIOD)


def check(
    *,
    user: User,
    limits: TransferLimits,
    payee: Payee,
    amount_paise: int,
    now: datetime.datetime,
    used: Usage | None = None,
) -> None:
    """Raise LimitError if sending `amount_paise` to `payee` now breaks a rule. Call under `lock`; `used`,
    read by `use` under it, saves the sums' queries."""
    if now < cooling_off_until(payee):
        raise LimitError(
            _("%(name)s was added recently: you can send money to them from %(when)s.")
            % {"name": payee.name, "when": date_and_time_from(cooling_off_until(payee))},
            code="payee_cooling_off",
        )
    most = per_transfer_limit(limits, now)
    if amount_paise > most:
        message = _("You can send at most %(limit)s to others in one transfer.") % {
            "limit": format_paise(most)
        }
        if most != bank_per_transfer_limit(limits):
            message += " " + _set_by_you()
        raise LimitError(message, code="per_transfer_limit")
    if now < capped_until(payee):
        cap = settings.PAYEE_NEW_DAILY_PAISE
        sent = used.sent_today_to_payee if used else sent_today(user=user, now=now, payee=payee)
        left = cap - sent
        if amount_paise > left:
            raise LimitError(
                _(
                    "Until %(until)s you can send at most %(cap)s a day to %(name)s, a new payee; "
                    "%(left)s is left today."
                )
                % {
                    "until": date_and_time_from(capped_until(payee)),
                    "cap": format_paise(cap),
                    "name": payee.name,
                    "left": format_paise(max(left, 0)),
                },
                code="payee_new_cap",
            )
    limit = daily_limit(limits, now)
    left = limit - (used.sent_today if used else sent_today(user=user, now=now))
    if amount_paise > left:
        message = _("Your daily limit for sending money to others is %(limit)s; %(left)s is left today.") % {
            "limit": format_paise(limit),
            "left": format_paise(max(left, 0)),
        }
        if limit != bank_daily_limit(limits):
            message += " " + _set_by_you()
        raise LimitError(message, code="daily_limit")


def precheck(*, user: User, payee: Payee, amount_paise: int) -> None:
    """`check` as things stand, without the lock: for the review and before a step-up, so that a transfer
    a limit would refuse is told so before the customer confirms it. The posting checks again under `lock`."""
    limits = TransferLimits.objects.filter(user=user).first() or TransferLimits(user=user)
    check(user=user, limits=limits, payee=payee, amount_paise=amount_paise, now=timezone.now())
