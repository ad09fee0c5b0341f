from django.urls import reverse

from tests.factories import PASSWORD


def test_it_logs_in_by_email_in_any_case(client, alice):
    response = client.post(reverse("login"), {"username": "Alice@Example.COM", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


def test_it_refuses_a_wrong_password_with_a_clear_message(client, alice):
    response = client.post(reverse("login"), {"username": "alice@example.com", "password": "wrong"})
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_gives_an_unknown_email_the_same_answer_as_a_wrong_password(client, alice):
    wrong_password = client.post(reverse("login"), {"username": "alice@example.com", "password": "nope"})
    unknown = client.post(reverse("login"), {"username": "nobody@example.com", "password": "nope"})
    assert wrong_password.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()


def test_it_returns_to_the_page_asked_for_after_login(client, alice):
    next_url = reverse("transfer_new")
    response = client.post(
        reverse("login") + f"?next={next_url}",
        {"username": "alice@example.com", "password": PASSWORD, "next": next_url},
    )
    assert response["Location"] == next_url


def test_it_logs_out_on_post_only(client, alice):
    client.force_login(alice)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


def test_a_signed_in_page_loads_its_user_in_one_query(client, alice, django_assert_num_queries):
    client.force_login(alice)
    with django_assert_num_queries(1):  # the user row; the session lives in the cache
        assert client.get(reverse("session_ping")).status_code == 200


def test_a_deactivated_customer_is_signed_out_at_the_next_request(client, alice):
    client.force_login(alice)
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_password_changed_elsewhere_ends_this_session(client, alice):
    client.force_login(alice)
    alice.set_password("another-long-passphrase-2026")
    alice.save(update_fields=["password"])
    assert client.get(reverse("dashboard")).status_code == 302


def test_a_session_naming_a_user_that_is_not_there_is_anonymous(client, alice):
    client.force_login(alice)
    session = client.session
    session["_auth_user_id"] = str(alice.pk + 1000)
    session.save()
    assert client.get(reverse("dashboard")).status_code == 302


def test_it_sends_a_signed_in_customer_asked_back_to_the_sign_in_page_to_the_dashboard(client, alice):
    """/login/?next=/login/ raised Django's redirect-loop error (a 500) for a signed-in customer."""
    client.force_login(alice)
    for url in ("/login/?next=/login/", "/login/?next=/login/%3Fnext%3D/login/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("dashboard")
