"""A customer's categories: recategorising one of their entries on the history detail (the ledger's
transaction keeps the bank's category), their rules (applied to new entries at the catch-up and, on
request, to past ones), and the history's filter and export by the category the customer sees. Another
customer's entries, rules and requests are never theirs."""

import csv
import datetime
import io
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Account
from portal.seeding.history import posted_at
from tests.factories import AccountFactory
from transactions import services
from transactions.history.filters import HistoryFilter
from transactions.history.selectors import history_entries
from transactions.insights import rollup
from transactions.insights.models import CategoryRule, EntryCategory, RuleBackfill
from transactions.insights.periods import THIS_MONTH, preset
from transactions.insights.selectors import insights, insights_accounts
from transactions.insights.services import (
    entry_recategorise,
    rule_backfill_request,
    rule_backfill_run,
    rule_create,
    rule_delete,
)
from transactions.models import Entry, Transaction

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=IST)
RULES = reverse("insights_rules")
APPLY = reverse("insights_rules_apply")


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def pay(account, when, paise, counterparty, category=None, description="Purchase") -> Transaction:
    with posted_at(when):
        return services.payment_create(
            account=account,
            amount_paise=paise,
            description=description,
            counterparty=counterparty,
            category=category,
            idempotency_key=str(uuid.uuid4()),
        )


def receive(account, when, paise) -> Transaction:
    with posted_at(when):
        return services.deposit_create(
            account=account,
            amount_paise=paise,
            description="Salary",
            counterparty="Employer",
            category="salary",
            idempotency_key=str(uuid.uuid4()),
        )


