"""`make bench-statements`: a statement's generation (`generate.build`: the ledger's rows streamed once into
the CSV and the PDF, checked against the ledger, stored) for a 1,000-entry period and for a 100,000-entry
period of one account. Issue 15's numbers: the PDF for 1,000 entries in at most 1 s and for 100,000 in at
most 60 s, in one worker, with flat memory.

It creates its own database (`securebank_bench_statements`, or $BENCH_DB) and loads it with `seed_scale`
(PostgreSQL COPY: two customers, the merchant's current account holding 100,000 entries over one year).
The loader's descriptions are short and Latin; a statement must also carry Hindi and long notes, so one
transaction in ten of that account is given a Devanagari description (shaped, wrapped) and one in fifty a
140-character note without a space (broken inside the word), written as the database owner with the
ledger's append-only triggers off (this is bench data, made once, before anything is measured).

Each measurement runs in a process of its own (`--measure`), as a Celery worker would run one task,
connected through the portal's settings as the runtime role: Django set up, then a `Statement` row made for
the period and `generate.build` timed. Memory: the process's peak resident size (VmHWM) before the build
and after it, and the resident size sampled while it runs (flat: the same at a quarter of the way and at
the end). The anchor: the same period's rows only streamed from PostgreSQL (`selectors.rows`, what any
generation must read), in a process of its own. The machine is shared (2 cores): run it when it is quiet.

    .venv/bin/python bench/statements.py [--skip-seed] [--entries 100000]
"""

import argparse
import datetime
import json
import os
import sys
import threading
import time
from pathlib import Path

import psycopg

os.environ.setdefault("BENCH_DB", "securebank_bench_statements")  # not `make bench`'s database
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import run as base  # noqa: E402 - after BENCH_DB: run.py reads it when imported

say = base.say
HOT_EMAIL = "merchant@scale.securebank.test"  # portal/seeding/scale.py HOT_EMAIL (no Django set-up here)
SMALL, SMALL_TARGET_S, LARGE_TARGET_S = 1_000, 1.0, 60.0
HINDI = "किराया और बिजली — प्रिया शर्मा, क्षत्रिय निवास"
LONG_NOTE = "UPI/" + "4021987361" * 13 + "/RENT"  # 139 characters, no space


