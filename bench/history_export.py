"""The history export at scale: stream one account's whole history as CSV (target: 1,000,000 rows in under
30 s, memory flat) and print rows, seconds and peak RSS. A measurement, not a test.

    .venv/bin/python bench/history_export.py --database-url postgres://postgres@127.0.0.1:5432/securebank_bench
    .venv/bin/python bench/history_export.py --prepare 2000000       # a scratch database of its own first

The account is the seeded merchant's current account (`seed_scale`'s hot account, 1,000,000 entries when
loaded with `--entries` of 2,000,000 or more) unless `--account NUMBER` names another. `--via client`
(default) streams through Django's test client in this process, as a WSGI server would consume it;
`--via gunicorn` starts a real gunicorn (one gthread worker, plain HTTP on --port) and reads the response
over a socket, sampling the worker's RSS. RSS is sampled every few chunks during the stream: "start" is the
process before the request, "peak" the highest sample. `--format xlsx` times the workbook instead.

`--prepare ENTRIES` drops and creates `securebank_history_export_bench` (BENCH_HISTORY_EXPORT_DB), migrates
it, loads `seed_scale --customers 50 --entries ENTRIES --hot-entries min(1,000,000, ENTRIES/2)` and runs
VACUUM ANALYZE; `--keep` keeps it afterwards for another run (with --database-url).
"""

import argparse
import contextlib
import http.client
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SCRATCH_DB = os.environ.get("BENCH_HISTORY_EXPORT_DB", "securebank_history_export_bench")
PYTHON = sys.executable
SAMPLE_EVERY = 25  # chunks (of 2,000 rows for CSV) between two RSS samples


def say(text: str) -> None:
    print(f"[history-export] {text}", flush=True)


def environment(database_url: str, redis_url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": "bench_history_export",
        "SECRET_KEY": "bench-only-secret-key-for-the-history-export",
        "AUDIT_HMAC_KEY": "bench-only-audit-key-for-the-history-export",
        "OTP_ENCRYPTION_KEY": "YmVuY2gtb25seS1vdHAta2V5LW5vLXNlY3JldHMhISE=",
        "DEBUG": "0",
        "HTTPS": "0",
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "SEEDING_ENABLED": "1",
        "VAR_DIR": str(ROOT / "var" / "bench-history-export"),
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_HISTORY_EXPORT": "100000/60",
    }


def prepare(entries: int, env: dict) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{SCRATCH_DB}"')
    manage = [PYTHON, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603
    hot = min(1_000_000, entries // 2)
    say(f"seed_scale: 50 customers, {entries:,} entries, {hot:,} on the merchant's account")
    began = time.perf_counter()
    load = ["seed_scale", "--customers", "50", "--entries", str(entries), "--hot-entries", str(hot)]
    subprocess.run([*manage, *load], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    say(f"loaded in {time.perf_counter() - began:.0f} s; VACUUM ANALYZE")
    with psycopg.connect(f"{PG}/{SCRATCH_DB}", autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def rss_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pick_account(number: str):
    from accounts.models import Account
    from portal.seeding.scale import HOT_EMAIL

    accounts = Account.objects.select_related("owner")
    if number:
        return accounts.get(number=number)
    return accounts.get(owner__email=HOT_EMAIL, kind=Account.Kind.CURRENT)


def via_client(url: str, account) -> tuple[int, int, float, int, int]:
    from django.test import Client

    client = Client()
    client.force_login(account.owner)
    start_rss = peak = rss_kib()
    began = time.perf_counter()
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"the export answered {response.status_code}")
    size = lines = 0
    for n, chunk in enumerate(response.streaming_content):
        size += len(chunk)
        lines += chunk.count(b"\n")
        if n % SAMPLE_EVERY == 0:
            peak = max(peak, rss_kib())
    response.close()
    return lines, size, time.perf_counter() - began, start_rss, max(peak, rss_kib())


@contextlib.contextmanager
def gunicorn(env: dict, port: int) -> Iterator[int]:
    """A gunicorn serving the portal on `port` (one gthread worker, one thread); yields the worker's pid."""
    args = [str(Path(PYTHON).parent / "gunicorn"), "portal.wsgi:application", "--workers", "1"]
    args += ["--worker-class", "gthread", "--threads", "1", "--bind", f"127.0.0.1:{port}"]
    server = subprocess.Popen([*args, "--log-level", "warning"], cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    try:
        yield _wait_for_worker(server.pid, port)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def session_cookie(account) -> str:
    """A signed-in session of the account's owner in the portal's session store, as a Cookie header."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(account.owner)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def via_gunicorn(url: str, cookie: str, worker: int, port: int) -> tuple[int, int, float, int, int]:
    start_rss = peak = rss_kib(worker)
    began = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request("GET", url, headers={"Cookie": cookie, "Host": "127.0.0.1"})
    response = conn.getresponse()
    if response.status != 200:
        raise SystemExit(f"the export answered {response.status}")
    size = lines = n = 0
    while block := response.read1(256 * 1024):
        size += len(block)
        lines += block.count(b"\n")
        n += 1
        if n % SAMPLE_EVERY == 0:
            peak = max(peak, rss_kib(worker))
    seconds = time.perf_counter() - began
    conn.close()
    return lines, size, seconds, start_rss, max(peak, rss_kib(worker))


def _wait_for_worker(master: int, port: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health/", headers={"Host": "127.0.0.1"})
            conn.getresponse().read()
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
            if children:
                return int(children[0])
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not come up")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="", help="a loaded database (default: the scratch one)")
    parser.add_argument("--prepare", type=int, metavar="ENTRIES", help="load a scratch database first")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database made by --prepare")
    parser.add_argument("--account", default="", help="account number (default: the seeded merchant's)")
    parser.add_argument("--via", choices=("client", "gunicorn"), default="client")
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--port", type=int, default=8471)
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--query", default="", help="filter parameters, e.g. 'direction=credit'")
    parser.add_argument("--rounds", type=int, default=2, help="exports in a row (the first warms up)")
    args = parser.parse_args()

    env = environment(args.database_url or f"{PG}/{SCRATCH_DB}", args.redis_url)
    if args.prepare:
        prepare(args.prepare, env)
    os.environ.update({**env, "DJANGO_SETTINGS_MODULE": "portal.settings"})
    import django

    django.setup()
    from django.urls import reverse

    try:
        account = pick_account(args.account)
        url = reverse(f"history_export_{args.format}", kwargs={"pk": account.pk})
        if args.query:
            url += "?" + args.query
        entries = account.entries.count()
        say(f"account {account.masked_number}: {entries:,} entries; GET {url} via {args.via}")
        server = gunicorn(env, args.port) if args.via == "gunicorn" else contextlib.nullcontext(0)
        cookie = session_cookie(account) if args.via == "gunicorn" else ""
        with server as worker:
            for _ in range(args.rounds):
                if args.via == "client":
                    lines, size, seconds, start, peak = via_client(url, account)
                else:
                    lines, size, seconds, start, peak = via_gunicorn(url, cookie, worker, args.port)
                rows = lines - 1 if args.format == "csv" else entries
                maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                say(
                    f"{args.format}: {rows:,} rows, {size / 1e6:.0f} MB in {seconds:.1f} s "
                    f"({rows / seconds:,.0f} rows/s); RSS {start / 1024:.0f} MiB at the start, "
                    f"peak {peak / 1024:.0f} MiB during the stream (this process's maxrss {maxrss:.0f} MiB)"
                )
    finally:
        if args.prepare and not args.keep:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