def day(n: int, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(2026, 11, n, hour, 0, tzinfo=IST)


def entry_of(txn: Transaction) -> Entry:
    return Entry.objects.get(transaction=txn, account__owner__isnull=False)


def seen(entry: Entry) -> str:
    """The category the customer sees on `entry`, as the history reads it."""
    return history_entries(account=entry.account, filter=HistoryFilter()).get(pk=entry.pk).txn_category


def annotation(entry: Entry) -> tuple[str, str] | None:
    found = EntryCategory.objects.filter(entry=entry).values_list("category_id", "source").first()
    return tuple(found) if found else None


@pytest.fixture
def current(alice) -> Account:
    account = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    receive(account, day(1, 9), 50_000_00)
    return account


@pytest.fixture
def amazon(current) -> Transaction:
    return pay(current, day(3), 400_00, "Amazon", "shopping", "Amazon.in order")


def category_url(txn: Transaction, account: Account) -> str:
    return reverse("history_category", args=[account.pk, txn.pk])


def detail_url(txn: Transaction, account: Account) -> str:
    return reverse("history_detail", args=[account.pk, txn.pk])


# --- recategorising an entry (the history detail) -----------------------------------------------------------


def test_it_recategorises_an_entry_and_leaves_the_ledger_alone(client, alice, current, amazon):
    client.force_login(alice)
    response = client.post(category_url(amazon, current), {"category": "health"})
    assert response.status_code == 303
    assert response["Location"] == detail_url(amazon, current)
    page = client.get(response["Location"]).content.decode()
    assert "Category changed to Health." in page
    assert "you chose it" in page
    assert annotation(entry_of(amazon)) == ("health", EntryCategory.Source.MANUAL)
    assert seen(entry_of(amazon)) == "health"
    amazon.refresh_from_db()
    assert amazon.category_id == "shopping"  # the bank's, which the other party (Amazon's bank) shares


def test_it_swaps_the_category_in_place_with_htmx(client, alice, current, amazon):
    client.force_login(alice)
    response = client.post(category_url(amazon, current), {"category": "health"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div class="entry-category" id="entry-category" data-own-focus')
    assert "<html" not in body
    assert "Category changed to Health." in body
    assert 'value="health" selected' in body


def test_the_banks_category_drops_the_customers_own(client, alice, current, amazon):
    entry_recategorise(user=alice, entry_id=entry_of(amazon).pk, category="health")
    client.force_login(alice)
    response = client.post(category_url(amazon, current), {"category": "bank"})
    assert response.status_code == 303
    assert annotation(entry_of(amazon)) is None
    assert seen(entry_of(amazon)) == "shopping"
    assert "from SecureBank" in client.get(detail_url(amazon, current)).content.decode()


def test_dropping_a_chosen_category_gives_back_what_the_rules_say_not_other(alice, current):
    """manual > rule > bank > default rule > other: a card payment the bank's default rule made Dining, and
    one the customer's rule made Travel, come back to Dining and Travel (not Other) when the customer drops
    the category they chose, in the history and in the sums at once."""
    swiggy = pay(current, day(10), 300_00, "Swiggy")  # no category from the bank: a default rule's
    rule_create(user=alice, field="counterparty", contains="Uber", direction="out", category="travel")
    uber = pay(current, day(10, 11), 200_00, "Uber India", "shopping")
    rollup.catch_up(current.pk)
    assert (seen(entry_of(swiggy)), seen(entry_of(uber))) == ("dining", "travel")
    for txn in (swiggy, uber):
        entry_recategorise(user=alice, entry_id=entry_of(txn).pk, category="health")
        entry_recategorise(user=alice, entry_id=entry_of(txn).pk, category=None)
    assert annotation(entry_of(swiggy)) == ("dining", EntryCategory.Source.DEFAULT)
    assert annotation(entry_of(uber)) == ("travel", EntryCategory.Source.RULE)
    assert (seen(entry_of(swiggy)), seen(entry_of(uber))) == ("dining", "travel")
    found = insights(accounts=insights_accounts(user=alice), period=preset(THIS_MONTH))
    assert {c.slug: c.spent for c in found.categories if c.spent} == {"dining": 300_00, "travel": 200_00}


@pytest.mark.parametrize("data", [{"category": "no-such"}, {"category": ""}, {}, {"category": "x" * 5000}])
def test_a_category_that_does_not_read_is_a_form_error_and_changes_nothing(
    client, alice, current, amazon, data
):
    client.force_login(alice)
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.post(category_url(amazon, current), data, **headers)
        assert response.status_code == 200
        body = response.content.decode()
        assert 'aria-invalid="true"' in body
        assert "Choose" in body
    assert not EntryCategory.objects.exists()
    assert seen(entry_of(amazon)) == "shopping"


def test_another_customers_entry_is_a_404_and_changes_nothing(client, alice, bob, current):
    bobs = AccountFactory(owner=bob, name="Bob's")
    receive(bobs, day(1, 9), 10_000_00)
    theirs = pay(bobs, day(3), 300_00, "Amazon", "shopping")
    client.force_login(alice)
    for url in (category_url(theirs, bobs), category_url(theirs, current)):  # their account; mine, their txn
        assert client.post(url, {"category": "health"}).status_code == 404
        assert client.get(url).status_code == 404
    assert not EntryCategory.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, current, amazon):
    response = client.post(category_url(amazon, current), {"category": "health"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not EntryCategory.objects.exists()


def test_the_form_has_a_page_of_its_own_without_javascript(client, alice, current, amazon):
    client.force_login(alice)
    body = client.get(category_url(amazon, current)).content.decode()
    assert "Change the category" in body
    assert 'value="bank" selected' in body  # nothing of the customer's yet: the bank's
    assert f'action="{category_url(amazon, current)}"' in body


def test_the_detail_says_where_the_category_came_from(client, alice, current):
    swiggy = pay(current, day(4), 250_00, "Swiggy")  # no category from the bank
    rule_create(user=alice, field="counterparty", contains="swiggy", direction="out", category="health")
    rollup.catch_up(current.pk)
    client.force_login(alice)
    body = client.get(detail_url(swiggy, current)).content.decode()
    assert "your rule: counterparty contains “swiggy”" in body
    assert "<strong>Health</strong>" in body


def test_the_detail_costs_the_same_queries_with_a_category_of_the_customers(
    client, alice, current, amazon, django_assert_max_num_queries
):
    rule = rule_create(
        user=alice, field="counterparty", contains="Amazon", direction="any", category="health"
    )
    rollup.catch_up(current.pk)
    assert EntryCategory.objects.get(entry=entry_of(amazon)).rule == rule
    client.force_login(alice)
    with django_assert_max_num_queries(4):  # user, account, transaction, its own entries (with categories)
        assert client.get(detail_url(amazon, current)).status_code == 200


# --- the history by the customer's category -----------------------------------------------------------------


def test_the_history_filters_and_exports_by_the_customers_category(client, alice, current, amazon):
    other = pay(current, day(5), 100_00, "Amazon", "shopping", "Another order")
    plain = pay(current, day(6), 50_00, "Corner shop")  # no category at all: "other"
    entry_recategorise(user=alice, entry_id=entry_of(amazon).pk, category="health")
    client.force_login(alice)
    history = reverse("history", args=[current.pk])

    def shown(**params: str) -> set[int]:
        rows = client.get(history, params).context["rows"]
        return {row.transaction_id for row in rows}

    assert shown(category="health") == {amazon.pk}
    assert shown(category="shopping") == {other.pk}
    assert shown(q="category:other") == {plain.pk}
    assert amazon.pk not in shown(q="-category:health")
    assert other.pk in shown(q="-category:health")
    page = client.get(history, {"category": "health"}).content.decode()
    assert "Categories and rules" in page  # the link to the rules page
    export = client.get(reverse("history_export_csv", args=[current.pk]), {"category": "health"})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert [row[4] for row in rows[1:]] == ["Health"]


# --- rules: new entries at the catch-up, past ones by a backfill ------------------------------------------


def test_a_new_entry_matching_a_rule_gets_its_category_at_catch_up(alice, current):
    rule = rule_create(
        user=alice, field="counterparty", contains="chaayos", direction="out", category="dining"
    )
    txn = pay(current, day(10), 120_00, "Chaayos Indiranagar", "shopping")  # the bank said shopping
    refund = receive(current, day(10, 11), 120_00)  # money in: the rule is for money out
    assert seen(entry_of(txn)) == "shopping"  # not yet: the sums have not caught up
    rollup.catch_up(current.pk)
    assert annotation(entry_of(txn)) == ("dining", EntryCategory.Source.RULE)
    assert EntryCategory.objects.get(entry=entry_of(txn)).rule == rule
    assert annotation(entry_of(refund)) is None
    found = insights(accounts=insights_accounts(user=alice), period=preset(THIS_MONTH))
    assert {c.slug: c.spent for c in found.categories if c.spent} == {"dining": 120_00}


def test_the_banks_default_rules_categorise_only_what_the_bank_left_uncategorised(alice, current):
    swiggy = pay(current, day(10), 300_00, "Swiggy")
    labelled = pay(current, day(10, 11), 300_00, "Swiggy", "groceries")
    rollup.catch_up(current.pk)
    assert annotation(entry_of(swiggy)) == ("dining", EntryCategory.Source.DEFAULT)
    assert annotation(entry_of(labelled)) is None
    assert seen(entry_of(labelled)) == "groceries"


def test_a_manual_category_is_never_overwritten_by_a_rule_or_a_backfill(alice, current):
    txn = pay(current, day(10), 300_00, "Swiggy")
    entry_recategorise(user=alice, entry_id=entry_of(txn).pk, category="health")  # before the catch-up
    rule_create(user=alice, field="counterparty", contains="Swiggy", direction="any", category="travel")
    rollup.catch_up(current.pk)
    assert annotation(entry_of(txn)) == ("health", EntryCategory.Source.MANUAL)
    backfill = rule_backfill_run(rule_backfill_request(user=alice).pk)
    assert backfill.status == RuleBackfill.Status.DONE
    assert annotation(entry_of(txn)) == ("health", EntryCategory.Source.MANUAL)


def test_a_backfill_recategorises_past_entries_and_drops_rules_no_longer_matching(alice, current):
    swiggy = [pay(current, day(n), 200_00, "Swiggy") for n in (5, 6, 7)]
    uber = pay(current, day(8), 150_00, "Uber India", "travel")
    rollup.catch_up(current.pk)
    assert {seen(entry_of(t)) for t in swiggy} == {"dining"}  # the bank's default rule
    rule = rule_create(
        user=alice, field="counterparty", contains="Swiggy", direction="out", category="health"
    )
    work = rule_create(
        user=alice, field="description", contains="purchase", direction="out", category="other"
    )
    assert seen(entry_of(swiggy[0])) == "dining"  # a new rule waits for new entries, or a backfill
    backfill = rule_backfill_run(rule_backfill_request(user=alice).pk)
    assert (backfill.status, backfill.percent, backfill.done) == ("done", 100, backfill.total)
    assert backfill.changed == 4  # three Swiggy payments, and Uber by the "purchase" rule
    assert {seen(entry_of(t)) for t in swiggy} == {"health"}
    assert seen(entry_of(uber)) == "other"
    found = insights(accounts=insights_accounts(user=alice), period=preset(THIS_MONTH))
    assert {c.slug: c.spent for c in found.categories if c.spent} == {"health": 600_00, "other": 150_00}

    rule_delete(user=alice, rule_id=rule.pk)
    rule_delete(user=alice, rule_id=work.pk)
    assert seen(entry_of(uber)) == "other"  # kept until the rules are applied again
    again = rule_backfill_run(rule_backfill_request(user=alice).pk)
    assert again.pk != backfill.pk
    assert again.changed == 4
    assert {annotation(entry_of(t)) for t in swiggy} == {("dining", EntryCategory.Source.DEFAULT)}
    assert annotation(entry_of(uber)) is None
    assert seen(entry_of(uber)) == "travel"
    found = insights(accounts=insights_accounts(user=alice), period=preset(THIS_MONTH))
    assert {c.slug: c.spent for c in found.categories if c.spent} == {"dining": 600_00, "travel": 150_00}


def test_two_requests_while_one_runs_return_the_same_one(client, alice, current):
    client.force_login(alice)
    first = client.post(APPLY)
    second = client.post(APPLY)
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    [backfill] = RuleBackfill.objects.filter(owner=alice)
    assert first["Location"] == reverse("insights_rules_progress", args=[backfill.pk])
    RuleBackfill.objects.filter(pk=backfill.pk).update(status=RuleBackfill.Status.RUNNING)
    assert rule_backfill_request(user=alice) == backfill
    rule_backfill_run(backfill.pk)  # (running: a worker died; the run picks it up)
    assert rule_backfill_request(user=alice) != backfill  # done: a new request is a new backfill


def test_another_customers_rules_never_apply_to_my_entries(alice, bob, current):
    mine = pay(current, day(10), 300_00, "Swiggy")
    bobs = AccountFactory(owner=bob, name="Bob's")
    receive(bobs, day(1, 9), 10_000_00)
    theirs = pay(bobs, day(10), 300_00, "Swiggy")
    rule_create(user=bob, field="counterparty", contains="Swiggy", direction="any", category="rent")
    rollup.catch_up(current.pk)
    rollup.catch_up(bobs.pk)
    rule_backfill_run(rule_backfill_request(user=bob).pk)
    assert annotation(entry_of(mine)) == ("dining", EntryCategory.Source.DEFAULT)
    assert annotation(entry_of(theirs)) == ("rent", EntryCategory.Source.RULE)
    assert set(EntryCategory.objects.filter(source="rule").values_list("account_id", flat=True)) == {bobs.pk}


# --- the rules page ----------------------------------------------------------------------------------------


def test_it_adds_a_rule_and_lists_the_rules_in_order(client, alice):
    client.force_login(alice)
    data = {"field": "counterparty", "text": "  Swiggy  ", "direction": "out", "category": "dining"}
    response = client.post(RULES, data)
    assert response.status_code == 303
    client.post(RULES, {**data, "text": "Zomato", "direction": "any"})
    page = client.get(RULES)
    body = page.content.decode()
    assert "Rule added: Counterparty contains “Zomato” → Dining." in body
    assert [r.contains for r in page.context["rules"]] == ["Swiggy", "Zomato"]
    assert body.index("“Swiggy”") < body.index("“Zomato”")
    assert "“Swiggy Instamart”" in body  # the bank's rules, below


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"text": "   "}, "text", "Enter the text to look for."),
        ({"text": "x" * 61}, "text", "Use at most 60 characters (this has 61)."),
        ({"text": "nul\x00"}, "text", "Null characters are not allowed."),
        ({"category": "no-such"}, "category", "Choose one of the categories in the list."),
        ({"category": ""}, "category", "Choose a category."),
        ({"field": "amount"}, "field", "Choose where to look from the list."),
        ({"direction": "sideways"}, "direction", "Choose money in, out, or either from the list."),
    ],
)
def test_a_rule_that_does_not_read_is_a_message_beside_its_field(client, alice, change, field, message):
    client.force_login(alice)
    data = {"field": "counterparty", "text": "Swiggy", "direction": "out", "category": "dining"}
    response = client.post(RULES, {**data, **change})
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert not CategoryRule.objects.filter(owner=alice).exists()


