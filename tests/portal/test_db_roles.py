"""The runtime database role (portal/dbroles.py): what the portal and the workers connect as.

The suite itself connects as the owner (it creates, migrates and flushes the test database). Here a second,
real connection logs in as the runtime role (DATABASE_RUNTIME_ROLE, `make roles` creates it) after
`manage.py db_roles`, as a deploy does after migrate: it is refused everything that rewrites the ledger or
the audit trail, and the portal's own code paths (sign-in, a transfer, sealing, sessions, 2FA, lockouts) and
a real Celery worker run on it."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from accounts.models import Account, User, UserSession
from accounts.sessions import session_registry_prune
from portal.audit import audit_record, audit_seal, audit_verify
from portal.celery import app as celery_app
from portal.dbroles import PROTECTED_TABLES
from portal.models import AuditEvent
from tests.factories import PASSWORD, AccountFactory, UserFactory
from tests.keys import form_key
from transactions import services
from transactions.models import Entry, Transaction

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def runtime_role(django_db_setup, django_db_blocker) -> str:
    """The runtime role with its grants on the test database, as `manage.py db_roles` leaves them."""
    role = settings.DATABASE_RUNTIME_ROLE
    owner = connections["default"].settings_dict["USER"]
    assert role and role != owner, (
        "DATABASE_RUNTIME_ROLE must name a role other than the suite's owner (make test sets it; make roles "
        "creates it)"
    )
    with django_db_blocker.unblock():
        call_command("db_roles")
    return role


def _runtime_connect(role: str) -> psycopg.Connection:
    params = connections["default"].settings_dict
    conn = psycopg.connect(
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        dbname=params["NAME"],
        user=role,
        autocommit=True,
    )
    # A statement that had to wait for a lock would fail the test with LockNotAvailable, not hang it.
    conn.execute("SET lock_timeout = '5s'")
    return conn


def _triggers(conn: psycopg.Connection, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [table]
    ).fetchall()
    return [name for (name,) in rows]


def _statements(conn: psycopg.Connection, table: str) -> list[str]:
    statements = [
        f"DELETE FROM {table}",
        f"TRUNCATE {table}",
        f"TRUNCATE {table} CASCADE",
        f"ALTER TABLE {table} DISABLE TRIGGER ALL",
        f"ALTER TABLE {table} DISABLE TRIGGER USER",
        f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS anything",
        f"ALTER TABLE {table} OWNER TO CURRENT_USER",
        f"CREATE TRIGGER sneak BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()",  # noqa: E501
        f"DROP TABLE {table}",
    ]
    for trigger in _triggers(conn, table):
        statements += [f"ALTER TABLE {table} DISABLE TRIGGER {trigger}", f"DROP TRIGGER {trigger} ON {table}"]
    if table in ("transactions_entry", "transactions_transaction"):
        # No UPDATE at all, not only the trigger's refusal; hence no exclusive lock either.
        statements.append(f"UPDATE {table} SET id = id")
        statements.append(f"BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    return statements


@pytest.mark.parametrize("table", sorted(PROTECTED_TABLES))
def test_it_refuses_the_runtime_role_every_statement_that_rewrites_the_ledger_or_the_audit_trail(
    runtime_role, table
):
    with _runtime_connect(runtime_role) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == runtime_role
        statements = _statements(conn, table)
        if table in ("transactions_entry", "portal_auditevent"):
            assert _triggers(conn, table)  # the guards that must stay on exist
        for statement in statements:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
                pytest.fail(f"the runtime role was allowed: {statement}")
            conn.execute("ROLLBACK")  # after the BEGIN of a two-statement line; a no-op otherwise


def test_it_refuses_the_runtime_role_the_ways_around_the_triggers_and_the_sequences(runtime_role):
    with _runtime_connect(runtime_role) as conn:
        for statement in (
            "SET session_replication_role = replica",
            "SET session_replication_role = local",
            "CREATE TABLE public.evil (id int)",
            # A temporary table shadows the real one for unqualified names, in trigger functions too.
            "CREATE TEMPORARY TABLE transactions_entry (id bigint, account_id bigint, balance_after bigint)",
            "CREATE TEMPORARY TABLE evil (id int)",
            "CREATE FUNCTION public.evil() RETURNS int LANGUAGE sql AS 'SELECT 1'",
            "SELECT setval(pg_get_serial_sequence('transactions_entry', 'id'), 1)",
            "ALTER ROLE CURRENT_USER SUPERUSER",
            "ALTER ROLE CURRENT_USER BYPASSRLS",
            f"GRANT {connections['default'].settings_dict['USER']} TO CURRENT_USER",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
                pytest.fail(f"the runtime role was allowed: {statement}")
        with conn.transaction(), pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SET LOCAL session_replication_role = replica")
        assert conn.execute("SHOW session_replication_role").fetchone()[0] == "origin"


@pytest.fixture
def as_runtime(runtime_role, transactional_db):
    """Django's default connection logged in as the runtime role for the test (the portal's code runs on it
    unchanged); the owner's connection comes back for the flush after the test. Transactional: what the
    owner-side fixtures created is committed, so the runtime connection sees it."""
    owner = connections["default"]
    runtime = owner.__class__({**owner.settings_dict, "USER": runtime_role, "PASSWORD": ""}, alias="default")
    connections["default"] = runtime
    try:
        yield runtime_role
    finally:
        runtime.close()
        connections["default"] = owner


def test_it_runs_the_portal_as_the_runtime_role(as_runtime):
    alice = UserFactory(email="alice@example.com")
    savings = AccountFactory(owner=alice, name="Savings", kind=Account.Kind.SAVINGS)
    current = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == as_runtime
    services.deposit_create(
        account=savings, amount_paise=10_000_00, description="Salary", idempotency_key="d1"
    )

    client = Client()
    # A wrong password (axes records the attempt), then the right one: audit events, the sign-in registry,
    # the previous-login time, a session in the session store.
    wrong = client.post(reverse("login"), {"username": "alice@example.com", "password": "not-it"})
    assert wrong.status_code == 200
    assert AccessAttempt.objects.filter(username="alice@example.com").exists()
    signed_in = client.post(reverse("login"), {"username": "alice@example.com", "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.content
    assert client.get(reverse("dashboard")).status_code == 200

    # A transfer through the views: form, review, confirm, receipt.
    data = {
        "source": savings.pk,
        "destination": current.pk,
        "amount": "1,250.50",
        "description": "",
        "idempotency_key": form_key("t1"),
    }
    review = client.post(reverse("transfer_new"), data)
    assert review.status_code == 303, review.content
    assert client.get(review["Location"]).status_code == 200
    confirmed = client.post(reverse("transfer_confirm"), data)
    assert confirmed.status_code == 303, confirmed.content
    assert client.get(confirmed["Location"]).status_code == 200
    savings.refresh_from_db()
    current.refresh_from_db()
    assert (savings.balance, current.balance) == (10_000_00 - 1_250_50, 1_250_50)

    # Second factor set up by the operator, then turned off (devices and backup codes deleted); lockouts
    # cleared by staff (deleted); "sign out everywhere else"; the registry pruned.
    account_services.two_factor_enrol_by_operator(user=alice)
    account_services.two_factor_disable(user=alice)
    AccessAttempt.objects.filter(username="alice@example.com").delete()
    assert client.post(reverse("sign_out_everywhere")).status_code in (200, 302, 303)
    session_registry_prune(keep_days=0)
    assert not UserSession.objects.filter(user=alice).exists()

    # The beat task's sealing (an UPDATE the audit trigger allows), then verification.
    assert AuditEvent.objects.exists()
    assert audit_seal(wait_seconds=1.0) > 0
    assert audit_verify().ok

    # The database session backend (the embedded defaults' store): create, save, delete.
    store = DatabaseSessionStore()
    store["marker"] = str(uuid.uuid4())
    store.save()
    store["marker"] = "changed"
    store.save()
    store.delete()

    client.post(reverse("logout"))
    # And the ledger stays append-only even for the portal's own code.
    with pytest.raises(Exception, match="permission denied"):
        Entry.objects.filter(account=current).delete()
    with pytest.raises(Exception, match="permission denied"):
        Transaction.objects.filter(initiator=alice).update(description="rewritten")


def test_it_grants_to_the_role_of_database_url_when_run_through_manage_py_with_the_owner_url(runtime_role):
    """The operator's deploy step: `manage.py db_roles` with DATABASE_URL the runtime role and
    DATABASE_OWNER_URL the owner connects as the owner and grants to the runtime role; twice is the same."""
    params = connections["default"].settings_dict
    where = f"{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_RUNTIME_ROLE"}
    env.update(
        {
            "DATABASE_URL": f"postgres://{runtime_role}@{where}",
            "DATABASE_OWNER_URL": f"postgres://{params['USER']}@{where}",
        }
    )
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "manage.py", "db_roles"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        assert f"Runtime role '{runtime_role}'" in result.stdout
        assert f"owned by '{params['USER']}'" in result.stdout

    # Without the owner URL, the runtime role cannot grant itself anything: a clear refusal.
    del env["DATABASE_OWNER_URL"]
    refused = subprocess.run(
        [sys.executable, "manage.py", "db_roles"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert refused.returncode != 0
    assert "is (or inherits) the owner" in refused.stderr or "permission denied" in refused.stderr


@pytest.mark.django_db(transaction=True)
def test_it_runs_a_celery_worker_as_the_runtime_role(runtime_role, tmp_path):
    """A real worker process with DATABASE_URL the runtime role runs the beat's sealing task (an UPDATE of
    audit events) on its own queue of the test broker."""
    event = audit_record(action="test.worker", after={"marker": "runtime"})
    params = connections["default"].settings_dict
    where = f"{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"
    queue = f"test-runtime-{uuid.uuid4()}"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_RUNTIME_ROLE"}
    env.update(
        {
            "DATABASE_URL": f"postgres://{runtime_role}@{where}",
            "VAR_DIR": str(tmp_path / "var"),
            "LOG_LEVEL": "WARNING",
        }
    )
    celery = str(Path(sys.executable).parent / "celery")
    command = [celery, "-A", "portal", "worker", "--pool", "solo", "-Q", queue, "--loglevel", "WARNING"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    worker = subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        celery_app.send_task("portal.tasks.audit_seal_task", queue=queue)
        for _ in range(300):  # up to a minute on this shared machine; done as soon as the event is sealed
            event.refresh_from_db()
            if event.sealed or worker.poll() is not None:
                break
            time.sleep(0.2)
        assert event.sealed, (
            worker.stderr.read().decode() if worker.poll() is not None else "not sealed in time"
        )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
        with celery_app.connection_for_write() as broker:
            broker.default_channel.queue_delete(queue)


STAFF_INSERT = (
    "INSERT INTO accounts_user (password, email, full_name, phone, is_active, is_staff, is_superuser, "
    "date_joined) VALUES ('!', %s, 'Mallory', '', true, %s, %s, now())"
)


@pytest.mark.django_db(transaction=True)
def test_it_refuses_the_runtime_role_a_promotion_to_staff_or_superuser(runtime_role):
    """accounts/0006: whoever holds only the runtime credentials cannot make a user staff or a superuser (a
    customer whose app they enrolled would walk into the admin), by UPDATE or INSERT, nor move a staff row
    onto another user's id (whose second factor they hold: seeds are bound to the user id)."""
    alice = UserFactory(email="alice@example.com")
    staff = UserFactory(email="staff@example.com", is_staff=True)
    with _runtime_connect(runtime_role) as conn:
        for statement, params in (
            ("UPDATE accounts_user SET is_staff = true WHERE id = %s", [alice.pk]),
            ("UPDATE accounts_user SET is_superuser = true WHERE id = %s", [alice.pk]),
            ("UPDATE accounts_user SET is_staff = true, is_superuser = true WHERE id = %s", [alice.pk]),
            ("UPDATE accounts_user SET is_superuser = true WHERE id = %s", [staff.pk]),
            (STAFF_INSERT, ["mallory@example.com", True, False]),
            (STAFF_INSERT, ["mallory@example.com", False, True]),
            ("UPDATE accounts_user SET id = id + 1000000 WHERE id = %s", [staff.pk]),
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement, params)
                pytest.fail(f"the runtime role was allowed: {statement} {params}")
        # Nor can a temporary pg_class stand in for the catalogue the guard reads (pg_temp is searched
        # first): the role may not create temporary tables at all, and the guard's search_path names
        # pg_catalog first besides.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TEMP TABLE pg_class (oid oid, relowner oid)")
            pytest.fail("the runtime role was allowed a temporary pg_class")
    alice.refresh_from_db()
    staff.refresh_from_db()
    assert not alice.is_staff and not alice.is_superuser
    assert staff.is_staff and not staff.is_superuser
    assert not User.objects.filter(email="mallory@example.com").exists()


