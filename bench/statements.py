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

`--synthetic ROWS` measures the PDF alone, without the database: ROWS rows made up in Python (five years of
a busy account, the same share of Hindi and long notes) drawn straight into `StatementPDF`, and 1,000 such
rows for comparison, each in a process of its own. It is how a 1,000,000-row statement was measured (its
memory must stay flat: transactions/statements/spooling.py).

    .venv/bin/python bench/statements.py [--skip-seed] [--entries 100000]
    .venv/bin/python bench/statements.py --synthetic 1000000
"""

import argparse
import datetime
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import psycopg

os.environ.setdefault("BENCH_DB", "securebank_bench_statements")  # not `make bench`'s database
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import run as base  # noqa: E402 - after BENCH_DB: run.py reads it when imported

say = base.say
T = TypeVar("T")
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
    before_hwm, before_rss = _status("VmHWM"), _status("VmRSS")
    if anchor:
        seconds, samples, rows = _sampled(
            lambda: sum(1 for _ in selectors.rows(account, first_day, last_day))
        )
        result: dict = {"rows": rows}
    else:
        statement = Statement.objects.create(account=account, first_day=first_day, last_day=last_day)
        seconds, samples, built = _sampled(lambda: generate.build(statement.pk))
        if not built:
            raise SystemExit(f"statement {statement.pk} was not built")
        statement.refresh_from_db()
        result = {
            "rows": statement.entry_count,
            "pdf_bytes": statement.pdf.size,
            "csv_bytes": statement.csv.size,
        }
    return {**result, **_memory(seconds, samples, before_hwm, before_rss)}


def _memory(seconds: float, samples: list[tuple[float, int]], before_hwm: int, before_rss: int) -> dict:
    """Time and memory in MB: the peak before and after, the resident size at a quarter and at the end."""
    quarter = [rss for at, rss in samples if at >= seconds / 4]
    return {
        "seconds": seconds,
        "hwm_before_mb": before_hwm / 1024,
        "hwm_after_mb": _status("VmHWM") / 1024,
        "rss_before_mb": before_rss / 1024,
        "rss_quarter_mb": (quarter[0] if quarter else before_rss) / 1024,
        "rss_end_mb": (samples[-1][1] if samples else before_rss) / 1024,
    }


def _sampled(work: Callable[[], T]) -> tuple[float, list[tuple[float, int]], T]:
    """`work()` timed, with the process's resident size sampled every 0.1 s while it runs."""
    samples: list[tuple[float, int]] = []
    running = threading.Event()
    running.set()

    def sample() -> None:
        while running.is_set():
            samples.append((time.perf_counter(), _status("VmRSS")))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    sampler.start()
    result = work()
    seconds = time.perf_counter() - started
    running.clear()
    sampler.join()
    return seconds, [(at - started, rss) for at, rss in samples], result


def _synthetic_rows(count: int) -> Iterator:
    """`count` rows of a busy current account over five years, made up (seeded: the same every run)."""
    from transactions.statements.selectors import Row

    pick = random.Random(15)  # noqa: S311 - bench data
    names = ["DMart", "Swiggy", "Indian Oil", "BESCOM", "Airtel", "Ravi Kumar", "प्रिया शर्मा", "Zomato"]
    notes = ["UPI payment", "Card purchase", "NEFT transfer", "Salary", "Electricity bill", "Groceries"]
    start = datetime.datetime(2021, 4, 1, tzinfo=datetime.UTC)
    step = datetime.timedelta(days=5 * 365) / max(count, 1)
    balance = 5_00_000_00
    for i in range(count):
        amount = pick.randrange(100, 25_000_00) * (1 if pick.random() < 0.45 else -1)
        balance += amount
        description = HINDI if i % 10 == 0 else LONG_NOTE if i % 50 == 7 else pick.choice(notes)
        yield Row(
            when=start + step * i,
            reference=f"SB{i + 1:010d}",
            description=description,
            counterparty=pick.choice(names),
            amount=amount,
            balance=balance,
        )


def _measure_synthetic(count: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    from transactions.statements.pdf import Header, StatementPDF
    from transactions.statements.selectors import Summary

    header = Header(
        bank_name="SecureBank",
        customer_name="Meera Traders",
        account_name="Current",
        masked_number="••4321",
        ifsc="SECB0000001",
        first_day=datetime.date(2021, 4, 1),
        last_day=datetime.date(2026, 3, 31),
        generated_at=datetime.datetime(2026, 4, 1, tzinfo=datetime.UTC),
        summary=Summary(opening=5_00_000_00, closing=0, credits=0, debits=0, count=count),
        verify_url="https://securebank.example/statements/verify/",
    )
    before_hwm, before_rss = _status("VmHWM"), _status("VmRSS")
    with tempfile.TemporaryFile() as out:

        def render() -> int:
            document = StatementPDF(out, header)
            for row in _synthetic_rows(count):
                document.add(row)
            document.close("0" * 64)
            return document.page

        seconds, samples, pages = _sampled(render)
        size = out.tell()
    return {
        "rows": count,
        "pages": pages,
        "pdf_bytes": size,
        **_memory(seconds, samples, before_hwm, before_rss),
    }


def synthetic(env: dict, count: int) -> int:
    """The PDF alone for 1,000 and for `count` made-up rows, each in a process of its own."""
    lines = [
        "| rows (made up) | pages | seconds | peak RSS before → after (MB) | RSS at ¼ → end (MB) | PDF |",
        "| ---: | ---: | ---: | --- | --- | ---: |",
    ]
    for rows in (SMALL, count):
        say(f"StatementPDF: {rows:,} made-up rows")
        got = json.loads(
            base.run(base.PYTHON, __file__, "--measure-synthetic", str(rows), env=env).splitlines()[-1]
        )
        lines.append(
            f"| {got['rows']:,} | {got['pages']:,} | {got['seconds']:.2f} | "
            f"{got['hwm_before_mb']:.0f} → {got['hwm_after_mb']:.0f} | "
            f"{got['rss_quarter_mb']:.0f} → {got['rss_end_mb']:.0f} | {got['pdf_bytes'] / 1e6:.1f} MB |"
        )
    print()
    print("\n".join(lines))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000, help="entries on the measured account")
    parser.add_argument("--skip-seed", action="store_true", help="reuse the database of the last run")
    parser.add_argument("--measure", nargs=3, metavar=("ACCOUNT", "FIRST", "LAST"), help=argparse.SUPPRESS)
    parser.add_argument("--anchor", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--synthetic", type=int, metavar="ROWS", help="the PDF alone, for made-up rows")
    parser.add_argument("--measure-synthetic", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure_synthetic is not None:
        print(json.dumps(_measure_synthetic(options.measure_synthetic)))
        return 0
    if options.synthetic:
        base.WORK.mkdir(parents=True, exist_ok=True)
        return synthetic({**base.portal_env(), "LOG_LEVEL": "ERROR"}, options.synthetic)
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
