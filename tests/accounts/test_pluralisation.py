"""Numbers and words agree: "after 1 minute", never "after 1 minutes"."""

from django.template.loader import render_to_string
from django.test import RequestFactory

from accounts.middleware import _signed_out_message


def test_it_says_1_minute_and_1_hour_in_the_signed_out_message(settings):
    settings.SESSION_IDLE_TIMEOUT = 60
    settings.SESSION_ABSOLUTE_TIMEOUT = 3600
    assert "after 1 minute without activity" in _signed_out_message("idle")
    assert "at most 1 hour." in _signed_out_message("absolute")
    settings.SESSION_IDLE_TIMEOUT = 15 * 60
    assert "after 15 minutes without activity" in _signed_out_message("idle")


def test_it_says_1_minute_in_the_password_reset_pages_and_emails(db):
    request = RequestFactory().get("/")
    for name in ("accounts/password_reset_sent.html", "accounts/password_reset_invalid.html"):
        assert "for 1 minute" in render_to_string(name, {"minutes": 1}, request=request)
        assert "for 1 minutes" not in render_to_string(name, {"minutes": 1}, request=request)
    assert "within 1 minute:" in render_to_string("emails/password_reset.txt#body", {"minutes": 1})
    assert "for 1 minute." in render_to_string("emails/lockout.txt#body", {"minutes": 1})


def test_it_says_the_field_for_one_error_and_the_number_for_more(client, db):
    one = client.post("/login/", {"username": "alice@example.com", "password": ""}).content.decode()
    assert "Please correct the field marked below." in one
    assert "1 field" not in one
    two = client.post("/login/", {"username": "", "password": ""}).content.decode()
    assert "Please correct the 2 fields marked below." in two
