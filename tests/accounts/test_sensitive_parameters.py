"""Every view that takes a password or a code hides its POST from error reports
(django.views.decorators.debug.sensitive_post_parameters): a crash there must not mail or log a secret."""

import pytest
from django.urls import reverse
from django.views.debug import SafeExceptionReporterFilter

from tests.factories import PASSWORD
from tests.twofactor import force_login_verified

SECRET = "123456-or-a-password"

VIEWS = [
    ("login", {"username": "alice@example.com", "password": SECRET}),
    ("login_verify", {"code": SECRET}),
    ("step_up", {"code": SECRET, "password": SECRET}),
    ("password_change", {"old_password": SECRET, "new_password1": SECRET, "new_password2": SECRET}),
    ("two_factor", {"code": SECRET}),
    ("two_factor_disable", {"code": SECRET}),
    ("two_factor_backup_codes_new", {"code": SECRET}),
    ("report_compromise", {"password": SECRET}),
    ("admin:login", {"username": "alice@example.com", "password": SECRET}),
]


@pytest.mark.parametrize(("name", "data"), VIEWS, ids=[name for name, _ in VIEWS])
def test_it_hides_every_posted_secret_from_error_reports(client, alice, name, data):
    if name not in ("login", "login_verify", "admin:login"):
        force_login_verified(client, alice)
    url = reverse(name) + ("?action=2fa.disable&next=/" if name == "step_up" else "")
    response = client.post(url, data)
    request = response.wsgi_request
    assert getattr(request, "sensitive_post_parameters", None) == "__ALL__", name
    shown = SafeExceptionReporterFilter().get_post_parameters(request)
    assert SECRET not in str(dict(shown))
    assert PASSWORD not in str(dict(shown))
