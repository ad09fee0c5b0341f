"""The client's address (portal/client_address.py): behind trusted proxies, with forged headers from
outside, and over a unix socket. Driven through the sign-in page, which records it in the audit trail and
the session registry and counts it in the rate limits and the lockout."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import UserSession
from portal import client_address
from portal.client_address import client_ip, client_key
from portal.models import AuditEvent
from tests.factories import PASSWORD

PROXY = "10.0.0.2"  # the load balancer, as gunicorn sees it
CUSTOMER = "203.0.113.9"
ATTACKER = "198.51.100.66"
WRONG = "not-the-password"


def _sign_in(client, password=PASSWORD, email="alice@example.com", **meta):
    return client.post(reverse("login"), {"username": email, "password": password}, **meta)


def _ip(**meta) -> str | None:
    return client_ip(RequestFactory().get("/", **meta))


@pytest.fixture
def one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1


@pytest.fixture
def proxy_network(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]


def test_it_records_the_customer_behind_one_trusted_proxy(client, alice, one_proxy):
    # The customer forged a first entry; the proxy appended the address it saw.
    response = _sign_in(client, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{ATTACKER}, {CUSTOMER}")
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="login.success").ip == CUSTOMER
    assert UserSession.objects.get(user=alice).ip == CUSTOMER


def test_it_takes_the_right_most_untrusted_address_behind_trusted_networks(proxy_network):
    chain = f"{ATTACKER}, {CUSTOMER}, 10.1.2.3"  # forged, the client, an inner proxy
    assert _ip(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=chain) == CUSTOMER
    assert _ip(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="10.9.9.9") == "10.9.9.9"  # all proxies: the first
    assert _ip(REMOTE_ADDR=PROXY) == PROXY  # the proxy's own health check


def test_it_counts_customers_behind_one_proxy_each_on_their_own(client, alice, bob, one_proxy, settings):
    settings.RATE_LIMITS = {**django_settings.RATE_LIMITS, "login_ip": (2, 60)}
    for _ in range(2):
        _sign_in(client, WRONG, email="guess@example.com", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ATTACKER)
    limited = _sign_in(
        client, WRONG, email="guess@example.com", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ATTACKER
    )
    assert limited.status_code == 429
    # Another customer through the same proxy is not the attacker.
    assert _sign_in(client, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CUSTOMER).status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


def test_it_ignores_a_forged_header_from_a_client_that_is_not_a_proxy(client, alice, settings):
    settings.RATE_LIMITS = {**django_settings.RATE_LIMITS, "login_ip": (2, 60)}
    for n in range(2):
        _sign_in(client, WRONG, REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    # A new made-up address each time does not buy more attempts.
    third = _sign_in(
        client, REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="192.0.2.99", HTTP_X_REAL_IP="192.0.2.98"
    )
    assert third.status_code == 429
    assert set(AuditEvent.objects.values_list("ip", flat=True)) == {ATTACKER}


def test_it_ignores_the_header_of_a_peer_outside_the_trusted_networks(proxy_network):
    assert _ip(REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=CUSTOMER) == ATTACKER


def test_it_reads_only_the_header_the_proxies_set(one_proxy):
    assert _ip(REMOTE_ADDR=PROXY, HTTP_X_REAL_IP=ATTACKER, HTTP_FORWARDED=f"for={ATTACKER}") == PROXY


def test_over_a_unix_socket_there_is_no_address_but_still_a_rate_limit(client, alice, settings):
    settings.RATE_LIMITS = {**django_settings.RATE_LIMITS, "login_ip": (2, 60)}
    assert _ip(REMOTE_ADDR="") is None
    assert client_key(RequestFactory().get("/", REMOTE_ADDR="")) == "unknown"
    for n in range(2):
        _sign_in(
            client, WRONG, email=f"guess{n}@example.com", REMOTE_ADDR="", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}"
        )
    # Every request without an address shares one bucket: limited, never unlimited.
    assert _sign_in(client, REMOTE_ADDR="").status_code == 429
    assert list(AuditEvent.objects.values_list("ip", flat=True)) == [None, None]


def test_over_a_unix_socket_from_a_local_proxy_the_header_names_the_client(one_proxy):
    # nginx on this machine relays to gunicorn's socket: with a proxy count, the socket's peer is nginx.
    assert _ip(REMOTE_ADDR="", HTTP_X_FORWARDED_FOR=f"{ATTACKER}, {CUSTOMER}") == CUSTOMER


def test_over_a_unix_socket_behind_trusted_networks_the_header_names_the_client(client, alice, proxy_network):
    # nginx on this machine relays to gunicorn's socket: with TRUSTED_PROXIES too, the socket's peer is the
    # nearest trusted proxy, and trusted hops before it are skipped.
    assert _ip(REMOTE_ADDR="", HTTP_X_FORWARDED_FOR=f"{ATTACKER}, {CUSTOMER}") == CUSTOMER
    assert _ip(REMOTE_ADDR="", HTTP_X_FORWARDED_FOR=f"{ATTACKER}, {CUSTOMER}, 10.1.2.3") == CUSTOMER
    assert _ip(REMOTE_ADDR="") is None  # nothing relayed: still no address
    response = _sign_in(client, REMOTE_ADDR="", HTTP_X_FORWARDED_FOR=f"{ATTACKER}, {CUSTOMER}")
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="login.success").ip == CUSTOMER


def test_over_a_unix_socket_without_a_proxy_setting_it_logs_an_error_once(caplog):
    client_address._report_no_address.cache_clear()  # a new process
    with caplog.at_level(logging.ERROR, logger="portal.client_address"):
        assert _ip(REMOTE_ADDR="") is None
        assert _ip(REMOTE_ADDR="", HTTP_X_FORWARDED_FOR=CUSTOMER) is None
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert "neither TRUSTED_PROXY_COUNT nor TRUSTED_PROXIES is set" in record.getMessage()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TRUSTED_PROXIES", "10.0.0.0/8,not-a-network", "TRUSTED_PROXIES: 'not-a-network' is not"),
        ("TRUSTED_PROXY_COUNT", "-1", "TRUSTED_PROXY_COUNT must be 0 or more"),
    ],
)
def test_it_refuses_to_start_with_a_proxy_setting_it_cannot_read(tmp_path, variable, value, message):
    """A typo must not quietly trust nobody (or everybody)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update({"DEBUG": "1", "VAR_DIR": str(tmp_path), variable: value})
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert message in result.stderr
