from django.urls import reverse


def test_it_answers_health_without_a_session_or_database(client):
    # No db fixture: pytest-django makes any database access in this test an error.
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.content == b"ok"
    assert "no-cache" in response["Cache-Control"]


def test_it_answers_the_session_ping_for_a_signed_in_customer_only(client, alice):
    anonymous = client.get(reverse("session_ping"))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))
    client.force_login(alice)
    response = client.get(reverse("session_ping"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_it_serves_a_friendly_404_page(client, alice):
    client.force_login(alice)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We couldn't find that page" in response.content.decode()
