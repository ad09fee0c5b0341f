"""Audit trail at scale: export 1,000,000 events as CSV from admin (target: under a minute), then seal and
verify them.

    .venv/bin/python bench/audit_export.py [--events 1000000] [--keep] [--skip-seal]

It creates a scratch database (`securebank_audit_bench`, dropped at the end unless --keep), migrates it,
COPYs the events in (spread over 2026, a few hundred actors, realistic JSON and user agents), runs ANALYZE,
then times the admin export view for the whole year, consuming its streamed body as a client would (through
the view function, without a socket): once as in production (autocommit) and once inside a transaction.
Also times the admin changelist, `audit_seal` over the backlog and `audit_verify` over the whole chain.
Not part of `make test`.
"""

import argparse
import datetime
import os
import random
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_AUDIT_DB", "securebank_audit_bench")
IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
AGENTS = [
    "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Safari",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari",
]


def say(text: str) -> None:
    print(f"[audit-bench] {text}", flush=True)


def setup_django() -> None:
    os.environ.update(
        {
            "DATABASE_URL": f"{PG}/{DB}",
            "REDIS_URL": "",
            "SECRET_KEY": "bench-only-secret-key-for-a-scratch-database",
            "AUDIT_HMAC_KEY": "bench-only-audit-key-for-a-scratch-database",
            "OTP_ENCRYPTION_KEY": "YmVuY2gtb25seS1vdHAta2V5LW5vLXNlY3JldHMhISE=",
            "DEBUG": "0",
            "HTTPS": "0",
            "ALLOWED_HOSTS": "testserver,localhost",
            "VAR_DIR": str(ROOT / "var" / "bench-audit"),
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
        }
    )
    import django

    django.setup()


def load(events: int) -> int:
    """COPY `events` events in; return the staff user's id."""
    from django.db import connection

    from accounts.models import User

    staff = User.objects.create_superuser("auditor@example.com", "Bench-Password-1", full_name="Auditor")
    actors = [
        User.objects.create_user(f"customer{i}@example.com", None, full_name=f"Customer {i}")
        for i in range(300)
    ]
    rng = random.Random(2026)  # noqa: S311 - made-up data
    start = datetime.datetime(2026, 1, 1, tzinfo=IST)
    step = datetime.timedelta(days=365) / events
    columns = (
        "created, actor_id, actor_email, action, object_type, object_id, before, after, ip, user_agent,"
        " request_id"
    )
    began = time.perf_counter()
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(f"COPY portal_auditevent ({columns}) FROM STDIN") as copy,
    ):
        for n in range(events):
            actor = actors[rng.randrange(len(actors))]
            created = start + step * n
            if n % 10 < 7:
                txn = 5_000_000 + n
                amount = rng.randint(100, 5_000_00)
                legs = f'{{"{actor.pk * 2}": {-amount}, "{actor.pk * 2 + 1}": {amount}}}'
                after = (
                    f'{{"amounts": {legs}, "kind": "transfer", "description": "UPI to merchant {n % 997}"}}'
                )
                row = (
                    created,
                    actor.pk,
                    actor.email,
                    "money.transfer",
                    "transactions.transaction",
                    str(txn),
                    None,
                    after,
                )
            elif n % 10 < 9:
                row = (
                    created,
                    actor.pk,
                    actor.email,
                    "login.success",
                    "accounts.user",
                    str(actor.pk),
                    None,
                    None,
                )
            else:
                row = (created, None, "", "login.failure", "", "", None, f'{{"email": "{actor.email}"}}')
            ip = f"49.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            copy.write_row((*row, ip, AGENTS[n % 3], f"{rng.getrandbits(128):032x}"))
    say(f"COPY of {events:,} events: {time.perf_counter() - began:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE portal_auditevent")
    return staff.pk


def time_export(staff_id: int, *, atomic: bool) -> tuple[float, int, int]:
    from django.db import transaction
    from django.test import RequestFactory
    from django.urls import resolve, reverse

    from accounts.models import User

    url = reverse("admin:portal_auditevent_export")
    request = RequestFactory().get(url, {"since": "2026-01-01", "until": "2026-12-31"})
    request.user = User.objects.get(pk=staff_id)
    request.session = {}
    view = resolve(url).func
    began = time.perf_counter()
    size = lines = 0
    if atomic:
        with transaction.atomic():
            response = view(request)
            for chunk in response.streaming_content:
                size += len(chunk)
                lines += chunk.count(b"\n")
    else:
        response = view(request)
        for chunk in response.streaming_content:
            size += len(chunk)
            lines += chunk.count(b"\n")
    response.close()
    return time.perf_counter() - began, lines - 1, size


def time_changelist(staff_id: int) -> float:
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User

    client = Client()
    client.force_login(User.objects.get(pk=staff_id))
    url = reverse("admin:portal_auditevent_changelist")
    client.get(url)
    began = time.perf_counter()
    for params in ({}, {"action": "login.failure"}):
        if client.get(url, params).status_code != 200:
            raise SystemExit("the changelist did not answer 200")
    return (time.perf_counter() - began) / 2


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--skip-seal", action="store_true", help="do not time sealing and verifying")
    args = parser.parse_args()

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    try:
        setup_django()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        staff_id = load(args.events)

        for atomic in (False, True):
            seconds, rows, size = time_export(staff_id, atomic=atomic)
            mode = "inside a transaction" if atomic else "autocommit, as served"
            say(
                f"export ({mode}): {rows:,} rows, {size / 1e6:.0f} MB in {seconds:.1f} s "
                f"({rows / seconds:,.0f} rows/s)"
            )
        say(f"admin changelist (1 page, and filtered by action): {time_changelist(staff_id) * 1000:.0f} ms")

        if not args.skip_seal:
            from portal.audit import audit_seal, audit_verify

            began = time.perf_counter()
            sealed = audit_seal()
            say(f"audit_seal: {sealed:,} events in {time.perf_counter() - began:.1f} s")
            began = time.perf_counter()
            result = audit_verify()
            say(
                f"audit_verify: {result.checked:,} events in {time.perf_counter() - began:.1f} s, "
                f"{'chain holds' if result.ok else f'{len(result.problems)} problems'}"
            )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
