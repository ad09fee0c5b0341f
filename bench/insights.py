"""`make bench-insights`: the insights page of an account with a million entries, warm and cold, against a
trivial Django view measured in the same run (issue 14's numbers: p99 at 2 connections, cold ≤ 300 ms,
warm ≤ 20 ms).

It creates its own database (`securebank_bench_insights`, or $BENCH_DB), loads it with `seed_scale`
(3,000,000 entries, 1,000,000 of them on the merchant's current account, three years) and `seed_demo`, then
builds the merchant account's daily sums from nothing (`rollup.rebuild`: what a first catch-up costs, timed
and reported, not part of a page). Pages (gunicorn over TLS exactly as `make bench` runs it; wrk at
--connections, signed in as the merchant; interleaved rounds, medians):
- the trivial Django view (anchor);
- warm: the insights page of the million-entry account for this month and for the last 12 months, the same
  URL each time (the cache holds the figures and the charts: a warm page is one cache read per chart);
- cold: the same page for custom periods (200 to 366 days) that no request of the run asked for before,
  so that every request misses the cache and computes from the daily sums (bench/paths.lua walks a file of
  distinct URLs).
Each p99 is reported beside the trivial view's and as a ratio to it. `--skip-seed` reuses the database.

    .venv/bin/python bench/insights.py [--skip-seed] [--rounds 3] [--duration 8]
"""

import argparse
import contextlib
import datetime
import os
import random
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

os.environ.setdefault("BENCH_DB", "securebank_bench_insights")  # not `make bench`'s database
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import run as base  # noqa: E402 - after BENCH_DB: run.py reads it when imported

say = base.say
PATHS_LUA = ROOT / "bench" / "paths.lua"
COLD_TARGET_MS, WARM_TARGET_MS = 300.0, 20.0
COLD_PERIODS = 5_000  # distinct periods a round's cold scenario may ask for


