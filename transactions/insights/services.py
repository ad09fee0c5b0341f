"""A customer's categories: recategorising an entry, their rules, and applying the rules to the past.

None of it touches the ledger: categories live in `EntryCategory` (models.py says why). Each write that
changes a summed day takes the account's `RollupState` lock, recomputes the days it touched and moves the
state's `version`, so that the insights cache (keyed on it) is not read again.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, User
from portal.audit import audit_record
from portal.celery import app as celery_app
from transactions.insights import rollup
from transactions.insights.models import Budget, CategoryRule, EntryCategory, RollupState, RuleBackfill
from transactions.models import Category, Entry

RULES_MAX = 50
BACKFILL_BATCH = 20_000
BACKFILL_TASK = "transactions.insights.tasks.rule_backfill_run_task"


class CategoryError(Exception):
    """A categorisation the customer asked for cannot be made; the message can be shown as is."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _category(slug: str) -> Category:
    found = Category.objects.filter(slug=slug).first()
    if found is None:
        raise CategoryError(_("Choose one of the categories."), code="category_unknown")
    return found


def _bump(state: RollupState) -> None:
    RollupState.objects.filter(pk=state.pk).update(version=F("version") + 1, updated_at=timezone.now())


def _check_budgets(user_id: int) -> None:
    """A category moved money between budgets: check the customer's (after the commit), as a catch-up that
    summed new spending does."""
    if Budget.objects.filter(owner_id=user_id).exists():
        rollup.queue_alerts_check(user_id)


def entry_recategorise(*, user: User, entry_id: int, category: str | None) -> Entry:
    """Give one of the user's entries a category of their own (`None`: drop it; the entry then has what
    their rules, the bank, or the bank's default rules say, as if never chosen). Another customer's entry is
    `Entry.DoesNotExist`."""
    chosen = _category(category) if category else None
    with transaction.atomic():
        entry = Entry.objects.select_related("transaction").get(pk=entry_id, account__owner=user)
        state = rollup._state_for_update(entry.account_id)
        current = EntryCategory.objects.select_for_update().filter(entry=entry).first()
        before = current.category_id if current else entry.transaction.category_id
        summed = entry.pk <= state.last_entry_id  # else the next catch-up sums it, its rules applied
        if chosen is None:
            if current is not None:
                current.delete()
            if summed:  # what the rules say now (a default rule's category, not "other"): manual > rule
                rollup.apply_rules(entry.account_id, id_after=entry.pk - 1, id_to=entry.pk, replace=False)
        elif current is None:
            EntryCategory.objects.create(
                entry=entry, account_id=entry.account_id, category=chosen, source=EntryCategory.Source.MANUAL
            )
        else:
            current.category = chosen
            current.source = EntryCategory.Source.MANUAL
            current.rule = None
            current.updated_at = timezone.now()
            current.save(update_fields=["category", "source", "rule", "updated_at"])
        if summed:
            rollup.recompute_days(entry.account_id, [rollup.local_day(entry.created)])
        _bump(state)
        _check_budgets(user.pk)
        audit_record(
            action="category.change",
            actor=user,
            obj=entry,
            before={"category": before},
            after={"category": chosen.slug if chosen else _seen(entry)},
        )
    return entry


def _seen(entry: Entry) -> str:
    found = EntryCategory.objects.filter(entry=entry).values_list("category_id", flat=True).first()
    return found or entry.transaction.category_id or rollup.OTHER


def rule_create(*, user: User, field: str, contains: str, direction: str, category: str) -> CategoryRule:
    """A new rule of the user's, tried after their others. It applies to entries that arrive from now on;
    `rule_backfill_request` applies the rules to past ones."""
    chosen = _category(category)
    contains = contains.strip()
    if not contains:
        raise CategoryError(_("Enter the text to look for."), code="contains_empty")
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).values_list("pk").get()  # one rule at a time
        rules = CategoryRule.objects.filter(owner=user)
        if rules.count() >= RULES_MAX:
            raise CategoryError(
                _("You have %(n)d rules, the most one customer can have. Remove one first.")
                % {"n": RULES_MAX},
                code="rules_max",
            )
        if rules.filter(field=field, contains__iexact=contains, direction=direction).exists():
            # (the later one would never match first: a second rule for the same text is a mistake)
            raise CategoryError(
                _(
                    "You already have a rule for this text. Remove it first to give the text another "
                    "category."
                ),
                code="rule_duplicate",
            )
        position = (rules.aggregate(m=Max("position"))["m"] or 0) + 1
        rule = CategoryRule.objects.create(
            owner=user,
            field=field,
            contains=contains,
            direction=direction,
            category=chosen,
            position=position,
        )
        audit_record(action="category.rule.add", actor=user, obj=rule, after=_rule_state(rule))
    return rule


def _rule_state(rule: CategoryRule) -> dict:
    return {
        "field": rule.field,
        "contains": rule.contains,
        "direction": rule.direction,
        "category": rule.category_id,
    }


def rule_delete(*, user: User, rule_id: int) -> None:
    """Remove one of the user's rules. Entries it categorised keep their category until the rules are
    applied to the past again. Another customer's rule is `CategoryRule.DoesNotExist`."""
    with transaction.atomic():
        rule = CategoryRule.objects.select_for_update().get(pk=rule_id, owner=user)
        before = _rule_state(rule)
        rule.delete()
        audit_record(
            action="category.rule.remove",
            actor=user,
            object_type="insights.categoryrule",
            object_id=str(rule_id),
            before=before,
        )


def rule_backfill_request(*, user: User) -> RuleBackfill:
    """Apply the user's rules to all their past entries, in the background. One at a time: while one is
    queued or running, asking again returns it."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).values_list("pk").get()
        running = RuleBackfill.objects.filter(
            owner=user, status__in=[RuleBackfill.Status.QUEUED, RuleBackfill.Status.RUNNING]
        ).first()
        if running is not None:
            return running
        backfill = RuleBackfill.objects.create(owner=user)
        audit_record(action="category.rules.apply", actor=user, obj=backfill)
        transaction.on_commit(lambda: celery_app.signature(BACKFILL_TASK, args=(backfill.pk,)).delay())
    return backfill


# pg_try_advisory_lock(BACKFILL_LOCK, backfill id) of the worker that runs a backfill: a constant that no
# other code in the database uses (portal/audit/chain.py's is a single bigint key: another key space).
BACKFILL_LOCK = 0x1414_0001


@contextmanager
def _run_alone(backfill_id: int) -> Iterator[bool]:
    """Whether this worker is the one that runs the backfill: it holds a PostgreSQL session lock on it for
    the whole run (its transactions come and go), released at the end or when its connection dies (a lost
    worker: the redelivered task then takes it over). A second delivery while it runs gets False at once."""
    if connection.vendor != "postgresql":  # the embedded defaults: one process
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [BACKFILL_LOCK, backfill_id])
        alone = cursor.fetchone()[0]
    try:
        yield alone
    finally:
        if alone:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [BACKFILL_LOCK, backfill_id])


def rule_backfill_run(backfill_id: int) -> RuleBackfill:
    """The backfill's work (its Celery task): each account of the owner in batches of entry ids up to the
    account's summed watermark (entries above it get the rules at their catch-up), each batch in its own
    transaction under the account's lock, progress written as it goes. Safe to run twice: a finished
    backfill is left alone, and applying the same rules again changes nothing; twice at once, the second
    leaves it to the first (`_run_alone`: else the two restart each other's progress, and deadlock, the first
    holding an account's lock while it writes progress on the backfill's row that the second holds while it
    catches that account up)."""
    with _run_alone(backfill_id) as alone:
        if not alone:
            return RuleBackfill.objects.get(pk=backfill_id)
        return _rule_backfill_run(backfill_id)


def _rule_backfill_run(backfill_id: int) -> RuleBackfill:
    with transaction.atomic():
        backfill = RuleBackfill.objects.select_for_update().get(pk=backfill_id)
        if backfill.status in (RuleBackfill.Status.DONE, RuleBackfill.Status.FAILED):
            return backfill
        accounts = list(
            Account.objects.filter(owner_id=backfill.owner_id).order_by("pk").values_list("pk", flat=True)
        )
        for account_id in accounts:
            rollup.catch_up(account_id)
        total = Entry.objects.filter(account_id__in=accounts).count()
        RuleBackfill.objects.filter(pk=backfill.pk).update(
            status=RuleBackfill.Status.RUNNING, total=total, done=0, changed=0
        )
    done = changed = 0
    for account_id in accounts:
        low = 0
        while True:
            with transaction.atomic():
                state = rollup._state_for_update(account_id)
                ids = list(
                    Entry.objects.filter(account_id=account_id, id__gt=low, id__lte=state.last_entry_id)
                    .order_by("id")
                    .values_list("id", flat=True)[:BACKFILL_BATCH]
                )
                if not ids:
                    break
                count, days = rollup.apply_rules(account_id, id_after=low, id_to=ids[-1], replace=True)
                rollup.recompute_days(account_id, days)
                if count:
                    _bump(state)
                    _check_budgets(backfill.owner_id)
                low = ids[-1]
                done += len(ids)
                changed += count
                RuleBackfill.objects.filter(pk=backfill.pk).update(done=done, changed=changed)
    RuleBackfill.objects.filter(pk=backfill.pk).update(
        status=RuleBackfill.Status.DONE, done=done, changed=changed, finished_at=timezone.now()
    )
    backfill.refresh_from_db()
    return backfill