def prepare(env: dict, hot: int) -> None:
    with psycopg.connect(f"{base.PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{base.DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{base.DB}" OWNER "{base.OWNER}"')
    say(f"migrating {base.DB}")
    base.run(base.PYTHON, "manage.py", "migrate", "--noinput", env=env)
    base.run(base.PYTHON, "manage.py", "db_roles", env=env)
    say(f"seed_scale: {hot:,} entries on the merchant's current account, one year")
    started = time.monotonic()
    base.run(
        base.PYTHON,
        "manage.py",
        "seed_scale",
        "--customers",
        "2",
        "--entries",
        str(2 * hot),
        "--hot-entries",
        str(hot),
        "--years",
        "1",
        env=env,
    )
    say(f"seed_scale took {time.monotonic() - started:.0f} s; Hindi and long notes on the merchant's account")
    account, _ = hot_account()
    with psycopg.connect(f"{base.PG}/{base.DB}", autocommit=True) as conn:
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")  # the append-only triggers off
            conn.execute(
                "UPDATE transactions_transaction t "
                "SET description = CASE WHEN t.id %% 50 = 0 THEN %s ELSE %s END "
                "FROM transactions_entry e WHERE e.transaction_id = t.id AND e.account_id = %s "
                "AND (t.id %% 10 = 0 OR t.id %% 50 = 0)",
                (LONG_NOTE, HINDI, account),
            )
        conn.execute("VACUUM (ANALYZE)")


def hot_account() -> tuple[int, int]:
    """The merchant's account with the most entries (seed_scale's hot account), and its entry count."""
    with psycopg.connect(f"{base.PG}/{base.DB}") as conn:
        return conn.execute(
            "SELECT e.account_id, count(*) FROM transactions_entry e "
            "JOIN accounts_account a ON a.id = e.account_id JOIN accounts_user u ON u.id = a.owner_id "
            "WHERE u.email = %s GROUP BY e.account_id ORDER BY 2 DESC LIMIT 1",
            (HOT_EMAIL,),
        ).fetchone()


def periods(account: int) -> tuple[tuple[str, str], tuple[str, str]]:
    """Whole days in India: the account's last days holding at least SMALL entries, and all of its days."""
    with psycopg.connect(f"{base.PG}/{base.DB}") as conn:
        days = conn.execute(
            "SELECT (created AT TIME ZONE 'Asia/Kolkata')::date AS day, count(*) FROM transactions_entry "
            "WHERE account_id = %s GROUP BY day ORDER BY day",
            (account,),
        ).fetchall()
    total, first = 0, days[-1][0]
    for day, count in reversed(days):
        total, first = total + count, day
        if total >= SMALL:
            break
    return (str(first), str(days[-1][0])), (str(days[0][0]), str(days[-1][0]))


def measure(env: dict, account: int, first: str, last: str, anchor: bool) -> dict:
    """One run in a process of its own. A statement of the period made by an earlier run is removed first
    (as the owner: the runtime role deletes no statement)."""
    with psycopg.connect(f"{base.PG}/{base.DB}", autocommit=True) as conn:
        conn.execute("DELETE FROM statements_statement WHERE account_id = %s", (account,))
    command = [
        base.PYTHON,
        __file__,
        "--measure",
        str(account),
        first,
        last,
        *(["--anchor"] if anchor else []),
    ]
    return json.loads(base.run(*command, env=env).strip().splitlines()[-1])


# --- inside the measuring process -------------------------------------------------------------------------


def _status(field: str) -> int:
    """A /proc/self/status figure in kB (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _measure(account_id: int, first: str, last: str, anchor: bool) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    from accounts.models import Account
    from transactions.statements import generate, selectors
    from transactions.statements.models import Statement

    account = Account.objects.get(pk=account_id)
    first_day, last_day = datetime.date.fromisoformat(first), datetime.date.fromisoformat(last)
    samples: list[tuple[float, int]] = []
    running = threading.Event()
    running.set()

    def sample() -> None:
        while running.is_set():
            samples.append((time.perf_counter(), _status("VmRSS")))
            time.sleep(0.1)

    before_hwm, before_rss = _status("VmHWM"), _status("VmRSS")
    sampler = threading.Thread(target=sample, daemon=True)
    if anchor:
        started = time.perf_counter()
        sampler.start()
        rows = sum(1 for _ in selectors.rows(account, first_day, last_day))
        seconds = time.perf_counter() - started
        result: dict = {"rows": rows}
    else:
        statement = Statement.objects.create(account=account, first_day=first_day, last_day=last_day)
        started = time.perf_counter()
        sampler.start()
        if not generate.build(statement.pk):
            raise SystemExit(f"statement {statement.pk} was not built")
        seconds = time.perf_counter() - started
        statement.refresh_from_db()
        result = {
            "rows": statement.entry_count,
            "pdf_bytes": statement.pdf.size,
            "csv_bytes": statement.csv.size,
        }
    running.clear()
    sampler.join()
    quarter = [rss for at, rss in samples if at - started >= seconds / 4]
    return {
        **result,
        "seconds": seconds,
        "hwm_before_mb": before_hwm / 1024,
        "hwm_after_mb": _status("VmHWM") / 1024,
        "rss_before_mb": before_rss / 1024,
        "rss_quarter_mb": (quarter[0] if quarter else before_rss) / 1024,
        "rss_end_mb": (samples[-1][1] if samples else before_rss) / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000, help="entries on the measured account")
    parser.add_argument("--skip-seed", action="store_true", help="reuse the database of the last run")
    parser.add_argument("--measure", nargs=3, metavar=("ACCOUNT", "FIRST", "LAST"), help=argparse.SUPPRESS)
    parser.add_argument("--anchor", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        account, first, last = options.measure
        print(json.dumps(_measure(int(account), first, last, options.anchor)))
        return 0

    base.WORK.mkdir(parents=True, exist_ok=True)
    env = {**base.portal_env(), "LOG_LEVEL": "ERROR"}
    if not options.skip_seed:
        prepare(env, options.entries)
    else:
        base.run(base.PYTHON, "manage.py", "migrate", "--noinput", env=env)
        base.run(base.PYTHON, "manage.py", "db_roles", env=env)
    account, entries = hot_account()
    small, large = periods(account)
    say(f"account {account}: {entries:,} entries; periods {small[0]}–{small[1]} and {large[0]}–{large[1]}")
    lines = [
        "| run | entries | seconds | peak RSS before → after (MB) | RSS at ¼ → end (MB) | PDF | CSV |",
        "| --- | ---: | ---: | --- | --- | ---: | ---: |",
    ]
    verdicts = []
    for name, (first, last), target in (("small", small, SMALL_TARGET_S), ("large", large, LARGE_TARGET_S)):
        for anchor in (True, False):
            say(f"{'anchor (rows only)' if anchor else 'generate.build'}: {first} to {last}")
            got = measure(env, account, first, last, anchor)
            what = "rows streamed (anchor)" if anchor else "generate.build (PDF + CSV)"
            sizes = (
                ("–", "–")
                if anchor
                else (f"{got['pdf_bytes'] / 1e6:.1f} MB", f"{got['csv_bytes'] / 1e6:.1f} MB")
            )
            lines.append(
                f"| {what}, {name} period | {got['rows']:,} | {got['seconds']:.2f} | "
                f"{got['hwm_before_mb']:.0f} → {got['hwm_after_mb']:.0f} | "
                f"{got['rss_quarter_mb']:.0f} → {got['rss_end_mb']:.0f} | {sizes[0]} | {sizes[1]} |"
            )
            if not anchor:
                verdict = "met" if got["seconds"] <= target else "MISSED"
                verdicts.append(
                    f"statement of {got['rows']:,} entries: {got['seconds']:.2f} s, target ≤ {target:.0f} s: "
                    f"{verdict}; peak RSS {got['hwm_after_mb']:.0f} MB"
                )
    print()
    print("\n".join(lines))
    print()
    for line in verdicts:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
