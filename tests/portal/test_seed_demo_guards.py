"""seed_demo refuses a database that may be a real bank, and never gives a staff user the published password
outside the embedded default (DEBUG on, SQLite). The suite runs with DEBUG off, as production does."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account, User
from portal.seeding import demo
from tests.factories import UserFactory
from transactions.models import Transaction

ROOT = Path(__file__).resolve().parents[2]


def seed_demo(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def _nothing_loaded() -> bool:
    emails = [demo.STAFF_EMAIL, *(customer.email for customer in demo.CUSTOMERS)]
    return not User.objects.filter(email__in=emails).exists() and not Transaction.objects.exists()


def test_it_refuses_to_run_with_debug_off(db):
    with pytest.raises(CommandError, match="DEBUG is off"):
        seed_demo()
    assert _nothing_loaded()


def test_it_refuses_a_database_holding_customers_no_loader_made(db, settings):
    settings.DEBUG = True
    UserFactory(email="bob.menon@example.org", full_name="Bob Menon")
    with pytest.raises(CommandError, match="1 customers that no loader made"):
        seed_demo()
    assert _nothing_loaded()


def test_it_never_touches_a_user_with_a_demo_email_it_did_not_make(db):
    """Even when told to load beside others: the real alice@example.com keeps her accounts, her password."""
    alice = UserFactory(email="alice@example.com", full_name="Alice Iyer")
    password = alice.password
    with pytest.raises(CommandError, match=r"alice@example\.com exists and was not made by seed_demo"):
        seed_demo("--allow-production")
    alice.refresh_from_db()
    assert alice.password == password
    assert not Account.objects.filter(owner=alice).exists()
    assert not User.objects.filter(email=demo.STAFF_EMAIL).exists()
    assert not Transaction.objects.exists()


def test_it_leaves_a_real_staff_user_with_the_demo_email_alone(db):
    staff = UserFactory(email=demo.STAFF_EMAIL, is_staff=True, is_superuser=True)
    with pytest.raises(CommandError, match=r"staff@example\.com exists and was not made by seed_demo"):
        seed_demo("--allow-production")
    staff.refresh_from_db()
    assert not staff.check_password(demo.DEMO_PASSWORD)


@pytest.fixture
def bare_env(tmp_path) -> dict[str, str]:
    """`make run` on a bare machine: no DATABASE_URL, DEBUG=1 (as the Makefile asks), SQLite in var/."""
    drop = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "HTTPS", "ALLOWED_HOSTS", "CACHE_KEY_PREFIX"}
    env = {k: v for k, v in os.environ.items() if k not in drop and k != "SEEDING_ENABLED"}
    env.update({"DEBUG": "1", "VAR_DIR": str(tmp_path / "var")})
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


STAFF_CHECK = """
from accounts.models import User
from portal.seeding import DEMO_PASSWORD, STAFF_EMAIL
staff = User.objects.get(email=STAFF_EMAIL)
print("STAFF-DEMO-PASSWORD", staff.is_superuser and staff.check_password(DEMO_PASSWORD))
"""


def test_it_gives_the_staff_user_the_demo_password_only_on_the_embedded_default(bare_env):
    assert _manage(bare_env, "migrate", "--noinput").returncode == 0
    seeded = _manage(bare_env, "seed_demo")
    assert seeded.returncode == 0, seeded.stderr
    assert f"Staff password (the demo's, embedded default only): {demo.DEMO_PASSWORD}" in seeded.stdout
    checked = _manage(bare_env, "shell", "-c", STAFF_CHECK)
    assert "STAFF-DEMO-PASSWORD True" in checked.stdout, checked.stderr
    again = _manage(bare_env, "seed_demo")
    assert "already loaded" in again.stdout