def test_the_same_rule_twice_is_a_message_beside_the_text(client, alice):
    rule_create(user=alice, field="counterparty", contains="Swiggy", direction="out", category="dining")
    client.force_login(alice)
    data = {"field": "counterparty", "text": "SWIGGY", "direction": "out", "category": "health"}
    response = client.post(RULES, data)
    assert response.status_code == 200
    assert response.context["form"].errors["text"] == [
        "You already have a rule for this text. Remove it first to give the text another category."
    ]
    assert CategoryRule.objects.filter(owner=alice).count() == 1
    assert client.post(RULES, {**data, "direction": "any"}).status_code == 303  # money in too: another rule


def test_too_many_rules_is_a_message(client, alice):
    for n in range(50):
        rule_create(
            user=alice, field="counterparty", contains=f"Shop {n}", direction="out", category="dining"
        )
    client.force_login(alice)
    page = client.get(RULES).content.decode()
    assert "You have 50 rules, the most one customer can have." in page
    data = {"field": "counterparty", "text": "One more", "direction": "out", "category": "dining"}
    response = client.post(RULES, data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "You have 50 rules, the most one customer can have. Remove one first."
    ]
    assert CategoryRule.objects.filter(owner=alice).count() == 50


def test_a_rule_of_exactly_60_characters_is_taken(client, alice):
    client.force_login(alice)
    data = {"field": "either", "text": "y" * 60, "direction": "any", "category": "other"}
    assert client.post(RULES, data).status_code == 303
    assert CategoryRule.objects.get(owner=alice).contains == "y" * 60


