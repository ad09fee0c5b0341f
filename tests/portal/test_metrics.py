"""Prometheus metrics at /metrics: for a scraper on this machine or signed-in staff, a 404 for anyone else."""

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from portal import metrics
from tests.factories import PASSWORD, UserFactory
from tests.keys import form_key
from tests.twofactor import enrol, force_login_verified

URL = "/metrics"
REMOTE = {"REMOTE_ADDR": "203.0.113.9"}


def _samples(response) -> dict[tuple[str, tuple], float]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def _transfers(outcome: str) -> float:
    return metrics.TRANSFERS.labels(outcome)._value.get()


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_it_serves_the_metrics_to_this_machine(client, db, address):
    client.get("/health/")
    samples = _samples(client.get(URL, REMOTE_ADDR=address))
    labels = (("method", "GET"), ("status", "200"), ("view", "health"))
    key = ("portal_request_duration_seconds_count", labels)
    assert samples[key] >= 1


def test_it_hides_the_metrics_from_anyone_else(client, alice):
    assert client.get(URL, **REMOTE).status_code == 404
    # A request relayed by a proxy on this machine is from the proxy's client, not from this machine.
    assert client.get(URL, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 404
    client.force_login(alice)  # a customer
    assert client.get(URL, **REMOTE).status_code == 404


def test_it_serves_the_metrics_to_staff_whose_session_proved_their_second_factor(client, db):
    staff = UserFactory(email="ops@example.com", is_staff=True)
    force_login_verified(client, staff)
    response = client.get(URL, **REMOTE)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_it_hides_the_metrics_from_staff_signed_in_with_a_password_only(client, db):
    staff = UserFactory(email="ops@example.com", is_staff=True)
    client.force_login(staff)  # a stolen staff password, or a session before the code
    assert client.get(URL, **REMOTE).status_code == 404
    enrol(staff)  # a device exists, but this session never proved it
    assert client.get(URL, **REMOTE).status_code == 404


@pytest.mark.parametrize(
    "header",
    [
        {"HTTP_FORWARDED": "for=203.0.113.9;proto=https"},
        {"HTTP_X_REAL_IP": "203.0.113.9"},
        {"HTTP_X_FORWARDED_FOR": "203.0.113.9"},
    ],
)
def test_it_hides_the_metrics_from_a_client_relayed_by_a_proxy_on_this_machine(client, db, header):
    """nginx on the host relays the internet to 127.0.0.1, saying who its client is in one header or
    another: none of them is this machine."""
    assert client.get(URL, REMOTE_ADDR="127.0.0.1", **header).status_code == 404


def test_it_hides_the_metrics_from_a_client_of_a_trusted_local_proxy(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client.get(URL, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 404
    assert client.get(URL, REMOTE_ADDR="127.0.0.1").status_code == 200  # the scraper itself, not relayed


def test_it_counts_transfers_by_outcome(client, alice, alice_savings, alice_current):
    client.force_login(alice)
    data = {
        "source": alice_savings.pk,
        "destination": alice_current.pk,
        "amount": "10",
        "description": "",
        "idempotency_key": form_key("metrics-1"),
    }
    before = {outcome: _transfers(outcome) for outcome in ("posted", "invalid", "insufficient_funds")}
    assert client.post("/transfers/confirm/", data).status_code == 303
    client.post("/transfers/confirm/", {**data, "amount": "x", "idempotency_key": form_key("metrics-x")})
    client.post("/transfers/confirm/", {**data, "amount": "49,995", "idempotency_key": form_key("metrics-2")})
    samples = _samples(Client().get(URL, REMOTE_ADDR="127.0.0.1"))
    for outcome, added in (("posted", 1), ("invalid", 1), ("insufficient_funds", 1)):
        assert samples[("portal_transfers_total", (("outcome", outcome),))] == before[outcome] + added


def test_it_counts_sign_ins_and_lockouts(client, alice):
    success = metrics.LOGINS.labels("success")._value.get()
    failure = metrics.LOGINS.labels("failure")._value.get()
    lockouts = metrics.LOCKOUTS._value.get()
    client.post("/login/", {"username": alice.email, "password": "wrong-password-here"})
    client.post("/login/", {"username": alice.email, "password": PASSWORD})
    metrics.lockout_counted()
    samples = _samples(Client().get(URL, REMOTE_ADDR="127.0.0.1"))
    assert samples[("portal_logins_total", (("outcome", "success"),))] == success + 1
    assert samples[("portal_logins_total", (("outcome", "failure"),))] == failure + 1
    assert samples[("portal_lockouts_total", ())] == lockouts + 1


def test_it_adds_up_the_workers_in_multiprocess_mode(client, db, tmp_path, monkeypatch):
    """With PROMETHEUS_MULTIPROC_DIR set the page reads every worker's files (here: none yet)."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    response = client.get(URL, REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert "portal_transfers_total" not in response.content.decode()  # not the in-process registry


def test_a_made_up_method_adds_no_series(client, db):
    client.generic("BREW", "/health/")
    client.generic("BREW2", "/health/")
    methods = {
        dict(labels)["method"]
        for (name, labels) in _samples(client.get(URL, REMOTE_ADDR="127.0.0.1"))
        if name == "portal_request_duration_seconds_count"
    }
    assert "other" in methods
    assert not {"BREW", "BREW2"} & methods
