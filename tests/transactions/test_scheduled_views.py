"""The customer's scheduled-transfer pages: list, new (with step-up for a payee or a large amount), and one
schedule with pause, resume and cancel. Bad input and other customers' things change nothing."""

import datetime
import uuid
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from portal.models import AuditEvent
from tests.factories import PASSWORD, PayeeFactory
from transactions.models import ScheduledTransfer
from transactions.scheduled import services

IST = zoneinfo.ZoneInfo("Asia/Kolkata")
NEW = reverse("scheduled_new")
LIST = reverse("scheduled_list")
TODAY = datetime.date(2026, 12, 7)  # a Monday


@pytest.fixture(autouse=True)
def _monday():
    with time_machine.travel(datetime.datetime(2026, 12, 7, 10, tzinfo=IST), tick=False):
        yield


@pytest.fixture
def signed_in(client, alice, alice_savings, alice_current):
    client.force_login(alice)
    return client


def _data(source, destination="", **overrides) -> dict:
    target = destination if isinstance(destination, str) else str(destination.pk)
    return {
        "source": source.pk,
        "destination": target,
        "amount": "2,500",
        "description": "Rent",
        "first_date": "2026-12-12",
        "frequency": "monthly",
        "end_date": "",
        "count": "",
        "idempotency_key": uuid.uuid4().hex,
        **overrides,
    }


def test_a_day_first_date_is_read_the_indian_way(signed_in, alice, alice_savings, alice_current):
    signed_in.post(NEW, _data(alice_savings, alice_current, first_date="08/01/2027"))
    assert ScheduledTransfer.objects.get(owner=alice).first_date == datetime.date(2027, 1, 8)


def test_it_sets_up_a_monthly_transfer_between_own_accounts(signed_in, alice, alice_savings, alice_current):
    response = signed_in.post(NEW, _data(alice_savings, alice_current, count="6"))
    schedule = ScheduledTransfer.objects.get(owner=alice)
    assert response.status_code == 303
    assert response["Location"] == reverse("scheduled_detail", args=[schedule.pk])
    assert (schedule.amount, schedule.frequency, schedule.count) == (2_500_00, "monthly", 6)
    assert schedule.next_run_date == datetime.date(2026, 12, 14)  # 12 Dec is the second Saturday
    assert AuditEvent.objects.filter(action="transfer.schedule", object_id=str(schedule.pk)).exists()

    page = signed_in.get(response["Location"]).content.decode()
    assert "Mon 14 Dec 2026" in page and "Second Saturday" in page
    listing = signed_in.get(LIST).content.decode()
    assert "₹2,500.00" in listing and alice_current.masked_number in listing
    assert alice_current.number not in listing


def test_a_double_submit_sets_up_one_schedule(signed_in, alice, alice_savings, alice_current):
    data = _data(alice_savings, alice_current)
    first = signed_in.post(NEW, data)
    again = signed_in.post(NEW, data)
    assert first["Location"] == again["Location"]
    assert ScheduledTransfer.objects.filter(owner=alice).count() == 1


