"""Step-up (accounts/stepup.py): a fresh proof, bound to one action (and binding), used once."""

import datetime
import re
from urllib.parse import quote

import pytest
import time_machine
from django.test import RequestFactory
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.stepup import (
    step_up_binding,
    step_up_consume,
    step_up_redirect,
    step_up_satisfied,
)
from portal.models import AuditEvent
from tests.factories import PASSWORD
from tests.twofactor import BACKUP_CODES, code_now, enrol

NOON = datetime.datetime(2026, 3, 2, 12, 0, 5, tzinfo=datetime.UTC)


def _url(action: str, next_url: str = "/") -> str:
    return reverse("step_up") + f"?action={action}&next={quote(next_url)}"


def _request(client):
    """A request carrying the test client's session, to call the function API as a view would."""
    request = RequestFactory().get("/")
    request.session = client.session
    return request


@pytest.fixture
def device(alice):
    return enrol(alice)


def test_it_is_required_then_satisfied_then_used_up(client, alice, device):
    client.force_login(alice)
    url = reverse("two_factor_disable")
    response = client.get(url)
    assert response["Location"] == _url("2fa.disable", url)

    page = client.get(response["Location"]).content.decode()
    assert "To turn off two-factor authentication, type the code your authenticator app shows" in page
    assert client.post(response["Location"], {"code": code_now(device)})["Location"] == url

    assert client.get(url).status_code == 200  # looking does not use it up
    assert client.post(url).status_code == 302  # carried out: two-factor is off
    enrol(alice)
    assert client.post(url)["Location"].startswith(reverse("step_up"))  # used up

    event = AuditEvent.objects.get(action="stepup.success")
    assert (event.actor, event.after) == (alice, {"action": "2fa.disable", "method": "otp"})


def test_a_grant_for_one_action_does_not_satisfy_another(client, alice, device):
    client.force_login(alice)
    client.post(_url("2fa.disable"), {"code": code_now(device)})
    response = client.post(reverse("two_factor_backup_codes_new"))
    assert response["Location"].startswith(_url("2fa.backup_codes.regenerate", ""))
    request = _request(client)
    assert step_up_satisfied(request, "2fa.disable")
    assert not step_up_satisfied(request, "payee.add")


def test_a_grant_is_bound_to_what_the_view_asked_for(client, alice):
    client.force_login(alice)
    ten_lakh = step_up_binding("payee-7", 10_00_000_00)
    request = _request(client)
    response = step_up_redirect(request, "transfer.large", ten_lakh, next_url="/transfers/new/")
    request.session.save()
    assert response["Location"] == _url("transfer.large", "/transfers/new/")

    page = client.get(response["Location"]).content.decode()
    assert "type your password again" in page  # alice has no two-factor: the password stands in
    assert client.post(response["Location"], {"password": PASSWORD})["Location"] == "/transfers/new/"

    request = _request(client)
    assert not step_up_satisfied(request, "transfer.large")  # unbound
    assert not step_up_consume(request, "transfer.large", step_up_binding("payee-7", 1_00))
    # a wrong binding drops the grant: it cannot be tried again with the right one
    assert not step_up_consume(request, "transfer.large", ten_lakh)


def test_a_bound_grant_is_used_once(client, alice):
    client.force_login(alice)
    binding = step_up_binding("payee-7", 75_000_00)
    request = _request(client)
    step_up_redirect(request, "transfer.large", binding)
    request.session.save()
    client.post(_url("transfer.large"), {"password": PASSWORD})
    request = _request(client)
    assert step_up_satisfied(request, "transfer.large", binding)
    assert step_up_consume(request, "transfer.large", binding)
    assert not step_up_consume(request, "transfer.large", binding)


def test_a_grant_lasts_five_minutes(client, alice, device):
    client.force_login(alice)
    with time_machine.travel(NOON, tick=False):
        client.post(_url("2fa.disable"), {"code": code_now(device)})
    with time_machine.travel(NOON + datetime.timedelta(minutes=5), tick=False):
        assert step_up_satisfied(_request(client), "2fa.disable")
    with time_machine.travel(NOON + datetime.timedelta(minutes=5, seconds=1), tick=False):
        assert not step_up_satisfied(_request(client), "2fa.disable")
        assert client.get(reverse("two_factor_disable"))["Location"].startswith(reverse("step_up"))


def test_it_accepts_a_backup_code_and_marks_the_session_verified(client, alice, device):
    client.force_login(alice)
    before = client.session.session_key
    assert client.post(_url("2fa.disable"), {"code": BACKUP_CODES[3]}).status_code == 302
    assert client.session[DEVICE_ID_SESSION_KEY].startswith("otp_static.")
    assert client.session.session_key != before
    assert client.post(_url("2fa.disable"), {"code": BACKUP_CODES[3]}).status_code == 200  # used


