"""Readiness (/ready/): PostgreSQL, the cache and the Celery broker answer. Liveness (/health/) is tested
in test_site_views.py. Failures are real: a subprocess points the portal at a closed port."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
CLOSED = "127.0.0.1:1"  # nothing listens on port 1: a connection is refused at once

SCRIPT = """
from django.test import Client
response = Client().get("/ready/", headers={"X-Request-ID": "ready-probe-1"})
print("READY", response.status_code, response.content.decode(), response["Cache-Control"])
"""


def _ready_in_subprocess(tmp_path, **env_overrides: str) -> tuple[int, dict, str, list[dict]]:
    env = {**os.environ, "VAR_DIR": str(tmp_path / "var"), **env_overrides}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("READY "))
    _, status, rest = line.split(" ", 2)
    body, cache_control = rest.rsplit("} ", 1)
    logs = [json.loads(log) for log in result.stderr.splitlines() if log.startswith("{")]
    return int(status), json.loads(body + "}"), cache_control, logs


@pytest.fixture
def test_database_url(db) -> str:
    """The test database, as a URL a subprocess can use."""
    s = connection.settings_dict
    credentials = f"{quote(s['USER'], safe='')}:{quote(s['PASSWORD'] or '', safe='')}"
    return f"postgres://{credentials}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_it_is_ready_when_the_database_cache_and_broker_answer(client, db):
    response = client.get(reverse("ready"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"database": "ok", "cache": "ok", "broker": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_it_answers_only_get_and_head(client, db):
    assert client.head(reverse("ready")).status_code == 200
    assert client.post(reverse("ready")).status_code == 405


def test_it_is_not_ready_without_the_database_and_says_so(tmp_path):
    status, body, cache_control, logs = _ready_in_subprocess(
        tmp_path, DATABASE_URL=f"postgres://postgres@{CLOSED}/x"
    )
    assert status == 503
    assert body == {"database": "error", "cache": "ok", "broker": "ok"}
    assert "no-store" in cache_control
    failure = next(log for log in logs if log["message"] == "Readiness check failed: database")
    assert failure["level"] == "WARNING"
    assert failure["request_id"] == "ready-probe-1"
    assert "OperationalError" in failure["exc_info"]


def test_it_is_not_ready_without_redis_and_says_so(tmp_path, test_database_url):
    status, body, _, logs = _ready_in_subprocess(
        tmp_path, DATABASE_URL=test_database_url, REDIS_URL=f"redis://{CLOSED}/15"
    )
    assert status == 503
    assert body == {"database": "ok", "cache": "error", "broker": "error"}
    assert {log["message"] for log in logs} >= {
        "Readiness check failed: cache",
        "Readiness check failed: broker",
    }


def test_it_answers_probes_over_plain_http_when_everything_else_redirects_to_https(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(reverse("login")).status_code == 301
    assert client.get(reverse("health")).status_code == 200
    assert client.get(reverse("ready")).status_code == 200
