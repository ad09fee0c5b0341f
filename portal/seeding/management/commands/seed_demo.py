"""`manage.py seed_demo`: load the demo customers and their year of banking (portal/seeding/demo.py, posted
by portal/seeding/demo_load.py).

It refuses, unless `--allow-production` says so explicitly, to run with DEBUG off or against a database
holding customers that no loader made (portal/seeding/guards.py). The staff superuser gets the published
demo password only on the embedded default (DEBUG on, SQLite); anywhere else a random one, printed once.
If the demo customers already have a ledger the command says so and stops at once.
"""

import secrets
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.seeding import demo, demo_load, guards
from portal.seeding.demo_load import Loaded


class Command(BaseCommand):
    help = "Create the demo customers alice, bob and charlie with a year of everyday banking."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help=(
                "load even with DEBUG off or beside customers no loader made (a bench database, say). The "
                "demo customers still get the published password; the staff user a random one, printed once."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if demo_load.is_loaded():
            self.stdout.write("SecureBank demo data already loaded: nothing to do.")
            return
        self._check_database(allowed=options["allow_production"])
        embedded = guards.embedded_default()
        staff_password = demo.DEMO_PASSWORD if embedded else secrets.token_urlsafe(18)
        anchor = demo.today()
        self.stdout.write(f"Loading SecureBank demo data: the year up to {anchor:%-d %b %Y}...")
        started = time.monotonic()
        try:
            staff_made, loaded = demo_load.seed(
                anchor, progress=self._progress, staff_password=staff_password
            )
        except demo.PlanError as exc:
            raise CommandError(str(exc)) from exc
        self._summary(loaded, time.monotonic() - started)
        self._staff(made=staff_made, password=staff_password, embedded=embedded)

    def _check_database(self, *, allowed: bool) -> None:
        if allowed:
            return
        if not settings.DEBUG:
            raise CommandError(
                "DEBUG is off: this may be a real bank, and seed_demo makes customers with a published "
                "password. Use --allow-production to load it anyway (the staff user then gets a random "
                "password, printed once)."
            )
        if foreign := guards.foreign_customers():
            raise CommandError(
                f"This database holds {foreign:,} customers that no loader made: seed_demo loads only beside "
                "its own data. Use --allow-production to load beside them anyway."
            )

    def _progress(self, result: Loaded) -> None:
        self.stdout.write(
            f"  {result.customer.email}: {result.accounts} accounts, {result.posted} new transactions "
            f"({result.planned} planned)"
        )

    def _summary(self, loaded: list[Loaded], elapsed: float) -> None:
        accounts = sum(result.accounts for result in loaded)
        posted = sum(result.posted for result in loaded)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded in {elapsed:.1f} s: {len(loaded)} customers, {accounts} accounts, "
                f"{posted} transactions."
            )
        )
        self.stdout.write("  Customer logins: " + ", ".join(result.customer.email for result in loaded))
        self.stdout.write(f"  Customer password (published, the same for all): {demo.DEMO_PASSWORD}")

    def _staff(self, *, made: bool, password: str, embedded: bool) -> None:
        self.stdout.write(f"  Staff login (superuser, admin site): {demo.STAFF_EMAIL}")
        if not made:
            self.stdout.write("  The staff user existed already: its password is unchanged.")
        elif embedded:
            self.stdout.write(f"  Staff password (the demo's, embedded default only): {password}")
        else:
            self.stdout.write(f"  Staff password, shown this once (random, kept only as a hash): {password}")
        self.stdout.write(
            f"  The admin needs two-factor auth: `manage.py enrol_totp {demo.STAFF_EMAIL}` prints the key."
        )
