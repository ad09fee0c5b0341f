"""Staff enter the admin only with two-factor auth proved in this session."""

import pytest
from django.urls import reverse

from accounts.models import AuthenticatorApp
from portal.models import AuditEvent
from tests.factories import PASSWORD, UserFactory
from tests.twofactor import code_now, enrol, force_login_verified, step_up_with_password

ADMIN = reverse("admin:index")


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


def test_it_refuses_staff_without_two_factor_and_says_where_to_turn_it_on(client, staff):
    client.force_login(staff)
    response = client.get(ADMIN, follow=True)
    assert response.status_code == 403
    page = response.content.decode()
    assert "Turn on two-factor authentication first" in page
    assert "enrol_totp" in page  # out of band: not the customer's enrolment page
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 302


def test_it_refuses_staff_whose_session_has_not_proved_a_code(client, staff):
    device = enrol(staff)
    client.force_login(staff)  # e.g. a session from before two-factor was turned on
    response = client.get(ADMIN, follow=True)
    assert response.status_code == 403
    assert "Confirm your code to enter the admin" in response.content.decode()

    step_up = reverse("step_up") + f"?action=admin.enter&next={ADMIN}"
    assert client.post(step_up, {"code": code_now(device)})["Location"] == ADMIN
    assert client.get(ADMIN).status_code == 200


def test_it_lets_staff_in_after_signing_in_with_a_code(client, staff):
    device = enrol(staff)
    client.post(reverse("login"), {"username": staff.email, "password": PASSWORD, "next": ADMIN})
    assert client.post(reverse("login_verify"), {"code": code_now(device)})["Location"] == ADMIN
    assert client.get(ADMIN).status_code == 200


def test_it_lets_no_staff_member_enrol_on_the_customers_page_after_a_password_step_up(client, staff):
    """The attack of issue 9 item 5: whoever first knows a staff password enrols their own app."""
    client.force_login(staff)
    step_up_with_password(client)
    response = client.get(reverse("two_factor"))
    assert response.status_code == 403
    assert "set up by an administrator" in response.content.decode()
    assert client.post(reverse("two_factor"), {"code": "123456"}).status_code == 403
    assert not AuthenticatorApp.objects.filter(user=staff).exists()
    assert client.get(ADMIN).status_code == 302


def test_it_never_signs_anyone_in_with_the_admins_password_form(client, staff):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    response = client.post(reverse("admin:login"), {"username": staff.email, "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_it_tells_a_customer_the_admin_is_for_staff(client, alice):
    force_login_verified(client, alice)
    response = client.get(ADMIN, follow=True)
    assert response.status_code == 403
    assert "for SecureBank staff" in response.content.decode()


def test_it_never_switches_a_verified_staff_member_to_another_person_by_their_password(client, staff):
    """A signed-in, verified member of staff POSTs a colleague's email and password to /admin/login/: they
    stay who they are, and the colleague (who has a second factor) is not signed in without their code."""
    colleague = UserFactory(email="colleague@example.com", is_staff=True, is_superuser=True)
    enrol(colleague)
    force_login_verified(client, staff)
    response = client.post(reverse("admin:login"), {"username": colleague.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)
    assert not AuditEvent.objects.filter(action="login.success", actor=colleague).exists()
    assert client.get(ADMIN).wsgi_request.user == staff


def test_it_drops_the_verified_mark_when_the_session_changes_hands(client, staff):
    colleague = UserFactory(email="colleague@example.com", is_staff=True, is_superuser=True)
    enrol(colleague)
    force_login_verified(client, staff)
    assert client.get(ADMIN).status_code == 200
    session = client.session  # the session now claims the colleague, keeping the staff member's proof
    session["_auth_user_id"] = str(colleague.pk)
    session["_auth_user_hash"] = colleague.get_session_auth_hash()
    session.save()
    assert client.get(ADMIN).status_code == 302


def test_it_counts_admin_login_posts_towards_the_sign_in_rate_limits(client, staff, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_ip": (100, 60), "login_email": (2, 60)}
    answers = [
        client.post(reverse("admin:login"), {"username": staff.email, "password": "guess"}).status_code
        for _ in range(3)
    ]
    assert answers == [302, 302, 429]
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_ip": (1, 60), "login_email": (100, 60)}
    assert (
        client.post(reverse("admin:login"), {"username": "x@example.com", "password": "y"}).status_code == 429
    )


def test_it_hides_posted_passwords_from_error_reports_at_the_admin_login(client, staff):
    response = client.post(reverse("admin:login"), {"username": staff.email, "password": PASSWORD})
    assert response.wsgi_request.sensitive_post_parameters == "__ALL__"
