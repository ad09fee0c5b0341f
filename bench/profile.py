"""`make profile`: where the gunicorn workers spend their time under load, sampled with py-spy.

It reuses `make bench`'s database (run `make bench` once first), starts the portal the same way (2 gthread
workers, TLS, PostgreSQL, Redis), loads one scenario at a time with wrk while py-spy samples both workers,
and writes per scenario the raw stacks (var/bench/profile-<scenario>.txt, folded: open them in speedscope or
flamegraph.pl) and a summary of the busiest frames (var/bench/profile-<scenario>.md), also printed.

The summary counts samples, so it holds on a noisy machine: a frame's share of a worker's busy time.
"""

import argparse
import collections
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import (
    DB,
    PASSWORD,
    PG,
    PORT,
    PORTAL,
    ROOT,
    WORK,
    bench_accounts,
    external_accounts,
    log_in,
    make_certificate,
    make_payees,
    portal_env,
    say,
    start_gunicorn,
    wait_until_up,
)
from portal.seeding import DEMO_PASSWORD

PY_SPY = Path(sys.executable).parent / "py-spy"
# Frames that mean "this thread waits": not CPU spent by the worker.
WAITING = ("select (selectors.py", "poll (selectors.py", "wait (threading.py", "_wait_for_tstate_lock")


def worker_pids(master: int) -> list[int]:
    args = ["pgrep", "-P", str(master)]
    out = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603
    return [int(pid) for pid in out.stdout.split()]


def record(name: str, pids: list[int], seconds: int, load: list[str]) -> Path:
    """py-spy samples each worker (non-blocking, all threads, idle ones left out) while wrk loads it."""
    outputs = [WORK / f"profile-{name}-{pid}.txt" for pid in pids]
    spies = [
        subprocess.Popen(  # noqa: S603
            [
                str(PY_SPY),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(seconds),
                "--rate",
                "250",
                "--nonblocking",
                "--format",
                "raw",
                "--output",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid, out in zip(pids, outputs, strict=True)
    ]
    subprocess.run([*load[:1], "-d", f"{seconds + 2}s", *load[1:]], capture_output=True, check=True)  # noqa: S603
    for spy in spies:
        spy.wait(timeout=60)
    merged = WORK / f"profile-{name}.txt"
    merged.write_text("".join(out.read_text() for out in outputs if out.exists()))
    for out in outputs:
        out.unlink(missing_ok=True)
    return merged


def summarise(name: str, folded: Path, top: int) -> str:
    """Self and inclusive time per frame (ours, Django's, gunicorn's), as shares of the busy samples."""
    self_time: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    busy = 0
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not frames or any(frames[-1].startswith(w) for w in WAITING):
            continue
        n = int(count)
        busy += n
        self_time[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    lines = [f"## {name}: {busy:,} busy samples", "", "| self % | frame |", "| ---: | --- |"]
    lines += [f"| {n / busy:.1%} | `{frame}` |" for frame, n in self_time.most_common(top)]
    lines += ["", "| inclusive % | frame (portal, accounts, transactions, django) |", "| ---: | --- |"]
    ours = [
        (frame, n)
        for frame, n in inclusive.most_common()
        if any(part in frame for part in ("portal/", "accounts/", "transactions/", "django/", "gunicorn/"))
    ]
    lines += [f"| {n / busy:.1%} | `{frame}` |" for frame, n in ours[: top * 2]]
    report = "\n".join(lines) + "\n"
    (WORK / f"profile-{name}.md").write_text(report)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds sampled per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--top", type=int, default=15, help="frames listed per table")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated scenarios (floor, dashboard, transfers, payee, outward); all without it",
    )
    options = parser.parse_args()
    if not shutil.which("wrk") or not PY_SPY.exists():
        raise SystemExit("wrk and py-spy are needed: apt-get install wrk; make install (py-spy: dev extra)")
    env = portal_env()
    dsn = f"{PG}/{DB}"
    try:
        heavy, source, destination = bench_accounts(dsn)
    except psycopg.Error as error:
        raise SystemExit(f"no bench database ({error}): run `make bench` once first") from None
    alice_payee, payer_payees = make_payees(dsn, source, external_accounts(dsn, options.connections))
    cert, key = make_certificate()
    c = options.connections
    server = start_gunicorn("portal.wsgi:application", f"127.0.0.1:{PORT}", env, cert, key, 1, c)
    try:
        wait_until_up(f"{PORTAL}/health/")
        reader = log_in(heavy, DEMO_PASSWORD if heavy.endswith("@example.com") else PASSWORD)
        mover = log_in("alice@example.com", DEMO_PASSWORD)
        paying = []
        for email, account, payee in payer_payees:
            session = log_in(email, DEMO_PASSWORD if email.endswith("@example.com") else PASSWORD)
            paying.append(f"{session.cookie}|{session.csrf}|{account}|{payee}")
        pids = worker_pids(server.pid)
        wrk = ["wrk", "-t2", f"-c{c}"]
        payee_lua = str(ROOT / "bench" / "payee.lua")
        alice = f"{mover.cookie}|{mover.csrf}|{source}|{alice_payee}"
        auth = ["-H", f"Cookie: {reader.cookie}"]
        post = [
            *("-H", f"Cookie: {mover.cookie}", "-H", f"X-CSRFToken: {mover.csrf}"),
            *("-H", f"Referer: {PORTAL}/transfers/new/"),
            *("-H", "Content-Type: application/x-www-form-urlencoded"),
            *("-s", str(ROOT / "bench" / "transfer.lua")),
        ]
        scenarios = {
            "floor": [*wrk, *auth, f"{PORTAL}/session/ping/"],
            "dashboard": [*wrk, *auth, f"{PORTAL}/"],
            "transfers": [*wrk, *post, PORTAL, "--", str(source), str(destination)],
            # alice to her payee at another bank; 16 customers each to their own (bench/run.py's scenarios)
            "payee": [*wrk, "-s", payee_lua, PORTAL, "--", alice],
            "outward": [*wrk, "-s", payee_lua, PORTAL, "--", *paying],
        }
        wanted = [name.strip() for name in options.only.split(",") if name.strip()] or list(scenarios)
        if unknown := set(wanted) - set(scenarios):
            raise SystemExit(f"--only: no scenario {', '.join(sorted(unknown))}")
        for name in wanted:
            load = scenarios[name]
            say(f"profiling {name} @{c} for {options.duration} s (workers {pids})")
            folded = record(name, pids, options.duration, load)
            print(summarise(name, folded, options.top))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
