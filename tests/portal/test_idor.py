"""IDOR: no customer can reach another customer's things by putting their ids in a URL or a form.

The URL checks are systematic, not a hand-picked list: `_customer_patterns()` walks the whole URLconf
(recursing into includes; leaving out the admin, static files and the health/ready/metrics probes) and
collects every customer-facing pattern that takes a parameter. Each one must have an entry in `OWNED`, a
factory that makes a real object of that kind belonging to customer A and returns the URL's kwargs.
`test_every_parameterised_url_has_an_idor_check` FAILS for a pattern without an entry: a new URL that takes
an id or a token cannot be added without saying how to make one of its objects, and so without being
checked here. For each entry, signed in as customer B, A's kwargs answer 404 exactly as an id that does not
exist does (not 403, not 200, not 500: nothing tells B that A's object exists), and nothing of A's changes;
signed out, they redirect to sign-in.

Ids in request bodies and query strings (the transfer form's accounts, `?change=<token>`, prefill
parameters, a replayed idempotency key) are checked below the URL walk; the mixed cases (one side A's, one
side B's) are in tests/transactions/test_transfer_views.py
(`test_it_refuses_another_customers_account_as_source_or_destination`, `test_it_hides_another_customers_*`).
"""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, PathConverter, SlugConverter, StringConverter, UUIDConverter
from django.urls.resolvers import RoutePattern
from django.utils import timezone

from accounts.models import Account, Payee, User
from tests.factories import AccountFactory, PayeeFactory, UserFactory
from transactions import services
from transactions.insights.models import CategoryRule, EntryCategory, RuleBackfill
from transactions.models import Entry, ScheduledTransfer, Transaction
from transactions.statements.models import Statement

NEW = reverse("transfer_new")
CONFIRM = reverse("transfer_confirm")
LOGIN = reverse("login")

# Not customer pages: Django's admin (staff, its own permission checks), static files, and the probes.
_SKIP_NAMESPACES = {"admin"}
_SKIP_NAMES = {"health", "ready", "metrics"}
_SKIP_PREFIXES = ("static/", "media/")


def _params(pattern) -> dict[str, type]:
    """The parameters a pattern (or an include's prefix) captures, with their converter's type."""
    if isinstance(pattern, RoutePattern):
        return {name: type(converter) for name, converter in pattern.converters.items()}
    regex = pattern.regex
    named = {name: StringConverter for name in regex.groupindex}
    unnamed = {f"<group {i}>": StringConverter for i in range(regex.groups - len(regex.groupindex))}
    return {**named, **unnamed}


def _walk(resolver: URLResolver, prefix: str = "", params: dict | None = None) -> Iterator[tuple]:
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        captured = {**(params or {}), **_params(entry.pattern)}
        if isinstance(entry, URLResolver):
            if entry.namespace in _SKIP_NAMESPACES:
                continue
            yield from _walk(entry, route, captured)
        elif isinstance(entry, URLPattern):
            yield entry.name or route, route, captured


def _customer_patterns() -> dict[str, tuple[str, dict[str, type]]]:
    """url name -> (route, {parameter: converter type}) for every parameterised customer URL."""
    found = {}
    for name, route, params in _walk(get_resolver()):
        if not params or name in _SKIP_NAMES or route.lstrip("^/").startswith(_SKIP_PREFIXES):
            continue
        found[name] = (route, params)
    return found


# --- how to make customer A's object for each URL ---------------------------------------------------------


@dataclass
class Owner:
    """Customer A: signed in on their own client, with a funded savings account and a current account."""

    user: User
    client: Client
    savings: Account
    current: Account


def _own_transfer(a: Owner) -> dict:
    txn = services.transfer_create(
        initiator=a.user,
        source=a.savings,
        destination=a.current,
        amount_paise=1_000_00,
        description="Rent",
        idempotency_key=str(uuid.uuid4()),
    )
    return {"pk": txn.pk}


def _own_review(a: Owner) -> dict:
    """A review token lives in A's session: post the transfer form as A."""
    response = a.client.post(NEW, _transfer_data(a.savings, a.current))
    assert response.status_code == 303, response.content
    return {"token": response["Location"].rstrip("/").rsplit("/", 1)[-1]}


def _own_schedule(a: Owner) -> dict:
    from transactions.scheduled.services import scheduled_transfer_create

    schedule = scheduled_transfer_create(
        owner=a.user,
        source=a.savings,
        destination=a.current,
        amount_paise=1_000_00,
        description="Rent",
        frequency="monthly",
        first_date=timezone.localdate(),
        create_key=uuid.uuid4().hex,
    )
    return {"pk": schedule.pk}