def test_it_removes_a_rule_after_asking(client, alice):
    rule = rule_create(
        user=alice, field="counterparty", contains="Swiggy", direction="out", category="dining"
    )
    client.force_login(alice)
    url = reverse("insights_rule_remove", args=[rule.pk])
    asked = client.get(url).content.decode()
    assert "Remove this rule?" in asked
    response = client.post(url)
    assert response.status_code == 303
    assert response["Location"] == RULES
    assert not CategoryRule.objects.filter(pk=rule.pk).exists()
    assert client.post(url).status_code == 404


def test_another_customers_rule_and_progress_are_404(client, alice, bob):
    rule = rule_create(user=bob, field="counterparty", contains="Swiggy", direction="out", category="dining")
    backfill = RuleBackfill.objects.create(owner=bob)
    client.force_login(alice)
    assert client.post(reverse("insights_rule_remove", args=[rule.pk])).status_code == 404
    assert client.get(reverse("insights_rules_progress", args=[backfill.pk])).status_code == 404
    assert CategoryRule.objects.filter(pk=rule.pk).exists()
    assert client.get(RULES).context["rules"] == []


def test_applying_the_rules_is_post_only(client, alice):
    client.force_login(alice)
    assert client.get(APPLY).status_code == 405
    assert not RuleBackfill.objects.exists()


