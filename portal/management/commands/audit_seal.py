"""`manage.py audit_seal`: chain the audit events that are final now (what the beat task does)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portal.audit import audit_seal


class Command(BaseCommand):
    help = "Seal the audit events that are final into the hash chain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="Seal at most this many events.")

    def handle(self, *args: Any, limit: int | None = None, **options: Any) -> None:
        sealed = audit_seal(limit=limit)
        self.stdout.write(f"Sealed {sealed} event(s).")
