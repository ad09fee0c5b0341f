"""`manage.py audit_verify`: seal what is final, then recompute the whole audit chain, and compare it with
anchors kept outside the database.

    manage.py audit_verify                            # the chain, with AUDIT_HMAC_KEY
    manage.py audit_verify --anchors anchors.jsonl    # and every anchor of the file (or of a log export)
    manage.py audit_verify --expect-head 1234:5f0c... # and a head noted earlier (repeatable)

Exits 0 when the chain holds; otherwise lists every bad seq and exits 1 (CommandError).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.audit import Anchor, AnchorError, audit_seal, audit_verify, parse_head, read_anchors


class Command(BaseCommand):
    help = (
        "Seal the audit events that are final, then verify the HMAC chain over every sealed event and "
        "against the given anchors."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-seal", action="store_true", help="Verify only: do not seal new events first."
        )
        parser.add_argument(
            "--anchors",
            action="append",
            default=[],
            metavar="FILE",
            help="An anchor file (AUDIT_ANCHOR_FILE) or a JSON log export: every anchored head must still "
            "be in the chain with the same hash. Repeatable.",
        )
        parser.add_argument(
            "--expect-head",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="A head noted earlier (as this command prints it): that event must still be in the chain "
            "with that hash. Repeatable.",
        )

    def handle(
        self,
        *args: Any,
        no_seal: bool = False,
        anchors: list[str] | None = None,
        expect_head: list[str] | None = None,
        **options: Any,
    ) -> None:
        pinned = self._anchors(anchors or [], expect_head or [])
        if not no_seal:
            sealed = audit_seal()
            self.stdout.write(f"Sealed {sealed} new event(s).")
        result = audit_verify(anchors=pinned)
        if not result.ok:
            lines = [str(problem) for problem in result.problems]
            raise CommandError(
                f"The audit chain is broken at seq {', '.join(map(str, result.bad_seqs))} "
                f"({result.checked} sealed events checked, {result.anchors_checked} anchors):\n"
                + "\n".join(lines)
            )
        head = (
            f"head seq {result.head_seq}, hash {result.head_hash} "
            f"(to check later: --expect-head {result.head_seq}:{result.head_hash})"
            if result.checked
            else "no sealed events"
        )
        self.stdout.write(
            self.style.SUCCESS(f"The audit chain holds: {result.checked} sealed event(s), {head}.")
            + (f" {result.unsealed} event(s) not sealed yet." if result.unsealed else "")
        )
        if result.last_anchor is not None:
            at_head = result.head_seq == result.last_anchor.seq
            newer = "" if at_head else " Events sealed after it are not anchored."
            self.stdout.write(
                f"{result.anchors_checked} anchor(s) match; the newest: {result.last_anchor}.{newer}"
            )
        elif anchors:
            self.stdout.write(self.style.WARNING("The anchor file(s) hold no anchor: nothing compared."))

    @staticmethod
    def _anchors(files: list[str], heads: list[str]) -> list[Anchor]:
        try:
            pinned = [parse_head(head) for head in heads]
            for path in files:
                pinned.extend(read_anchors(path))
        except AnchorError as error:
            raise CommandError(str(error)) from None
        except OSError as error:
            raise CommandError(f"Cannot read the anchors: {error.strerror}: {error.filename}") from None
        return pinned
