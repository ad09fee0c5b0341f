"""`manage.py seed_scale --customers N --entries M`: a ledger at scale for benchmarks, by PostgreSQL COPY.

What is loaded lives in `portal/seeding/scale.py`, how in `portal/seeding/copy_load.py`; this command checks
that the database may be loaded, and reports. It refuses, with no way round, a database that holds
customers no loader made (portal/seeding/guards.py), and one that already holds scale data.
"""

import argparse
import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from accounts.internal import ensure_internal_accounts
from accounts.models import Account
from portal.seeding import demo, guards, scale
from portal.seeding.copy_load import LoadReport, ScaleLoad
from portal.seeding.models import SeededUser
from portal.seeding.scale import ScaleLoadError, ScaleSpec
from transactions.categories import ensure_categories
from transactions.models import Category


class Command(BaseCommand):
    help = (
        "Bulk-load synthetic customers and a balanced ledger of M entries (PostgreSQL COPY), one merchant "
        "account holding --hot-entries of them. For benchmark databases, never for real ones."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, required=True, help="customers to create (N >= 2)")
        parser.add_argument("--entries", type=int, required=True, help="ledger entries (M, even)")
        parser.add_argument(
            "--hot-entries",
            type=int,
            default=None,
            help="entries on the merchant's current account (default: 1,000,000 or M/10 if smaller)",
        )
        parser.add_argument("--years", type=int, default=3, help="years of history up to yesterday")
        parser.add_argument("--seed", type=int, default=2024, help="random seed (same seed, same data)")
        parser.add_argument(
            "--password",
            default=None,
            help="password of every seeded customer (default: none, they cannot sign in)",
        )
        # Gone on purpose; named here so that argparse does not take it for Django's --force-color.
        parser.add_argument("--force", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["force"]:
            raise CommandError(
                "--force is gone: seed_scale loads only a database of its own, never beside real customers."
            )
        if connection.vendor != "postgresql":
            raise CommandError(
                f"seed_scale loads with PostgreSQL's COPY; this database is {connection.vendor}. "
                "Set DATABASE_URL to a PostgreSQL database."
            )
        entries = options["entries"]
        hot = options["hot_entries"]
        spec = ScaleSpec(
            customers=options["customers"],
            entries=entries,
            hot_entries=scale.default_hot_entries(entries) if hot is None else hot,
            end=demo.today(),
            years=options["years"],
            seed=options["seed"],
        )
        try:
            spec.validate()
        except ScaleLoadError as exc:
            raise CommandError(str(exc)) from exc
        self._check_database()

        ensure_internal_accounts(Account)
        ensure_categories(Category)
        password_hash = make_password(options["password"])  # hashed once for all: the hasher is slow
        self.stdout.write(
            f"Loading {spec.customers:,} customers and {spec.entries:,} entries "
            f"({spec.start:%-d %b %Y} to {spec.end - datetime.timedelta(days=1):%-d %b %Y}), "
            f"{spec.hot_entries:,} of them on one merchant account..."
        )
        try:
            report = ScaleLoad(spec, password_hash=password_hash, say=self._say).run()
        except ScaleLoadError as exc:
            raise CommandError(f"{exc} Nothing was committed.") from exc
        self._summary(report, password=options["password"])

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()  # progress shows as it happens, even through a pipe

    def _check_database(self) -> None:
        seeded = guards.seeded_by(SeededUser.Loader.SCALE)
        if seeded:
            raise CommandError(
                f"This database already holds scale data ({seeded:,} seeded customers). "
                "Load into a fresh database: createdb, then manage.py migrate."
            )
        if foreign := guards.foreign_customers():
            raise CommandError(
                f"This database holds {foreign:,} customers that no loader made. seed_scale locks the "
                "ledger, turns its triggers off and rewrites balances: it loads only a database of its own "
                "(createdb, then manage.py migrate)."
            )

    def _summary(self, report: LoadReport, *, password: str | None) -> None:
        timings = ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in report.timings.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {report.customers:,} customers, {report.accounts:,} accounts, "
                f"{report.transactions:,} transactions, {report.entries:,} entries "
                f"in {report.timings['total']:.0f} s."
            )
        )
        self.stdout.write(f"  Phases: {timings}")
        self.stdout.write(f"  Triggers were off by {report.triggers_off_by}; the books were proved in SQL.")
        self.stdout.write(f"  Database size: {report.database_bytes / 2**30:.2f} GiB")
        self.stdout.write(
            f"  Hot customer: {report.hot_email}, account {report.hot_account} "
            f"with {report.hot_entries:,} entries"
        )
        if password:
            self.stdout.write("  Every seeded customer signs in with the password given by --password.")
        else:
            self.stdout.write("  Seeded customers have no usable password (give one with --password).")
