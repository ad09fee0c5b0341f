"""Staff edit the rate sheet in admin: every add, change and delete is an audit event; a published line in
effect before today is history (read-only, never deleted); bad lines are form errors, never a 500; an edit
shows on /rates/ at the next request."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse

from portal.models import AuditEvent
from portal.public.models import InterestRate
from tests.factories import UserFactory
from tests.public.rates_data import LAKH, line
from tests.twofactor import force_login_verified

D = datetime.date
NOW = datetime.datetime(2026, 12, 6, 6, 0, tzinfo=datetime.UTC)  # 11:30 IST, 6 Dec 2026
TODAY = D(2026, 12, 6)
ADD = "admin:public_interestrate_add"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staff(client):
    user = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    force_login_verified(client, user)
    return user


def _form(**changes) -> dict:
    data = {
        "product": "fd",
        "tenor_min_days": "7",
        "tenor_max_days": "45",
        "balance_min_paise": "0",
        "general_rate": "3.50",
        "senior_rate": "4.00",
        "effective_from": "2026-12-10",
        "offered": "on",
        "published": "on",
        "note": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _change(rate: InterestRate) -> str:
    return reverse("admin:public_interestrate_change", args=[rate.pk])


def _delete(rate: InterestRate) -> str:
    return reverse("admin:public_interestrate_delete", args=[rate.pk])


def _errors(response) -> str:
    return " ".join(
        re.sub(r"<[^>]+>", " ", m)
        for m in re.findall(r'<ul class="errorlist[^"]*"[^>]*>.*?</ul>', response.content.decode(), re.S)
    )


def test_it_adds_a_line_and_audits_it(client, staff):
    response = client.post(reverse(ADD), _form())
    assert response.status_code == 302, _errors(response)
    rate = InterestRate.objects.get()
    assert (rate.tenor_min_days, rate.tenor_max_days, str(rate.general_rate)) == (7, 45, "3.50")
    event = AuditEvent.objects.get(action="admin.add")
    assert (
        event.actor == staff
        and event.object_type == "public.interestrate"
        and event.object_id == str(rate.pk)
    )
    assert event.after["general_rate"] == "3.50"


def test_it_takes_a_savings_slab_in_rupees(client, staff):
    data = _form(product="savings", tenor_min_days="", tenor_max_days="", balance_min_paise="10,00,000")
    assert client.post(reverse(ADD), data).status_code == 302
    rate = InterestRate.objects.get()
    assert rate.balance_min_paise == 10 * LAKH and rate.tenor_min_days is None
    page = client.get(_change(rate)).content.decode()
    assert 'value="10,00,000.00"' in page


def test_it_changes_a_scheduled_line_and_the_page_shows_it_at_the_next_request(
    client, staff, django_capture_on_commit_callbacks
):
    line(low=7, high=45, general="3.50", effective=D(2025, 12, 1))
    scheduled = line(low=7, high=45, general="3.25", effective=TODAY)
    assert "3.25%" in client.get(reverse("rates")).content.decode()  # and now kept whole in Redis
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _change(scheduled), _form(general_rate="3.40", senior_rate="3.90", effective_from="2026-12-06")
        )
    assert response.status_code == 302, _errors(response)
    page = client.get(reverse("rates")).content.decode()
    assert "3.40%" in page and "3.25%" not in page
    event = AuditEvent.objects.get(action="admin.change")
    assert event.before == {"general_rate": "3.25", "senior_rate": "3.75"}
    assert event.after == {"general_rate": "3.40", "senior_rate": "3.90"}


def test_it_deletes_a_draft_and_audits_it(client, staff, django_capture_on_commit_callbacks):
    draft = line(low=400, high=400, general="7.10", effective=D(2025, 1, 1), published=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_delete(draft), {"post": "yes"})
    assert response.status_code == 302
    assert not InterestRate.objects.exists()
    event = AuditEvent.objects.get(action="admin.delete")
    assert event.object_id == str(draft.pk) and event.before["general_rate"] == "7.10"


def test_it_keeps_a_line_in_effect_read_only_and_undeletable(client, staff):
    history = line(low=7, high=45, general="3.50", effective=D(2026, 12, 5))
    page = client.get(_change(history))
    assert page.status_code == 200
    text = page.content.decode()
    assert "add a new line with a later effective date" in text
    assert 'name="_save"' not in text and 'name="general_rate"' not in text
    assert f"{reverse(ADD)}?product=fd&amp;tenor_min_days=7&amp;tenor_max_days=45" in text
    assert client.post(_change(history), _form(general_rate="1.00")).status_code == 403
    assert client.get(_delete(history)).status_code == 403
    assert client.post(_delete(history), {"post": "yes"}).status_code == 403
    history.refresh_from_db()
    assert str(history.general_rate) == "3.50"
    assert not AuditEvent.objects.filter(action__startswith="admin.").exists()


def test_it_refuses_a_bulk_delete_that_holds_a_line_in_effect(client, staff):
    history = line(low=7, high=45, general="3.50", effective=D(2026, 1, 1))
    draft = line(low=46, high=90, general="5.00", effective=D(2026, 1, 1), published=False)
    selected = {"action": "delete_selected", "_selected_action": [history.pk, draft.pk]}
    changelist = reverse("admin:public_interestrate_changelist")
    response = client.post(changelist, selected)  # the confirmation page says why it cannot be done
    assert response.status_code == 200
    assert "interest rate lines already in effect (rate history)" in response.content.decode()
    assert client.post(changelist, {**selected, "post": "yes"}).status_code == 403
    assert InterestRate.objects.count() == 2
    assert not AuditEvent.objects.filter(action="admin.delete").exists()


def test_it_lets_staff_delete_drafts_in_bulk(client, staff):
    drafts = [line(low=n, high=n, effective=D(2026, 1, 1), published=False) for n in (10, 20)]
    response = client.post(
        reverse("admin:public_interestrate_changelist"),
        {"action": "delete_selected", "_selected_action": [d.pk for d in drafts], "post": "yes"},
    )
    assert response.status_code == 302
    assert not InterestRate.objects.exists()
    assert AuditEvent.objects.filter(action="admin.delete").count() == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tenor_min_days": ""}, "A deposit needs the first day of its term"),
        ({"tenor_max_days": ""}, "A deposit needs the last day of its term"),
        (
            {"tenor_min_days": "46", "tenor_max_days": "45"},
            "The term must end on or after its first day (46).",
        ),
        ({"tenor_min_days": "0"}, "A term starts at 1 day or more."),
        ({"product": "savings"}, "A savings rate has no term: leave this empty."),
        ({"balance_min_paise": "10,00,000"}, "Deposits have no balance slab"),
        ({"balance_min_paise": "ten"}, "Enter an amount in rupees"),
        ({"effective_from": "2026-12-05"}, "A published line cannot start before today (6 Dec 2026)"),
        ({"general_rate": "100"}, "Ensure this value is less than or equal to 99.99."),
        ({"general_rate": "-1"}, "Ensure this value is greater than or equal to 0.00."),
        ({"senior_rate": "7.123"}, "Ensure that there are no more than 2 decimal places."),
        ({"effective_from": "06/12/2026x"}, "Enter a valid date."),
    ],
)
def test_it_explains_a_bad_line_and_saves_nothing(client, staff, changes, message):
    response = client.post(reverse(ADD), _form(**changes))
    assert response.status_code == 200
    assert message in _errors(response)
    assert not InterestRate.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="admin.").exists()


def test_it_explains_a_second_line_for_the_same_bucket_and_day(client, staff):
    line(low=7, high=45, general="3.50", effective=D(2026, 12, 10), published=False)
    response = client.post(reverse(ADD), _form())
    assert response.status_code == 200
    assert "This bucket already has a line from that day." in _errors(response)
    assert InterestRate.objects.count() == 1
    savings = line("savings", general="2.70", effective=D(2026, 12, 10))
    data = _form(product="savings", tenor_min_days="", tenor_max_days="", balance_min_paise="0")
    assert "This bucket already has a line from that day." in _errors(client.post(reverse(ADD), data))
    assert InterestRate.objects.count() == 2 and savings.pk


def test_it_lets_staff_keep_an_unpublished_draft_dated_in_the_past(client, staff):
    response = client.post(reverse(ADD), _form(effective_from="2026-01-01", published=None))
    assert response.status_code == 302, _errors(response)
    assert InterestRate.objects.get().published is False


def test_it_lists_lines_with_their_bucket_and_state(client, staff):
    line(low=365, high=729, general="6.80", effective=D(2026, 1, 1))
    line(low=7, high=45, general="3.50", effective=D(2027, 1, 1))
    line("savings", general="3.00", effective=D(2026, 1, 1), balance=10 * LAKH, published=False)
    page = client.get(reverse("admin:public_interestrate_changelist"), {"product__exact": "fd"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "1 year to less than 2 years" in text and "History (read-only)" in text and "Scheduled" in text
    assert "Balances from ₹10\u00a0lakh" not in text
    assert (
        "Balances from ₹10\u00a0lakh"
        in client.get(reverse("admin:public_interestrate_changelist")).content.decode()
    )


def test_it_audits_the_whole_of_a_line_added_from_a_prefilled_form(client, staff):
    prefilled = f"{reverse(ADD)}?product=fd&tenor_min_days=7&tenor_max_days=45&general_rate=3.50"
    assert 'value="3.50"' in client.get(prefilled).content.decode()
    response = client.post(prefilled, _form(general_rate="3.50"))
    assert response.status_code == 302, _errors(response)
    event = AuditEvent.objects.get(action="admin.add")
    assert event.after["product"] == "fd" and event.after["tenor_min_days"] == 7
    assert event.after["general_rate"] == "3.50" and event.after["effective_from"] == "2026-12-10"


def test_a_bulk_delete_moves_the_pages_version(client, staff, django_capture_on_commit_callbacks):
    """Django's bulk delete sends a post_delete per line (the signal's receivers keep it from a fast
    delete): the sheet's cached copies are dropped like for a single edit."""
    from portal.public.models import ContentVersion

    scheduled = [line(low=n, high=n, effective=D(2026, 12, 20)) for n in (10, 20)]
    before = ContentVersion.objects.get(namespace="rates").version
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("admin:public_interestrate_changelist"),
            {"action": "delete_selected", "_selected_action": [r.pk for r in scheduled], "post": "yes"},
        )
    assert response.status_code == 302
    assert ContentVersion.objects.get(namespace="rates").version > before
    assert callbacks  # the announcement, after the commit