def _own_account(a: Owner) -> dict:
    return {"pk": a.savings.pk}


def _own_payee(a: Owner) -> dict:
    return {"pk": PayeeFactory(owner=a.user, name="Ravi").pk}


def _own_history(a: Owner) -> dict:
    return {"pk": a.savings.pk}


def _own_history_detail(a: Owner) -> dict:
    return {"pk": a.savings.pk, "transaction_id": _own_transfer(a)["pk"]}


def _own_rule(a: Owner) -> dict:
    from transactions.insights.services import rule_create

    rule = rule_create(
        user=a.user, field="counterparty", contains="Swiggy", direction="out", category="dining"
    )
    return {"pk": rule.pk}


def _own_backfill(a: Owner) -> dict:
    return {"pk": RuleBackfill.objects.create(owner=a.user).pk}  # queued: no task sent from a test


def _own_statement(a: Owner) -> dict:
    """A's statement of last month, queued (no task is sent: the test's transaction never commits)."""
    from transactions.statements import periods
    from transactions.statements.services import statement_request

    statement, _ = statement_request(user=a.user, account_id=a.savings.pk, period=periods.previous_month())
    return {"pk": statement.pk}


def _own_statement_file(a: Owner) -> dict:
    """A's statement made (its PDF and CSV written), and a fresh download link of A's for its PDF."""
    from transactions.statements import downloads, generate

    pk = _own_statement(a)["pk"]
    assert generate.build(pk)
    return {
        "pk": pk,
        "fmt": "pdf",
        "token": downloads.token_for(statement_id=pk, fmt="pdf", user_id=a.user.pk),
    }


OWNED: dict[str, Callable[[Owner], dict]] = {
    "transfer_detail": _own_transfer,
    "transfer_receipt_pdf": _own_transfer,  # GET only (405 to its owner for any other method)
    "transfer_review": _own_review,
    "scheduled_detail": _own_schedule,
    "scheduled_cancel": _own_schedule,  # GET the question, POST the cancel
    "payee_detail": _own_payee,  # GET the page, POST a rename
    "payee_remove": _own_payee,  # GET the confirmation, POST the removal
    "history_export_csv": _own_account,  # GET only (405 to its owner for any other method)
    "history_export_xlsx": _own_account,
    "history_balance": _own_account,  # GET the balance on a day and the entries since
    "history": _own_history,
    "history_detail": _own_history_detail,
    "history_category": _own_history_detail,  # GET the form, POST a category of A's own
    "history_receipt_pdf": _own_history_detail,  # GET only
    "insights_rule_remove": _own_rule,  # GET the confirmation, POST the removal
    "insights_rules_progress": _own_backfill,
    "statement_status": _own_statement,  # GET the status (the row for HTMX, else the page)
    "statement_retry": _own_statement,  # GET the statement's page, POST a retry
    "statement_download": _own_statement_file,  # GET the file with A's own link
}

# Capability URLs: the link itself is the key, for whoever holds it, signed in or not (the forgotten-password
# link: an id and a secret token). Without the token no customer's object is behind the id;
# `test_a_capability_url_with_someone_elses_id_opens_nothing` proves a made-up token for A's id answers as one
# for nobody's id does and changes nothing, and tests/accounts/test_password_reset.py tests the link itself.
CAPABILITIES = {"password_reset_link"}

# An id of the same kind that belongs to nobody: B's answer to A's id must be the same as to this one.
_NOBODYS = {
    IntConverter: 2_000_000_000,
    StringConverter: "no-such-thing",
    SlugConverter: "no-such-thing",
    PathConverter: "no/such/thing",
    UUIDConverter: uuid.UUID(int=0),
}


def _transfer_data(source: Account, destination: Account, amount: str = "100", key: str = "") -> dict:
    return {
        "source": source.pk,
        "destination": destination.pk,
        "amount": amount,
        "description": "Rent",
        "idempotency_key": key or uuid.uuid4().hex,
    }