BAD = [
    ({"first_date": "2026-12-06"}, "first_date"),  # yesterday in India
    ({"first_date": "31/02/2027"}, "first_date"),
    ({"first_date": "12/31/2026"}, "first_date"),  # month first: never read as a US date
    ({"amount": "abc"}, "amount"),
    ({"amount": "-5"}, "amount"),
    ({"amount": "1.234"}, "amount"),
    ({"amount": "0"}, "amount"),
    ({"end_date": "2026-12-10"}, "end_date"),  # before the first date
    ({"end_date": "2027-06-01", "count": "3"}, "count"),  # both
    ({"count": "0"}, "count"),
    ({"frequency": "daily"}, "frequency"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_bad_input_is_a_form_error_that_changes_nothing(
    signed_in, alice_savings, alice_current, change, field
):
    response = signed_in.post(NEW, _data(alice_savings, alice_current, **change))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not ScheduledTransfer.objects.exists()


def test_the_same_account_on_both_sides_is_refused(signed_in, alice_savings):
    response = signed_in.post(NEW, _data(alice_savings, alice_savings))
    assert "destination" in response.context["form"].errors
    assert not ScheduledTransfer.objects.exists()


def test_another_customers_payee_or_account_cannot_be_chosen(signed_in, alice_savings, bob, bob_savings):
    bobs_payee = PayeeFactory(owner=bob)
    for target in (f"payee-{bobs_payee.pk}", str(bob_savings.pk)):
        response = signed_in.post(NEW, _data(alice_savings, target))
        assert "destination" in response.context["form"].errors
    response = signed_in.post(NEW, _data(bob_savings, f"payee-{bobs_payee.pk}"))
    assert "source" in response.context["form"].errors
    assert not ScheduledTransfer.objects.exists()
    body = signed_in.get(NEW).content.decode()
    assert bobs_payee.masked_account_number not in body and bob_savings.masked_number not in body


def test_a_removed_payee_is_not_offered(signed_in, alice, alice_savings):
    from django.utils import timezone

    payee = PayeeFactory(owner=alice, removed_at=timezone.now())
    response = signed_in.post(NEW, _data(alice_savings, f"payee-{payee.pk}"))
    assert "destination" in response.context["form"].errors


def test_a_schedule_to_a_payee_asks_for_step_up_bound_to_its_details(signed_in, alice, alice_savings):
    payee = PayeeFactory(owner=alice, name="Landlord")
    data = _data(alice_savings, f"payee-{payee.pk}")
    asked = signed_in.post(NEW, data)
    assert asked.status_code == 302
    assert asked["Location"].startswith(reverse("step_up") + "?action=transfer.schedule")
    assert not ScheduledTransfer.objects.exists()
    summary = signed_in.get(asked["Location"]).content.decode()
    assert "₹2,500.00" in summary and "Landlord" in summary
    assert "Back to the review" not in summary and "Cancel the transfer" not in summary
    assert ">Back to the form</a>" in summary

    proved = signed_in.post(asked["Location"], {"password": PASSWORD})
    assert proved["Location"].startswith(NEW + "?resume=")
    refilled = signed_in.get(proved["Location"])
    assert refilled.context["form"]["amount"].value() == "2,500"
    # A proof for this schedule does not set up another amount ...
    other = signed_in.post(NEW, {**data, "amount": "25,000"})
    assert other["Location"].startswith(reverse("step_up"))
    assert not ScheduledTransfer.objects.exists()
    # ... and, spent on that, is asked for again.
    asked = signed_in.post(NEW, data)
    signed_in.post(asked["Location"], {"password": PASSWORD})
    done = signed_in.post(NEW, data)
    assert done.status_code == 303
    assert ScheduledTransfer.objects.get().payee == payee


def test_a_large_schedule_between_own_accounts_asks_for_step_up(
    signed_in, settings, alice_savings, alice_current
):
    settings.TRANSFER_STEP_UP_PAISE = 1_000_00
    assert signed_in.post(NEW, _data(alice_savings, alice_current, amount="1,000"))["Location"].startswith(
        "/transfers/scheduled/"
    )
    large = signed_in.post(NEW, _data(alice_savings, alice_current, amount="1,000.01"))
    assert large["Location"].startswith(reverse("step_up"))
    assert ScheduledTransfer.objects.count() == 1


def test_to_offers_accounts_and_payees_as_move_money_does(signed_in, alice, alice_savings, alice_current):
    payee = PayeeFactory(owner=alice, name="Arjun Iyer", bank_name="State Bank of India")
    form = signed_in.get(NEW).context["form"]
    choices = dict(form.fields["destination"].choices)
    assert choices[str(alice_current.pk)] == f"Current · {alice_current.masked_number}"
    payees = dict(choices["Payees"])
    assert payees == {f"payee-{payee.pk}": f"Arjun Iyer · State Bank of India {payee.masked_account_number}"}


def test_a_payee_cooling_off_is_paid_no_earlier_than_the_day_it_ends(signed_in, alice, alice_savings):
    added = datetime.datetime(2026, 12, 7, 9, 30, 20, tzinfo=IST)  # cooling off until 8 Dec, 9:30:20 AM
    payee = PayeeFactory(owner=alice, name="Ravi Kumar", created_at=added)
    assert f"payee-{payee.pk}" in signed_in.get(NEW).content.decode()
    early = signed_in.post(NEW, _data(alice_savings, f"payee-{payee.pk}", first_date="2026-12-07"))
    assert early.context["form"].errors["first_date"] == [
        "Ravi Kumar can receive money from 8 Dec 2026, 9:31 AM IST: choose that day or later."
    ]
    on_the_day = signed_in.post(NEW, _data(alice_savings, f"payee-{payee.pk}", first_date="2026-12-08"))
    assert on_the_day["Location"].startswith(reverse("step_up"))
    assert not ScheduledTransfer.objects.exists()


def _own_schedule(alice, source, destination) -> ScheduledTransfer:
    return services.scheduled_transfer_create(
        owner=alice,
        source=source,
        destination=destination,
        amount_paise=1_000_00,
        description="",
        frequency="weekly",
        first_date=TODAY,
        create_key=uuid.uuid4().hex,
    )


def test_pause_resume_and_cancel_by_post(signed_in, alice, alice_savings, alice_current):
    schedule = _own_schedule(alice, alice_savings, alice_current)
    url = reverse("scheduled_detail", args=[schedule.pk])
    for action, status in (("pause", "paused"), ("resume", "active")):
        response = signed_in.post(url, {"action": action})
        assert response.status_code == 303 and response["Location"] == url
        schedule.refresh_from_db()
        assert schedule.status == status
    cancelled = signed_in.post(reverse("scheduled_cancel", args=[schedule.pk]))
    assert cancelled.status_code == 303 and cancelled["Location"] == url
    schedule.refresh_from_db()
    assert schedule.status == "cancelled"
    # A cancelled schedule cannot be resumed: said on the page, nothing changed.
    response = signed_in.post(url, {"action": "resume"}, follow=True)
    assert "is cancelled" in response.content.decode()
    schedule.refresh_from_db()
    assert schedule.status == "cancelled"
    actions = set(AuditEvent.objects.filter(object_id=str(schedule.pk)).values_list("action", flat=True))
    assert {"transfer.schedule.pause", "transfer.schedule.resume", "transfer.schedule.cancel"} <= actions


def test_cancelling_asks_first_and_one_click_cancels_nothing(signed_in, alice, alice_savings, alice_current):
    schedule = _own_schedule(alice, alice_savings, alice_current)
    url = reverse("scheduled_detail", args=[schedule.pk])
    confirm = reverse("scheduled_cancel", args=[schedule.pk])
    assert f'href="{confirm}"' in signed_in.get(url).content.decode()
    # The detail page's cancel (an old page, a crafted POST) asks too, and changes nothing.
    asked = signed_in.post(url, {"action": "cancel"})
    assert (asked.status_code, asked["Location"]) == (303, confirm)
    page = signed_in.get(confirm).content.decode()
    assert "Cancel this scheduled transfer?" in page and "It cannot be undone" in page
    schedule.refresh_from_db()
    assert schedule.status == "active"
    done = signed_in.post(confirm, follow=True)
    assert "Cancelled. Nothing more will be paid by it." in done.content.decode()
    schedule.refresh_from_db()
    assert schedule.status == "cancelled"
    assert "there is nothing to cancel" in signed_in.get(confirm).content.decode()


def test_another_customers_schedule_is_404_and_cannot_be_cancelled(
    client, alice, alice_savings, alice_current, bob, bob_savings
):
    schedule = _own_schedule(alice, alice_savings, alice_current)
    client.force_login(bob)
    url = reverse("scheduled_detail", args=[schedule.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "cancel"}).status_code == 404
    assert client.get(reverse("scheduled_cancel", args=[schedule.pk])).status_code == 404
    assert client.post(reverse("scheduled_cancel", args=[schedule.pk])).status_code == 404
    schedule.refresh_from_db()
    assert schedule.status == "active"
    assert alice_current.masked_number not in client.get(LIST).content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for url in (LIST, NEW):
        assert client.get(url)["Location"].startswith(reverse("login"))


def test_the_list_shows_the_last_failure_with_its_reason(signed_in, alice, alice_current):
    from tests.conftest import fund
    from tests.factories import AccountFactory

    poor = fund(AccountFactory(owner=alice, name="Pocket"), 10_00)
    _own_schedule(alice, poor, alice_current)
    services.scheduled_transfers_run()
    body = signed_in.get(LIST).content.decode()
    assert "Last failed on 7 Dec 2026" in body and "Not enough money" in body


def test_the_step_up_summary_says_when_with_the_count_or_end_and_days_without_a_leading_zero(
    signed_in, settings, alice_savings, alice_current
):
    settings.TRANSFER_STEP_UP_PAISE = 1_000_00
    cases = [
        (
            {"frequency": "weekly", "count": "4", "first_date": "2026-12-07"},
            "Every week, 4 times, from 7 Dec 2026",
        ),
        (
            {"frequency": "monthly", "first_date": "01/01/2027", "end_date": "2027-03-31"},
            "Every month, from 1 Jan 2027 to 31 Mar 2027 at the latest",
        ),
        ({"frequency": "once", "first_date": "2027-01-01"}, "Once, on 1 Jan 2027"),
    ]
    for fields, when in cases:
        asked = signed_in.post(NEW, _data(alice_savings, alice_current, **fields))
        page = signed_in.get(asked["Location"]).content.decode()
        assert when in page
        assert "01 Jan" not in page


def test_the_date_hint_gives_the_format(signed_in):
    form = signed_in.get(NEW).context["form"]
    assert "e.g. 31/12/2026" in form.fields["first_date"].help_text
