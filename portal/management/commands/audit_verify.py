"""`manage.py audit_verify`: seal what is final, then recompute the whole audit chain.

Exits 0 when the chain holds; otherwise lists every bad seq and exits 1 (CommandError).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.audit import audit_seal, audit_verify


class Command(BaseCommand):
    help = "Seal the audit events that are final, then verify the hash chain over every sealed event."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-seal", action="store_true", help="Verify only: do not seal new events first."
        )

    def handle(self, *args: Any, no_seal: bool = False, **options: Any) -> None:
        if not no_seal:
            sealed = audit_seal()
            self.stdout.write(f"Sealed {sealed} new event(s).")
        result = audit_verify()
        if not result.ok:
            lines = [str(problem) for problem in result.problems]
            raise CommandError(
                f"The audit chain is broken at seq {', '.join(map(str, result.bad_seqs))} "
                f"({result.checked} sealed events checked):\n" + "\n".join(lines)
            )
        head = (
            f"head seq {result.head_seq}, hash {result.head_hash}" if result.checked else "no sealed events"
        )
        self.stdout.write(
            self.style.SUCCESS(f"The audit chain holds: {result.checked} sealed event(s), {head}.")
            + (f" {result.unsealed} event(s) not sealed yet." if result.unsealed else "")
        )
