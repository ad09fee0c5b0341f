"""The ledger's hot path in process: `transfer_create` in a loop on PostgreSQL, no HTTP.

    .venv/bin/python bench/posting.py [--rounds 7] [--transfers 500] [--keep]

Creates a scratch database (`securebank_posting_bench`, dropped at the end unless --keep), migrates it, makes
one customer with two accounts and times rounds of transfers between them, alternating direction. Each
transfer commits (autocommit, as a request does), so anything it does on commit is timed too. Each round
runs the same code twice, with the posting alerts and with them switched off (interleaved, in alternating
order, so that the noise of a shared machine falls on both), and prints per transfer the median wall time
and the mean CPU time of this process (the Python's cost, which other processes on the machine disturb
less). Ends with the median of the rounds, and the statements of one transfer. Not part of `make test`.
"""

import argparse
import contextlib
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_POSTING_DB", "securebank_posting_bench")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def say(text: str) -> None:
    print(f"[posting-bench] {text}", flush=True)


def setup_django() -> None:
    os.environ.update(
        {
            "DATABASE_URL": f"{PG}/{DB}",
            "REDIS_URL": REDIS,
            "CACHE_KEY_PREFIX": "posting-bench",
            "SECRET_KEY": "bench-only-secret-key-for-a-scratch-database",
            "AUDIT_HMAC_KEY": "bench-only-audit-key-for-a-scratch-database",
            "OTP_ENCRYPTION_KEY": "YmVuY2gtb25seS1vdHAta2V5LW5vLXNlY3JldHMhISE=",
            "DEBUG": "0",
            "HTTPS": "0",
            "ALLOWED_HOSTS": "localhost",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
        }
    )
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--transfers", type=int, default=500)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DB}"')
    try:
        setup_django()
        run(args)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


def run(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Account, User
    from transactions import services

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench@example.com", "x" * 20, full_name="Bench Customer")
    one = Account.objects.create(owner=user, number="777700000011", name="One", kind="savings")
    two = Account.objects.create(owner=user, number="777700000012", name="Two", kind="current")
    services.deposit_create(account=one, amount_paise=10**12, description="Float", idempotency_key="float")

    def transfer(i: int) -> None:
        source, destination = (one, two) if i % 2 == 0 else (two, one)
        services.transfer_create(
            initiator=user,
            source=source.pk,
            destination=destination.pk,
            amount_paise=100,
            description="",
            idempotency_key=str(uuid.uuid4()),
        )

    for i in range(50):  # warm up: caches, prepared plans, the broker connection
        transfer(i)
    with CaptureQueriesContext(connection) as queries:
        transfer(0)
    say(f"statements of one transfer: {len(queries)}")
    for query in queries:
        say(f"  {query['sql'][:110]}")

    variants = {"with alerts": _nothing}
    if hasattr(services, "_INSERT_ALERTS"):  # A/B in one process: the same code, alerts switched off
        variants["without alerts"] = _without_alerts(services)
    results: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in variants}
    for n in range(args.rounds):
        names = list(variants)
        order = names[n % len(names) :] + names[: n % len(names)]  # each variant first in turn
        for name in order:
            with variants[name]():
                wall, cpu = [], []
                for i in range(args.transfers):
                    start, start_cpu = time.perf_counter(), time.process_time()
                    transfer(i)
                    wall.append(time.perf_counter() - start)
                    cpu.append(time.process_time() - start_cpu)
            results[name]["wall"].append(statistics.median(wall) * 1000)
            results[name]["cpu"].append(statistics.fmean(cpu) * 1000)
            say(
                f"round {n + 1} {name}: median {results[name]['wall'][-1]:.3f} ms wall, "
                f"{results[name]['cpu'][-1]:.3f} ms CPU of this process per transfer"
            )
    if len(results) == 2:
        on, off = results.values()
        for measure in ("wall", "cpu"):
            paired = [a - b for a, b in zip(on[measure], off[measure], strict=True)]
            say(
                f"alerts cost per transfer, median of the rounds' differences: "
                f"{statistics.median(paired):+.3f} ms {measure}"
            )
    for name, result in results.items():
        say(
            f"{name}, {args.rounds} x {args.transfers} transfers: median of round medians "
            f"{statistics.median(result['wall']):.3f} ms wall, {statistics.median(result['cpu']):.3f} ms CPU"
        )


@contextlib.contextmanager
def _nothing():
    yield


def _without_alerts(services):
    """The posting path with its alerts switched off: no outbox INSERT (as for a loader's history)."""

    @contextlib.contextmanager
    def switched_off():
        write = services._write

        def write_without(txn, *, locked, by_id, alerts=False):
            return write(txn, locked=locked, by_id=by_id, alerts=False)

        services._write = write_without
        try:
            yield
        finally:
            services._write = write

    return switched_off


if __name__ == "__main__":
    main()