def test_the_progress_polls_while_running_and_stops_when_done(client, alice, current):
    backfill = rule_backfill_request(user=alice)
    url = reverse("insights_rules_progress", args=[backfill.pk])
    client.force_login(alice)
    running = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in running
    assert f'hx-get="{url}"' in running
    assert "Refresh" in running
    assert "<html" not in running
    page = client.get(url).content.decode()  # without JavaScript: the rules page with it
    assert "<h1>Categories and rules</h1>" in page
    assert 'value="0"' in page
    rule_backfill_run(backfill.pk)
    done = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done
    assert 'value="100"' in done
    assert "Done: 0 transactions changed category." in done
    assert "Apply my rules to past transactions" in done


def test_the_apply_button_answers_htmx_with_the_progress(client, alice):
    client.force_login(alice)
    response = client.post(APPLY, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'hx-trigger="every 1s"' in response.content.decode()


def test_the_rules_page_costs_a_handful_of_queries(client, alice, django_assert_max_num_queries):
    for n in range(10):
        rule_create(
            user=alice, field="counterparty", contains=f"Shop {n}", direction="out", category="dining"
        )
    rule_backfill_request(user=alice)
    client.force_login(alice)
    with django_assert_max_num_queries(4):  # user, rules, the bank's rules, the latest backfill
        assert client.get(RULES).status_code == 200


def test_anonymous_visitors_to_the_rules_are_sent_to_sign_in(client):
    for response in (client.get(RULES), client.post(APPLY)):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
