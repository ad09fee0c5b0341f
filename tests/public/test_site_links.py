"""The public pages are reachable from every page, for anonymous and signed-in visitors alike."""

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/login/", "/rates/", "/faq/"])
def test_anonymous_pages_link_the_rates_and_the_faq(client, path):
    page = client.get(path).content.decode()

    assert 'href="/rates/"' in page
    assert 'href="/faq/"' in page


def test_the_dashboard_links_them_too(client):
    client.force_login(UserFactory())

    page = client.get("/").content.decode()

    assert 'href="/rates/"' in page
    assert 'href="/faq/"' in page


@pytest.mark.parametrize("path", ["/rates/", "/faq/"])
def test_a_public_page_is_open_to_anonymous_visitors(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert "Online banking" in response.content.decode()


def test_robots_txt_lets_search_engines_read_the_public_pages(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /admin/" in lines
    assert not any(line.strip() in ("Disallow: /", "Disallow: /rates/", "Disallow: /faq/") for line in lines)
