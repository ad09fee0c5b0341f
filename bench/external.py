"""External postings by many customers at once, in process: one worker process per customer account, each
on its own database connection, posting through the ledger service (a deposit, then a payment of the same
amount, so no balance runs dry) as fast as it can. Every posting locks its customer's account and the
account's settlement shard (accounts/internal.py): with one shard they all queue on one row, with many
they spread. Run by bench/run.py with the portal's environment (the runtime database role) and
SETTLEMENT_SHARDS set; prints one JSON line.

    python bench/external.py --accounts 12,34,56 --duration 8

Scenarios are functions of (account id, posting number) → a service call: an outward payment to a payee of
another bank, once payees exist, is one more entry in SCENARIOS.
"""

import argparse
import json
import multiprocessing
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402

from accounts import internal  # noqa: E402
from accounts.models import Account  # noqa: E402
from transactions import services  # noqa: E402


def _deposit_then_pay(account: int, number: int) -> None:
    """Salary in, UPI out: both through the account's settlement shard."""
    key = uuid.uuid4().hex
    if number % 2 == 0:
        services.deposit_create(
            account=account, amount_paise=1_00, description="Bench salary", idempotency_key=key, kind="salary"
        )
    else:
        services.payment_create(
            account=account, amount_paise=1_00, description="Bench UPI", idempotency_key=key
        )


SCENARIOS: dict[str, Callable[[int, int], None]] = {"external": _deposit_then_pay}


def _worker(scenario: str, account: int, begin: float, end: float, queue: multiprocessing.Queue) -> None:
    """Posts from `begin - 1 s` (warm-up, not counted) until `end`; reports the latencies (seconds) of the
    postings that started at or after `begin` and finished by `end`, and how many postings failed."""
    post = SCENARIOS[scenario]
    latencies: list[float] = []
    errors = number = 0
    try:
        while time.time() < begin - 1:
            time.sleep(0.001)
        while (started := time.time()) < end:
            try:
                post(account, number)
            except Exception as exc:  # counted and shown: the run reports errors, it does not stop
                errors += 1
                if errors == 1:
                    print(f"posting for account {account} failed: {exc!r}", file=sys.stderr)
            else:
                finished = time.time()
                if started >= begin and finished <= end:
                    latencies.append(finished - started)
            number += 1
    finally:
        connections.close_all()
        queue.put((latencies, errors))


def _lock_wait_share(begin: float, end: float) -> float | None:
    """The share of the database's other sessions of this role, sampled every 20 ms while the workers
    run, that are waiting for a lock (`pg_stat_activity.wait_event_type = 'Lock'`): the hot row, seen from
    PostgreSQL. None off PostgreSQL."""
    if connections["default"].vendor != "postgresql":
        return None
    waiting = seen = 0
    while time.time() < begin:
        time.sleep(0.01)
    with connections["default"].cursor() as cursor:
        while time.time() < end:
            cursor.execute(
                "SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock') FROM pg_stat_activity"
                " WHERE datname = current_database() AND usename = current_user AND pid <> pg_backend_pid()"
            )
            sessions, locked = cursor.fetchone()
            seen, waiting = seen + sessions, waiting + locked
            time.sleep(0.02)
    connections.close_all()
    return waiting / seen if seen else None


def measure(scenario: str, accounts: list[int], duration: float) -> dict:
    internal.ensure_internal_accounts(Account)  # the shards of this SETTLEMENT_SHARDS (a migrate does it too)
    connections.close_all()  # nothing open crosses the fork
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    begin = time.time() + 2  # every worker forked and connected before the clock starts
    end = begin + duration
    workers = [context.Process(target=_worker, args=(scenario, a, begin, end, queue)) for a in accounts]
    for worker in workers:
        worker.start()
    lock_wait = _lock_wait_share(begin, end)
    reports = [queue.get(timeout=duration + 120) for _ in workers]
    latencies = sorted(x for times, _errors in reports for x in times)
    for worker in workers:
        worker.join(timeout=30)

    def percentile(p: float) -> float | None:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000 if latencies else None

    return {
        "scenario": scenario,
        "workers": len(accounts),
        "shards": internal.settlement_shards(),
        "shards_used": len({internal.settlement_shard(a) for a in accounts}),
        "postings": len(latencies),
        "pps": len(latencies) / duration,
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "errors": sum(errors for _times, errors in reports),
        "lock_wait": lock_wait,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--accounts", required=True, help="customer account ids, comma-separated: one worker each"
    )
    parser.add_argument("--duration", type=float, default=8)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="external")
    options = parser.parse_args()
    accounts = [int(a) for a in options.accounts.split(",")]
    print(json.dumps(measure(options.scenario, accounts, options.duration)))


if __name__ == "__main__":
    main()
