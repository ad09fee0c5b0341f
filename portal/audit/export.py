"""Export of the audit trail: streamed CSV for auditors (the admin's "Export CSV")."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db import models
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from portal.audit.chain import CHAIN_FIELDS

CSV_HEADER = ("seq", *CHAIN_FIELDS, "prev_hash", "hash")
# Cells a spreadsheet would run as a formula (CSV injection): prefixed with a quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def audit_csv(queryset: models.QuerySet, *, chunk_size: int = 5000) -> Iterator[str]:
    """CSV lines of the events of `queryset` in seq order, read in chunks from a server-side cursor: memory
    stays flat however many events. JSON columns are read as text (no parse and re-dump per row)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    # One chunk per `chunk_size` rows, not one per row: every chunk is a write to the client's socket.
    lines: list[str] = []
    rows = (
        queryset.order_by("seq")
        .annotate(before_text=Cast("before", TextField()), after_text=Cast("after", TextField()))
        .values_list(
            "seq",
            "created",
            "actor_id",
            "actor_email",
            "action",
            "object_type",
            "object_id",
            "before_text",
            "after_text",
            "ip",
            "user_agent",
            "request_id",
            "prev_hash",
            "hash",
        )
        .iterator(chunk_size=chunk_size)
    )
    tz = timezone.get_current_timezone()
    writerow = writer.writerow
    for (
        seq,
        created,
        actor_id,
        email,
        action,
        otype,
        oid,
        before,
        after,
        ip,
        agent,
        rid,
        prev,
        digest,
    ) in rows:
        line = (seq, created.astimezone(tz).isoformat(), actor_id, _safe(email), action, otype, _safe(oid))
        lines.append(writerow((*line, before, after, ip, _safe(agent), rid, prev, digest)))
        if len(lines) >= chunk_size:
            yield "".join(lines)
            lines.clear()
    if lines:
        yield "".join(lines)