@pytest.mark.django_db(transaction=True)
def test_it_lets_the_runtime_role_demote_deactivate_and_edit_users(runtime_role):
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    with _runtime_connect(runtime_role) as conn:
        conn.execute(
            "UPDATE accounts_user SET full_name = 'Staff Member', last_login = now() WHERE id = %s",
            [staff.pk],
        )
        conn.execute("UPDATE accounts_user SET is_superuser = false WHERE id = %s", [staff.pk])
        conn.execute("UPDATE accounts_user SET is_staff = false, is_active = false WHERE id = %s", [staff.pk])
        conn.execute(STAFF_INSERT, ["bob@example.com", False, False])  # a customer signing up
    staff.refresh_from_db()
    assert (staff.full_name, staff.is_staff, staff.is_superuser, staff.is_active) == (
        "Staff Member",
        False,
        False,
        False,
    )
    assert User.objects.filter(email="bob@example.com", is_staff=False).exists()


@pytest.mark.django_db(transaction=True)
def test_it_lets_the_owner_promote(runtime_role):
    """The suite connects as the owner (a superuser here): promotion and a staff INSERT go through."""
    alice = UserFactory(email="alice@example.com")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_user SET is_staff = true, is_superuser = true WHERE id = %s", [alice.pk]
        )
        cursor.execute(STAFF_INSERT, ["ops@example.com", True, True])
    alice.refresh_from_db()
    assert alice.is_staff and alice.is_superuser
    assert User.objects.get(email="ops@example.com").is_superuser