def test_it_refuses_a_wrong_code_and_records_it(client, alice, device):
    client.force_login(alice)
    response = client.post(_url("2fa.disable"), {"code": "12345x"})
    assert response.status_code == 200
    assert "That code did not work" in response.content.decode()
    assert not step_up_satisfied(_request(client), "2fa.disable")
    event = AuditEvent.objects.get(action="stepup.failure")
    assert (event.actor, event.after) == (alice, {"action": "2fa.disable", "method": "otp", "failures": 1})


def test_it_refuses_a_wrong_password(client, alice):
    client.force_login(alice)
    response = client.post(_url("payee.add"), {"password": "not-it"})
    assert "That password is not right" in response.content.decode()
    assert AuditEvent.objects.get(action="stepup.failure").after["method"] == "password"


def test_it_signs_out_after_five_wrong_answers(client, alice):
    client.force_login(alice)
    for _ in range(4):
        assert client.post(_url("payee.add"), {"password": "not-it"}).status_code == 200
    response = client.post(_url("payee.add"), {"password": "not-it"})
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_it_returns_only_to_pages_of_this_site(client, alice):
    client.force_login(alice)
    response = client.post(_url("payee.add", "https://evil.example/"), {"password": PASSWORD})
    assert response["Location"] == reverse("dashboard")


def test_it_answers_an_unknown_action_with_404(client, alice):
    client.force_login(alice)
    assert client.get(_url("transfer.everything")).status_code == 404
    assert client.get(reverse("step_up")).status_code == 404


def test_it_sends_visitors_to_sign_in(client, db):
    assert client.get(_url("payee.add"))["Location"].startswith(reverse("login"))


def test_it_sends_an_htmx_request_to_the_step_up_page_as_a_whole_page(client, alice):
    client.force_login(alice)
    response = client.post(reverse("two_factor_disable"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == _url("2fa.disable", reverse("two_factor_disable"))


def test_the_summary_of_a_granted_request_is_not_shown_again(client, alice):
    """Once the customer proved who they are, the step-up page opened again repeats nothing: the grant it
    would give is for no transfer, so "What you are confirming: ₹75,000.00" would be false."""
    client.force_login(alice)
    request = _request(client)
    summary = [("Amount", "₹75,000.00"), ("To", "Current ••0012")]
    step_up_redirect(request, "transfer.large", step_up_binding("t", 75_000_00), summary=summary)
    request.session.save()
    assert "₹75,000.00" in client.get(_url("transfer.large")).content.decode()
    client.post(_url("transfer.large"), {"password": PASSWORD})

    page = client.get(_url("transfer.large")).content.decode()

    assert "₹75,000.00" not in page


@pytest.mark.parametrize(
    ("action", "offered"),
    [("payee.add", True), ("2fa.enable", False), ("transfer.large", False), ("transfer.payee", False)],
)
def test_it_offers_two_factor_only_where_the_link_leads_somewhere_useful(client, alice, action, offered):
    """Not on the way to turning it on (a link back to the same page), nor mid-transfer (away from it)."""
    client.force_login(alice)
    page = client.get(_url(action)).content.decode()
    assert ("we would ask for a code" in page) is offered
    assert (f'href="{reverse("two_factor")}"' in page.split("<main")[1]) is offered


def test_it_puts_the_cursor_in_the_password_or_code_field(client, alice):
    client.force_login(alice)
    field = re.search(r'<input[^>]*name="password"[^>]*>', client.get(_url("payee.add")).content.decode())
    assert field and " autofocus" in field.group(0)
    enrol(alice)
    field = re.search(r'<input[^>]*name="code"[^>]*>', client.get(_url("payee.add")).content.decode())
    assert field and " autofocus" in field.group(0)


@pytest.mark.parametrize("uses_code", [False, True])
def test_signing_out_after_five_wrong_answers_names_what_was_wrong(client, alice, uses_code):
    if uses_code:
        enrol(alice)
    client.force_login(alice)
    answer = {"code": "000000"} if uses_code else {"password": "not-it"}
    for _ in range(4):
        client.post(_url("payee.add"), answer)
    page = client.post(_url("payee.add"), answer, follow=True).content.decode()
    wanted = "Too many wrong codes." if uses_code else "Too many wrong passwords."
    assert f"{wanted} For your safety we signed you out." in page
    assert "wrong answers" not in page