def prepare(env: dict, customers: int, entries: int, hot: int) -> None:
    with psycopg.connect(f"{base.PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{base.DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{base.DB}" OWNER "{base.OWNER}"')
    say(f"migrating {base.DB}")
    base.run(base.PYTHON, "manage.py", "migrate", "--noinput", env=env)
    base.run(base.PYTHON, "manage.py", "db_roles", env=env)
    say(f"seed_scale: {customers:,} customers, {entries:,} entries, {hot:,} on the merchant's account")
    started = time.monotonic()
    base.run(
        base.PYTHON,
        "manage.py",
        "seed_scale",
        "--customers",
        str(customers),
        "--entries",
        str(entries),
        "--hot-entries",
        str(hot),
        "--password",
        base.PASSWORD,
        env=env,
    )
    say(f"seed_scale took {time.monotonic() - started:.0f} s; seed_demo")
    base.run(base.PYTHON, "manage.py", "seed_demo", "--allow-production", env=env)
    base.run(base.PYTHON, "manage.py", "collectstatic", "--noinput", env=env)
    with psycopg.connect(f"{base.PG}/{base.DB}", autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def hot_account(dsn: str) -> tuple[int, str, int]:
    """The account with the most entries: its id, its owner's email, its entry count."""
    with psycopg.connect(dsn) as conn:
        account, email = conn.execute(
            "SELECT a.id, u.email FROM accounts_account a JOIN accounts_user u ON u.id = a.owner_id "
            "WHERE a.number = (SELECT number FROM accounts_account WHERE owner_id IS NOT NULL "
            "ORDER BY ledger_version DESC LIMIT 1)"
        ).fetchone()
        (count,) = conn.execute(
            "SELECT count(*) FROM transactions_entry WHERE account_id = %s", [account]
        ).fetchone()
    return account, email, count


def build_sums(env: dict, account: int) -> float:
    """Seconds to build the account's daily sums from nothing (a first catch-up of its whole history)."""
    code = (
        "import time; from transactions.insights import rollup; t = time.monotonic(); "
        f"rollup.rebuild({account}); print(time.monotonic() - t)"
    )
    out = base.run(base.PYTHON, "manage.py", "shell", "-c", code, env=env)
    return float(out.strip().splitlines()[-1])


def insights_url(account: int, query: str) -> str:
    return f"/insights/?account={account}&{query}"


class ColdPeriods:
    """Custom periods of 200 to 366 days ending between 2024-06-01 and yesterday (about 150,000 of them),
    never handed out twice."""

    def __init__(self, seed: int = 14) -> None:
        self.random = random.Random(seed)  # noqa: S311 - periods to ask for, not secrets
        self.used: set[tuple[datetime.date, datetime.date]] = set()
        self.first_end = datetime.date(2024, 6, 1)
        self.last_end = datetime.datetime.now(tz=datetime.UTC).date() - datetime.timedelta(days=1)

    def take(self, count: int) -> list[tuple[datetime.date, datetime.date]]:
        span = (self.last_end - self.first_end).days
        found: list[tuple[datetime.date, datetime.date]] = []
        if len(self.used) + count > span * 167 // 2:  # keep drawing cheap: at most half the pool
            raise SystemExit("no more distinct cold periods: fewer rounds, or a shorter --duration")
        while len(found) < count:
            end = self.first_end + datetime.timedelta(days=self.random.randrange(span))
            start = end - datetime.timedelta(days=self.random.randrange(199, 366))
            if (start, end) not in self.used:
                self.used.add((start, end))
                found.append((start, end))
        return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=640)
    parser.add_argument("--entries", type=int, default=3_000_000)
    parser.add_argument("--hot-entries", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=8, help="seconds of load per scenario and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all scenarios; medians reported")
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--skip-seed", action="store_true", help="reuse the database of the last run")
    parser.add_argument(
        "--port", type=int, default=8463, help="the portal's port; the trivial view's is the next"
    )
    options = parser.parse_args()

    portal_bind, trivial_bind = f"127.0.0.1:{options.port}", f"127.0.0.1:{options.port + 1}"
    base.PORTAL, base.TRIVIAL = f"https://{portal_bind}", f"https://{trivial_bind}"
    base.WORK.mkdir(parents=True, exist_ok=True)
    env = base.portal_env()
    if not options.skip_seed:
        prepare(env, options.customers, options.entries, options.hot_entries)
    else:
        base.run(base.PYTHON, "manage.py", "migrate", "--noinput", env=env)
        base.run(base.PYTHON, "manage.py", "db_roles", env=env)
        base.run(base.PYTHON, "manage.py", "collectstatic", "--noinput", env=env)
    dsn = f"{base.PG}/{base.DB}"
    account, email, entries = hot_account(dsn)
    say(f"account {account} of {email}: {entries:,} entries")
    built = build_sums(env, account)
    say(f"its daily sums built from nothing in {built:.1f} s (a first catch-up; pages read the sums)")
    base.run("redis-cli", "-u", base.REDIS_URL, "FLUSHDB")
    cert, key_file = base.make_certificate()
    c, d = options.connections, options.duration

    @contextlib.contextmanager
    def serving() -> Iterator[None]:
        servers = [
            base.start_gunicorn("portal.wsgi:application", portal_bind, env, cert, key_file, 1, c),
            base.start_gunicorn("bench.trivial:application", trivial_bind, env, cert, key_file, 1, c),
        ]
        try:
            base.wait_until_up(f"{base.PORTAL}/health/")
            base.wait_until_up(f"{base.TRIVIAL}/")
            yield
        finally:
            for server in servers:
                os.killpg(server.pid, signal.SIGTERM)
            for server in servers:
                server.wait(timeout=30)

    names = {
        "trivial": "trivial Django view (anchor)",
        "warm month": f"insights, {entries:,}-entry account, this month, warm",
        "warm 12m": f"insights, {entries:,}-entry account, last 12 months, warm",
        "cold year": (
            f"insights, {entries:,}-entry account, a custom period of 200–366 days never asked before, cold"
        ),
    }
    rounds: dict[str, list[base.Result]] = {key: [] for key in names}
    periods = ColdPeriods()
    with serving():
        session = base.log_in(email, base.PASSWORD)
        cookie = [f"Cookie: {session.cookie}"]
        warm = {
            "warm month": insights_url(account, "period=month"),
            "warm 12m": insights_url(account, "period=12m"),
        }
        for path in warm.values():  # the page exists, answers 200 and shows figures
            status, body = probe(base.PORTAL + path, session.cookie)
            if status != 200 or "<table" not in body:
                raise SystemExit(f"{path}: {status}, or no data table on the page")
        for number in range(options.rounds):
            say(f"round {number + 1} of {options.rounds}")
            rounds["trivial"].append(base.wrk(names["trivial"], f"{base.TRIVIAL}/", c, d, [], []))
            for key, path in warm.items():
                rounds[key].append(base.wrk(names[key], base.PORTAL + path, c, d, cookie, []))
            listing = base.WORK / f"cold-{number}.txt"
            # More distinct periods than a run can ask for (about 100 a second here, the warm-up included):
            # every request is a miss. The file is walked in order, so a run that asked for more would
            # start again at its first (warm) period: the count is checked below.
            cold = periods.take(COLD_PERIODS)
            listing.write_text(
                "\n".join(
                    insights_url(account, f"period=custom&date_from={start}&date_to={end}")
                    for start, end in cold
                )
                + "\n"
            )
            rounds["cold year"].append(
                base.wrk(
                    names["cold year"],
                    base.PORTAL + "/",
                    c,
                    d,
                    cookie,
                    ["-s", str(PATHS_LUA), "--", str(listing)],
                )
            )
    results = []
    anchor = base._median(names["trivial"], rounds["trivial"])
    results.append(anchor)
    for key in ("warm month", "warm 12m", "cold year"):
        result = base._median(names[key], rounds[key])
        result.anchor = "trivial p99"
        result.ratio = result.p99_ms / anchor.p99_ms if result.p99_ms and anchor.p99_ms else None
        results.append(result)
    print()
    print(base.table(results))
    print()
    verdicts = []
    for key, target in (
        ("warm month", WARM_TARGET_MS),
        ("warm 12m", WARM_TARGET_MS),
        ("cold year", COLD_TARGET_MS),
    ):
        p99 = base._median(names[key], rounds[key]).p99_ms
        verdict = "met" if p99 <= target else "MISSED"
        verdicts.append(f"{names[key]}: p99 {p99:.1f} ms, target ≤ {target:.0f} ms: {verdict}")
    for line in verdicts:
        print(line)
    print(f"daily sums of the {entries:,}-entry account built from nothing in {built:.1f} s")
    return 0


def probe(url: str, cookie: str) -> tuple[int, str]:
    import ssl
    import urllib.error
    import urllib.request

    context = ssl._create_unverified_context()  # noqa: S323 - our own self-signed certificate
    request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310
    try:
        with urllib.request.urlopen(request, context=context, timeout=60) as answer:  # noqa: S310
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


if __name__ == "__main__":
    sys.exit(main())