def _snapshot(a: Owner) -> tuple:
    """Everything of A's that an attack could change: the ledger, A's accounts, payees, rules, categories,
    statements."""
    accounts = Account.objects.filter(owner=a.user).order_by("pk")
    accounts = tuple(accounts.values_list("pk", "balance", "status"))
    schedules = tuple(
        ScheduledTransfer.objects.filter(owner=a.user).values_list("pk", "status", "next_run_date")
    )
    payees = tuple(Payee.objects.filter(owner=a.user).order_by("pk").values_list("pk", "name", "removed_at"))
    categories = (
        tuple(CategoryRule.objects.filter(owner=a.user).order_by("pk").values_list("pk", "contains")),
        tuple(EntryCategory.objects.filter(account__owner=a.user).values_list("entry_id", "category_id")),
    )
    statements = tuple(
        Statement.objects.filter(account__owner=a.user).order_by("pk").values_list("pk", "status", "attempts")
    )
    return (
        Transaction.objects.count(),
        Entry.objects.count(),
        accounts,
        schedules,
        payees,
        categories,
        statements,
    )


@pytest.fixture
def owner(alice, alice_savings, alice_current) -> Owner:
    client = Client()
    client.force_login(alice)
    return Owner(user=alice, client=client, savings=alice_savings, current=alice_current)


@pytest.fixture
def intruder(bob, bob_savings) -> Client:
    client = Client()
    client.force_login(bob)
    return client


PATTERNS = _customer_patterns()


# --- the URL walk ----------------------------------------------------------------------------------------


def test_the_walk_finds_the_known_parameterised_urls():
    """Guard the guard: if the walk found nothing, every other test here would pass vacuously."""
    assert {"transfer_detail", "transfer_review"} <= set(PATTERNS)
    assert not {"dashboard", "transfer_new", "health", "metrics"} & set(PATTERNS)
    assert not any(name.startswith("admin") for name in PATTERNS)


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_every_parameterised_url_has_an_idor_check(name):
    route, params = PATTERNS[name]
    if name in CAPABILITIES:
        return
    assert name in OWNED, (
        f"{route!r} ({name}) takes {sorted(params)} but has no IDOR check: add a factory to OWNED in "
        f"{__name__} that makes customer A's object and returns the URL's kwargs."
    )
    missing = [p for p, converter in params.items() if converter not in _NOBODYS]
    assert not missing, f"{name}: add a nobody's value for the converters of {missing} to _NOBODYS"


def test_the_registry_names_only_urls_that_exist():
    assert set(OWNED) <= set(PATTERNS), f"stale IDOR entries: {sorted(set(OWNED) - set(PATTERNS))}"
    stale = CAPABILITIES - set(PATTERNS)
    assert not stale, f"stale capability entries: {sorted(stale)}"
    assert not CAPABILITIES & set(OWNED)


@pytest.mark.parametrize("name", sorted(CAPABILITIES))
def test_a_capability_url_with_someone_elses_id_opens_nothing(name, owner, intruder, client):
    """B (signed in, or anyone signed out) puts A's id in the URL with a token of their own making: the
    same answer as for an id that belongs to nobody, and A's password and sessions are untouched."""
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    a_id = urlsafe_base64_encode(force_bytes(owner.user.pk))
    nobody = urlsafe_base64_encode(force_bytes(2_000_000_000))
    password = owner.user.password
    for visitor in (intruder, client):
        answers = []
        for uid in (a_id, nobody):
            url = reverse(name, kwargs={"uidb64": uid, "token": "cxyz12-0123456789abcdef0123456789abcdef"})
            got, posted = visitor.get(url), visitor.post(url, {"new_password1": "x", "new_password2": "x"})
            answers.append((got.status_code, got.get("Location"), posted.status_code))
        assert answers[0] == answers[1], "B must not learn that A's id exists"
        assert answers[0][1] is None, "nothing to go on to"
    owner.user.refresh_from_db()
    assert owner.user.password == password
    assert owner.client.get(reverse("dashboard")).status_code == 200


@pytest.mark.parametrize("name", sorted(OWNED))
def test_another_customers_ids_answer_404_and_change_nothing(name, owner, intruder, bob_savings):
    kwargs = OWNED[name](owner)
    url = reverse(name, kwargs=kwargs)
    assert owner.client.get(url).status_code == 200, "the factory must make an object A can see"
    nobodys = reverse(name, kwargs={p: _NOBODYS[c] for p, c in PATTERNS[name][1].items()})
    before = _snapshot(owner)

    assert intruder.get(url).status_code == 404
    assert intruder.get(nobodys).status_code == 404
    assert intruder.head(url).status_code == 404
    # POST with a body that tries to move A's money; a view that takes no POST says 405 whoever asks.
    attack = _transfer_data(owner.savings, owner.current, amount="10,000")
    posted = intruder.post(url, attack).status_code
    assert posted in (404, 405)
    assert posted == intruder.post(nobodys, attack).status_code, "B must not learn that A's object exists"

    assert _snapshot(owner) == before
    bob_savings.refresh_from_db()
    assert bob_savings.balance == 10_000_00
    assert owner.client.get(url).status_code == 200, "A still has it after B's tries"


