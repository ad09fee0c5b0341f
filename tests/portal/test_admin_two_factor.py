"""Staff enter the admin only with two-factor auth proved in this session."""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

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
    assert reverse("two_factor") in page
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


def test_it_lets_staff_in_once_they_enrol(client, staff):
    client.force_login(staff)
    step_up_with_password(client)
    client.get(reverse("two_factor"))
    device = TOTPDevice.objects.get(user=staff)
    client.post(reverse("two_factor"), {"code": code_now(device)})
    assert client.get(ADMIN).status_code == 200


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
