"""`make bench-statement-fanout`: the monthly statements' fan-out for 100,000 customer accounts enqueues in
under a minute (issue 15's number).

It creates its own database (`securebank_bench_fanout`, or $BENCH_DB), migrated by the owner role with the
runtime role's grants, and loads 100,000 customers, each with one account opened last year, in two
INSERT ... SELECT statements (no history: the fan-out reads accounts, not entries). Celery runs on a Redis
database of its own ($BENCH_FANOUT_REDIS_URL, flushed before and after). One real worker process (as the
runtime role, prefork with --concurrency children) consumes only the default queue, where the monthly task
and its batch tasks go; the generate tasks go to the `statements` queue, which nothing consumes here, so
they can be counted.

Timed from sending `statements_monthly_task` until the `statements` queue holds 100,000 generate messages
and 100,000 Statement rows exist, all marked sent. Then the monthly task is sent again (the beat twice):
it must make no statement and send no message. The queues are flushed at the end; the worker stopped.

    .venv/bin/python bench/statement_fanout.py [--accounts 100000] [--concurrency 2] [--skip-seed]
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import redis
from celery import Celery

os.environ.setdefault("BENCH_DB", "securebank_bench_fanout")  # not `make bench`'s database
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import run as base  # noqa: E402 - after BENCH_DB: run.py reads it when imported

say = base.say
REDIS_URL = os.environ.get("BENCH_FANOUT_REDIS_URL", "redis://127.0.0.1:6379/13")
MONTHLY_TASK = "transactions.statements.tasks.statements_monthly_task"
TARGET_SECONDS = 60.0

USERS = """
INSERT INTO accounts_user (password, is_superuser, email, full_name, phone, is_active, is_staff, date_joined,
                           session_generation)
SELECT '!', false, 'fanout' || g || '@bench.example', 'Fan-out customer ' || g, '', true, false,
       now() - interval '400 days', 0
  FROM generate_series(1, %(count)s) AS g
"""
ACCOUNTS = """
INSERT INTO accounts_account (number, name, kind, currency, balance, overdraft_limit, status, opened_on,
                              ledger_version, owner_id)
SELECT lpad((700000000000 + u.id)::text, 12, '0'), 'Savings', 'savings', 'INR', 0, 0, 'active',
       current_date - 400, 0, u.id
  FROM accounts_user AS u
 WHERE u.email LIKE 'fanout%%@bench.example'
 ORDER BY u.id
"""


def prepare(env: dict, accounts: int) -> None:
    with psycopg.connect(f"{base.PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{base.DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{base.DB}" OWNER "{base.OWNER}"')
    say(f"migrating {base.DB}")
    base.run(base.PYTHON, "manage.py", "migrate", "--noinput", env=env)
    base.run(base.PYTHON, "manage.py", "db_roles", env=env)
    started = time.monotonic()
    with psycopg.connect(base._as_role(base.OWNER)) as conn:
        conn.execute(USERS, {"count": accounts})
        conn.execute(ACCOUNTS)
    with psycopg.connect(base._as_role(base.OWNER), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    say(f"{accounts:,} customers and accounts loaded in {time.monotonic() - started:.1f} s")


def counts(conn: psycopg.Connection, broker: redis.Redis) -> tuple[int, int, int]:
    """Statement rows, of them the ones marked sent, and messages waiting in the statements queue."""
    rows, sent = conn.execute(
        "SELECT count(*), count(sent_at) FROM statements_statement WHERE origin = 'monthly'"
    ).fetchone()
    return rows, sent, broker.llen("statements")


def wait_for_fan_out(conn: psycopg.Connection, broker: redis.Redis, accounts: int, limit: float) -> dict:
    """Seconds from now until the rows exist, until they are all marked sent, and until the queue holds
    a message for each (polled every 50 ms)."""
    started = time.monotonic()
    seen: dict[str, float] = {}
    while len(seen) < 3:
        rows, sent, queued = counts(conn, broker)
        now = time.monotonic() - started
        for name, value in (("rows", rows), ("sent", sent), ("queued", queued)):
            if value >= accounts and name not in seen:
                seen[name] = now
        if now > limit:
            raise SystemExit(f"after {limit:.0f} s: {rows:,} rows, {sent:,} sent, {queued:,} queued")
        time.sleep(0.05)
    return seen


def wait_for_idle(broker: redis.Redis, seconds: float = 3.0) -> float:
    """Until the default queue is empty and nothing is being worked on (acks_late: a task at work holds its
    message unacknowledged), for `seconds` in a row; returns when that quiet began (time.monotonic())."""
    quiet_since = None
    while True:
        busy = broker.llen("celery") or broker.hlen("unacked")
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= seconds:
            return quiet_since
        time.sleep(0.05)


def wait_for_worker(sender: Celery, worker: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while not sender.control.inspect(timeout=1).ping():
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the worker did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=2, help="the worker's prefork children")
    parser.add_argument("--skip-seed", action="store_true", help="reuse the database of the last run")
    options = parser.parse_args()

    base.WORK.mkdir(parents=True, exist_ok=True)
    env = {**base.portal_env(), "REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": "bench-fanout"}
    broker = redis.Redis.from_url(REDIS_URL)
    broker.flushdb()
    if options.skip_seed:
        base.run(base.PYTHON, "manage.py", "migrate", "--noinput", env=env)
        base.run(base.PYTHON, "manage.py", "db_roles", env=env)
        with psycopg.connect(base._as_role(base.OWNER), autocommit=True) as conn:
            conn.execute("TRUNCATE statements_statement")
    else:
        prepare(env, options.accounts)

    celery = str(Path(base.PYTHON).parent / "celery")
    command = [
        celery,
        "-A",
        "portal",
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        str(options.concurrency),
    ]
    command += ["-Q", "celery", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"]
    worker = subprocess.Popen(  # noqa: S603
        command,
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    sender = Celery("bench", broker=REDIS_URL)
    try:
        wait_for_worker(sender, worker)
        with psycopg.connect(base._as_role(base.OWNER), autocommit=True) as conn:
            say(f"fan-out of {options.accounts:,} accounts: statements_monthly_task sent")
            sender.send_task(MONTHLY_TASK, queue="celery")
            seen = wait_for_fan_out(conn, broker, options.accounts, limit=10 * TARGET_SECONDS)
            wait_for_idle(broker)
            rows, _sent, queued = counts(conn, broker)
            verdict = "PASS" if seen["queued"] < TARGET_SECONDS else "FAIL"
            say(
                f"{rows:,} statements in {seen['rows']:.1f} s, all marked sent in {seen['sent']:.1f} s, "
                f"{queued:,} generate messages queued in {seen['queued']:.1f} s "
                f"(target: under {TARGET_SECONDS:.0f} s): {verdict}"
            )
            again = time.monotonic()
            sender.send_task(MONTHLY_TASK, queue="celery")
            time.sleep(1)  # taken by the worker
            done = wait_for_idle(broker)
            rows2, _sent, queued2 = counts(conn, broker)
            say(
                f"the monthly task again (the beat twice): {rows2 - rows:,} new statements, "
                f"{queued2 - queued:,} new messages, done in {done - again:.1f} s"
            )
            if (rows2, queued2) != (rows, queued) or rows != options.accounts:
                say("FAIL: the second run made statements or sent tasks")
                return 1
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
        broker.flushdb()
    return 0 if seen["queued"] < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
