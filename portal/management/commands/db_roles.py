"""`manage.py db_roles`: give the runtime role (DATABASE_URL's user) exactly its privileges, after migrate.

Runs as the owner: manage.py connects owner commands through DATABASE_OWNER_URL (see manage.py). Idempotent.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from portal.dbroles import RoleError, grant_runtime


class Command(BaseCommand):
    help = "Grant the runtime database role the least privileges the portal and the workers use."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--role",
            default=None,
            help="The runtime role (default: DATABASE_RUNTIME_ROLE, else the user of DATABASE_URL).",
        )

    def handle(self, *args: Any, role: str | None = None, **options: Any) -> None:
        if connection.vendor != "postgresql":
            self.stdout.write(f"db_roles: nothing to do on {connection.vendor} (one user, no roles).")
            return
        role = role or settings.DATABASE_RUNTIME_ROLE
        if not role:
            raise CommandError("db_roles: no runtime role (set DATABASE_URL with a user, or --role)")
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                report = grant_runtime(cursor, role)
        except RoleError as error:
            raise CommandError(f"db_roles: {error}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Runtime role {report.role!r}: privileges set on {len(report.tables)} tables owned by "
                f"{report.owner!r}."
            )
        )
        if report.unlisted:
            self.stdout.write(
                "No policy in portal/dbroles.py for (given SELECT, INSERT, UPDATE): "
                + ", ".join(report.unlisted)
            )