@pytest.mark.parametrize("name", sorted(OWNED))
def test_anonymous_visitors_are_sent_to_sign_in(name, owner, client):
    url = reverse(name, kwargs=OWNED[name](owner))
    before = _snapshot(owner)
    for response in (client.get(url), client.post(url, _transfer_data(owner.savings, owner.current))):
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)
    assert _snapshot(owner) == before


# --- ids in query strings and request bodies -------------------------------------------------------------


def test_another_customers_review_token_prefills_nothing(owner, intruder):
    token = _own_review(owner)["token"]
    response = intruder.get(NEW, {"change": token})
    assert response.status_code == 200
    form = response.context["form"]
    assert form["amount"].value() is None
    assert form["description"].value() is None
    body = response.content.decode()
    assert owner.savings.masked_number not in body
    assert owner.current.masked_number not in body


def test_another_customers_account_ids_in_the_query_string_prefill_nothing(owner, intruder):
    response = intruder.get(NEW, {"source": owner.savings.pk, "destination": owner.current.pk})
    assert response.status_code == 200
    body = response.content.decode()
    for account in (owner.savings, owner.current):
        assert f'value="{account.pk}"' not in body
        assert account.masked_number not in body


@pytest.mark.parametrize("htmx", [False, True])
def test_another_customers_account_id_on_the_insights_page_shows_nothing_of_theirs(owner, intruder, htmx):
    """/insights/?account=<A's id>: B gets a form error, never A's figures (tests/insights/test_views.py
    checks the figures themselves)."""
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    before = _snapshot(owner)
    for account in (owner.savings, owner.current):
        response = intruder.get(reverse("insights"), {"account": account.pk, "period": "12m"}, **headers)
        assert response.status_code == 200
        body = response.content.decode()
        assert "Choose one of your accounts." in body
        assert f'value="{account.pk}"' not in body
        assert account.masked_number not in body
        assert "figure-" not in body
    assert _snapshot(owner) == before


def test_the_transfer_forms_refuse_another_customers_accounts_on_both_sides(owner, intruder, bob_savings):
    """B asks to move A's money between A's own accounts. (One side A's: test_transfer_views.py.)"""
    before = _snapshot(owner)
    data = _transfer_data(owner.savings, owner.current, amount="10,000")
    for url in (NEW, CONFIRM):
        response = intruder.post(url, data)
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert "source" in errors and "destination" in errors
    assert "transfer_reviews" not in intruder.session
    assert _snapshot(owner) == before


def test_another_customers_idempotency_key_does_not_lead_to_their_receipt(owner, intruder, bob, bob_savings):
    """Confirm answers a replayed key with its receipt: only for the customer who spent it."""
    key = uuid.uuid4().hex
    spent = owner.client.post(CONFIRM, _transfer_data(owner.savings, owner.current, key=key))
    assert spent.status_code == 303
    before = _snapshot(owner)

    # A form that does not validate (A's accounts) with A's key: the form again, not A's receipt.
    replay = intruder.post(CONFIRM, _transfer_data(owner.savings, owner.current, key=key))
    assert replay.status_code == 200
    assert replay.context["form"].errors
    assert _snapshot(owner) == before

    # A valid transfer of B's own with A's key: B's own transfer (keys are per customer), not A's receipt.
    bob_current = AccountFactory(owner=bob, name="Current", kind=Account.Kind.CURRENT)
    own = intruder.post(CONFIRM, _transfer_data(bob_savings, bob_current, key=key))
    assert own.status_code == 303
    assert own["Location"] == reverse("transfer_detail", args=[Transaction.objects.get(initiator=bob).pk])
    assert own["Location"] != spent["Location"]


def test_a_third_customer_with_no_accounts_sees_none_of_As(owner):
    """A customer without accounts gets an empty form, never someone else's accounts as a fallback."""
    client = Client()
    client.force_login(UserFactory(email="carol@example.com"))
    body = client.get(NEW, {"source": owner.savings.pk}).content.decode()
    assert owner.savings.masked_number not in body
    assert client.post(CONFIRM, _transfer_data(owner.savings, owner.current)).status_code == 200
