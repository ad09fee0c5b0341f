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


def test_the_500_page_stands_alone_with_working_links(rf):
    from portal.views import server_error

    response = server_error(rf.get("/anything/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert '<a class="brand" href="/">' in page  # drawn without a request context or a database
