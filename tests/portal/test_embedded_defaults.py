"""With no DATABASE_URL or REDIS_URL the portal runs on embedded defaults: SQLite under var/, a local-memory
cache and Celery over a folder broker. `make run` depends on it (and asks for DEBUG=1), so it is tested in a
clean process. Debug mode is never the default: with nothing set the portal refuses to start."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
from django.conf import settings
from django.test import Client
from accounts.models import Account, User
from portal.celery import app
from transactions import services

assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3", settings.DATABASES
assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
assert settings.CELERY_BROKER_URL == "filesystem://"
assert settings.DEBUG
alice = User.objects.create_user("alice@example.com", "correct-horse-battery-staple", full_name="Alice Iyer")
savings = Account.objects.create(owner=alice, number="100000000001", name="Salary savings", kind="savings")
current = Account.objects.create(owner=alice, number="100000000002", name="Everyday current", kind="current")
services.deposit_create(account=savings, amount_paise=1_23_456_78, description="Salary", idempotency_key="s1")
services.transfer_create(initiator=alice, source=savings, destination=current, amount_paise=456_78,
                         description="", idempotency_key="t1")
# A transfer to a payee at another bank: the limits' one-statement read runs on SQLite too.
import datetime
from django.utils import timezone
from accounts.models import Payee
ravi = Payee.objects.create(owner=alice, name="Ravi", account_number="501000001234", ifsc="HDFC0001234",
                            bank_name="HDFC Bank", created_at=timezone.now() - datetime.timedelta(days=9))
sent = services.payee_transfer_create(initiator=alice, source=savings, payee=ravi, amount_paise=1_000_00,
                                      description="", idempotency_key="p1")
again = services.payee_transfer_create(initiator=alice, source=savings, payee=ravi, amount_paise=1_000_00,
                                       description="", idempotency_key="p1")
assert again.pk == sent.pk and sent.kind == "outward", (again.pk, sent.pk, sent.kind)
client = Client(HTTP_HOST="localhost")
client.force_login(alice)
response = client.get("/")
assert response.status_code == 200, response.status_code
body = response.content.decode()
assert "₹1,22,000.00" in body and "₹456.78" in body, body
# Every page without a parameter answers a signed-in customer without a server error on SQLite (a lookup
# that only PostgreSQL understands broke the security page here once).
from django.urls import URLPattern, URLResolver, get_resolver

def pages(resolver, prefix=""):
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if entry.namespace != "admin":
                yield from pages(entry, route)
        elif isinstance(entry, URLPattern) and "<" not in route and not route.startswith(("static", "^")):
            yield "/" + route.lstrip("^").rstrip("$")

wrong = {"username": "alice@example.com", "password": "not-her-password"}
Client(HTTP_HOST="localhost").post("/login/", wrong)
visited, broken = [], []
for url in sorted(set(pages(get_resolver()))):
    if url in ("/logout/",):
        continue
    status = client.get(url).status_code
    visited.append(url)
    if status >= 500:
        broken.append((url, status))
assert not broken, broken
assert {"/", "/security/", "/transfers/new/", "/rates/", "/faq/"} <= set(visited), visited
# The public pages on SQLite, rendered every time (no Redis to keep copies in): the rate sheet's window
# function, a past sheet, and the FAQ's plainer search with its marked words.
from portal.seeding.faq import seed_faq
from portal.seeding.rates import seed_rates
seed_rates(anchor=timezone.localdate())
seed_faq()
sheet = Client(HTTP_HOST="localhost").get("/rates/")
assert sheet.status_code == 200 and "Fixed deposits" in sheet.content.decode(), sheet.status_code
past = (timezone.localdate() - datetime.timedelta(days=200)).isoformat()
assert Client(HTTP_HOST="localhost").get("/rates/", {"as_of": past}).status_code == 200
found = Client(HTTP_HOST="localhost").get("/faq/", {"q": 'payee "cooling"'})
assert found.status_code == 200 and "<mark>" in found.content.decode(), found.content.decode()[:500]
hostile = Client(HTTP_HOST="localhost").get("/faq/", {"q": "<script>alert(1)</script> ' OR 1=1 --"})
assert hostile.status_code == 200 and "<script>alert(1)" not in hostile.content.decode()
app.send_task("portal.ping", ignore_result=True)
print("EMBEDDED-OK")
"""


@pytest.fixture
def bare_env(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "SECRET_KEY",
            "DEBUG",
            "HTTPS",
            "ALLOWED_HOSTS",
            "CACHE_KEY_PREFIX",
            "CONN_MAX_AGE",
            "DATABASE_OWNER_URL",
            "DATABASE_RUNTIME_ROLE",
            "SESSION_REDIS_URL",
            "CELERY_BROKER_URL",
        }
    }
    env["VAR_DIR"] = str(tmp_path / "var")
    return env


def _manage(env, *args):
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_it_migrates_and_serves_the_dashboard_on_sqlite_and_a_folder_broker(bare_env, tmp_path):
    bare_env["DEBUG"] = "1"  # as `make run` asks
    migrated = _manage(bare_env, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "var" / "portal.sqlite3").exists()

    served = _manage(bare_env, "shell", "-c", SCRIPT)
    assert served.returncode == 0, served.stderr
    assert "EMBEDDED-OK" in served.stdout
    queued = list((tmp_path / "var" / "broker" / "queue").iterdir())
    assert len(queued) == 1  # the task message waits in the folder broker for a worker


def test_it_refuses_to_start_with_nothing_set(bare_env):
    """No DATABASE_URL is no longer "debug mode on a key from the repo": a host with a typo in its
    environment does not start."""
    result = _manage(bare_env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("debug", ["0", "false", "yes-please"])
def test_it_turns_debug_on_only_when_asked_with_a_true_value(bare_env, debug):
    bare_env.update({"DEBUG": debug, "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "bank.example"})
    result = _manage(
        bare_env, "shell", "-c", "from django.conf import settings; print('DEBUG', settings.DEBUG)"
    )
    assert result.returncode == 0, result.stderr
    assert "DEBUG False" in result.stdout


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(bare_env):
    bare_env.update({"DEBUG": "0", "ALLOWED_HOSTS": "bank.example"})
    result = _manage(bare_env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_it_refuses_to_start_without_allowed_hosts_when_debug_is_off(bare_env):
    bare_env.update({"DEBUG": "0", "SECRET_KEY": "x" * 50})
    result = _manage(bare_env, "check")
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr
