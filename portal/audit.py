"""The audit trail: record events in the action's transaction, seal them into a hash chain, verify the chain.

Writers stay parallel. `audit_record` is one INSERT in the caller's database transaction: no lock, no read of
the previous event. A single chain written at insert time would serialize every money movement behind one
lock (DESIGN.md measured it), so the chain is made afterwards: `audit_seal` (a Celery beat task every minute,
and `manage.py audit_verify`) takes the unsealed events in `seq` order and sets on each

    prev_hash = the hash of the sealed event before it (64 zeros for the first one)
    hash      = sha256(prev_hash + canonical JSON of the event's fields)

PostgreSQL refuses DELETE and any UPDATE except that one transition (migration portal/0002), and refuses an
INSERT that arrives already sealed. `audit_verify` recomputes the chain: an edited event no longer matches
its hash; a deleted, inserted or reordered one breaks the `prev_hash` link of its sealed successor.

The sealing horizon (why no event is skipped or chained out of order)
--------------------------------------------------------------------
`seq` comes from a sequence when the INSERT runs, but the event becomes visible only when its transaction
commits, so a transfer that draws seq 10 may commit after one that drew 11. Sealing 11 while 10 is still in
flight would chain 11 onto 9, and 10 would then be left below the head (never sealed) or chained out of
order. Rows of transactions still in flight are invisible to other sessions, so "the smallest seq of the
unsealed rows whose transaction is still running" cannot be read with SQL; a time margin ("older than a few
seconds") fails on any transaction held open longer than the margin. The rule used here is exact:

1. Read L, the sequence's last value. Every seq <= L was drawn before this read.
2. Then read from `pg_locks` the transactions holding ROW EXCLUSIVE on the audit table. A transaction takes
   that lock when its INSERT (or COPY) starts, before the INSERT draws its seq, and keeps it to COMMIT or
   ROLLBACK. So a transaction that drew a seq <= L took the lock before step 1; if it has not finished by
   step 2 it is in this set.
3. Wait until every transaction of that set has finished (new writers do not matter: they draw seqs > L).
4. Now every event with seq <= L is committed, hence visible, or rolled back for good: seal those, in seq
   order, after the current head. Events with seq > L wait for the next run.

Nobody waits on the sealer: it polls `pg_locks` and takes no lock a writer needs. If a writer stays open
longer than `wait_seconds` the run seals nothing and the next one tries again. This relies on the table's
sequence handing out values in call order (identity default, CACHE 1) and on events being written by INSERT
or COPY into the table (not with a seq drawn earlier by hand: such an event would land below the head and
`audit_verify` would report it). On SQLite (the embedded development default) writers are serialized by the
database lock, so every visible event is final. Only one sealer runs at a time: a transaction-level advisory
lock. The sealer must run in READ COMMITTED (Django's default) so that step 4 sees what committed in step 3.

What the chain does not catch on its own: removal of the newest events (nothing follows them to notice), by
someone able to bypass the triggers. Each sealing run logs the head (seq and hash): kept outside the
database, in the log store, those lines anchor the chain; `audit_verify` prints the head to compare.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.functional import Promise

from portal.client_address import client_ip_from_meta
from portal.logging import current_request_id, current_request_meta
from portal.models import AuditEvent

if TYPE_CHECKING:
    from django.http import HttpRequest

    from accounts.models import User

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
# pg_advisory_xact_lock key of the sealer: any constant that no other code in the database uses.
SEAL_LOCK_KEY = 0x5EC0_A0D1_7000_0001
REDACTED = "[redacted]"
# The actions recorded so far, besides "money.<kind>" for every posting (the admin lists them as filters).
AUDIT_ACTIONS = (
    "login.success",
    "login.failure",
    "login.lockout",
    "logout",
    "password.change",
    "login.otp_failure",
    "2fa.enable",
    "2fa.disable",
    "2fa.backup_codes.regenerate",
    "stepup.success",
    "stepup.failure",
    "admin.add",
    "admin.change",
    "admin.delete",
    "audit.export",
)
USER_AGENT_MAX = 300

# Key names whose values are never stored: passwords, OTP secrets and codes, session keys, CSRF tokens.
_SECRET_SUBSTRINGS = ("password", "passwd", "secret", "token", "csrf", "session", "cookie", "authoriz")
_SECRET_WORDS = re.compile(
    r"(?:^|[^a-z])(?:pwd|pin|cvv|otp|totp|hotp|api_?key|private_?key|backup_?codes?)\d*$"
)


# --- Recording --------------------------------------------------------------------------------------------


def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_SUBSTRINGS) or bool(_SECRET_WORDS.search(lowered))


def _jsonable(value: Any) -> Any:
    """Plain JSON values: model instances become their primary key, times ISO 8601, sets sorted lists."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Promise):  # a lazy translation
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, models.Model):
        return _jsonable(value.pk)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return REDACTED
    if isinstance(value, set | frozenset):
        return sorted((_jsonable(v) for v in value), key=str)
    if isinstance(value, Iterable):
        return [_jsonable(v) for v in value]
    return str(value)


def redact(value: Any) -> Any:
    """`value` as plain JSON with the value of every secret-looking key replaced, at any depth."""
    value = _jsonable(value)
    if isinstance(value, dict):
        return {k: (REDACTED if _is_secret(k) else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def audit_record(
    *,
    action: str,
    actor: User | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    before: dict | None = None,
    after: dict | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Append one event, in the caller's database transaction (one INSERT: if the action rolls back, so
    does its event). Where from comes from `request`, or else from the request this thread is serving.
    The actor defaults to the request's signed-in user. Secrets in `before`/`after` are redacted."""
    if request is not None:
        meta = request.META
        request_id = getattr(request, "request_id", "") or ""
        if actor is None:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                actor = user
    else:
        meta = current_request_meta()
        request_id = current_request_id() or ""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    event = AuditEvent(
        created=timezone.now(),
        actor=actor,
        actor_email=(getattr(actor, "email", "") or "")[:254] if actor is not None else "",
        action=action,
        object_type=object_type[:100],
        object_id=str(object_id)[:100],
        before=redact(before) if before is not None else None,
        after=redact(after) if after is not None else None,
        ip=client_ip_from_meta(meta),
        user_agent=str(meta.get("HTTP_USER_AGENT", ""))[:USER_AGENT_MAX],
        request_id=str(request_id)[:64],
    )
    _insert(event)
    return event


_INSERT_EVENT = """
INSERT INTO portal_auditevent
       (created, actor_id, actor_email, action, object_type, object_id, before, after, ip, user_agent,
        request_id)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
RETURNING seq
"""


def _insert(event: AuditEvent) -> None:
    """The INSERT by hand: it is on every posting's path, and the ORM's save() cost about 120 µs more
    Python per event (320 against 200 µs of CPU for a whole `audit_record`, measured)."""
    ops = connection.ops
    json_field = AuditEvent._meta.get_field("after")
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_EVENT,
            [
                ops.adapt_datetimefield_value(event.created),
                event.actor_id,
                event.actor_email,
                event.action,
                event.object_type,
                event.object_id,
                json_field.get_db_prep_save(event.before, connection),  # None: SQL NULL, not JSON null
                json_field.get_db_prep_save(event.after, connection),
                ops.adapt_ipaddressfield_value(event.ip),
                event.user_agent,
                event.request_id,
            ],
        )
        event.seq = cursor.fetchone()[0]
    event._state.adding, event._state.db = False, connection.alias


# --- The chain --------------------------------------------------------------------------------------------

# The fields a hash covers, in the order `_chain_rows` reads them after seq, prev_hash and hash.
CHAIN_FIELDS = (
    "created",
    "actor_id",
    "actor_email",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "ip",
    "user_agent",
    "request_id",
)


def canonical(seq: int, values: tuple) -> bytes:
    """The bytes an event's hash covers: sorted-key compact JSON (UTF-8) of seq and CHAIN_FIELDS, with the
    time in UTC to the microsecond, e.g. {"action":"logout","actor_email":"a@b.in",...,"seq":7}."""
    data = dict(zip(CHAIN_FIELDS, values, strict=True))
    data["created"] = data["created"].astimezone(UTC).isoformat(timespec="microseconds")
    data["seq"] = seq
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(prev_hash: str, seq: int, values: tuple) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(seq, values)).hexdigest()


def _chain_rows(queryset: models.QuerySet) -> models.QuerySet:
    return queryset.order_by("seq").values_list("seq", "prev_hash", "hash", *CHAIN_FIELDS)


_WRITERS = """
SELECT DISTINCT virtualtransaction FROM pg_locks
 WHERE locktype = 'relation'
   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND relation = %s::regclass
   AND mode = 'RowExclusiveLock' AND granted
   AND pid IS DISTINCT FROM pg_backend_pid()
"""


def _seal_horizon(wait_seconds: float) -> int | None:
    """The largest seq below which every event is final (see the module's docstring), or None if writers
    that may hold smaller seqs are still open after `wait_seconds`."""
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(f"SELECT MAX(seq) FROM {table}")  # noqa: S608 - the model's own table name
            return cursor.fetchone()[0] or 0
        cursor.execute("SELECT pg_sequence_last_value(pg_get_serial_sequence(%s, 'seq')::regclass)", [table])
        last = cursor.fetchone()[0]
        if last is None:  # no seq drawn yet
            return 0
        cursor.execute(_WRITERS, [table])
        writers = {row[0] for row in cursor.fetchall()}
        deadline = time.monotonic() + wait_seconds
        pause = 0.002
        while writers:
            if time.monotonic() > deadline:
                logger.warning(
                    "audit: %d writer(s) open for more than %.0f s; sealing postponed",
                    len(writers),
                    wait_seconds,
                )
                return None
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
            cursor.execute(_WRITERS, [table])
            writers &= {row[0] for row in cursor.fetchall()}
    return last


_SEAL = "UPDATE {table} SET prev_hash = %s, hash = %s WHERE seq = %s AND hash IS NULL"
# PostgreSQL: one statement per batch rather than one per event (the trigger still checks every row).
_SEAL_PG = """
UPDATE {table} AS event SET prev_hash = sealed.prev_hash, hash = sealed.hash
  FROM unnest(%s::varchar[], %s::varchar[], %s::bigint[]) AS sealed (prev_hash, hash, seq)
 WHERE event.seq = sealed.seq AND event.hash IS NULL
"""


def _write_seals(cursor: Any, params: list[tuple[str, str, int]]) -> None:
    table = AuditEvent._meta.db_table
    if connection.vendor == "postgresql":
        cursor.execute(_SEAL_PG.format(table=table), [list(column) for column in zip(*params, strict=True)])
    else:
        cursor.executemany(_SEAL.format(table=table), params)
    if cursor.rowcount != len(params):  # only if someone sealed behind the advisory lock's back
        raise RuntimeError(f"audit: sealed {cursor.rowcount} of {len(params)} events; chain not extended")


def audit_seal(*, limit: int | None = None, batch_size: int = 2000, wait_seconds: float = 10.0) -> int:
    """Chain the events that are final (below the horizon) after the current head, in seq order; return
    how many were sealed. Runs in one database transaction; `limit` caps the events of one run."""
    horizon = _seal_horizon(wait_seconds)
    if horizon is None:
        return 0
    sealed = 0
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])
        head = (
            AuditEvent.objects.filter(hash__isnull=False).order_by("-seq").values_list("seq", "hash").first()
        )
        head_seq, head_hash = head or (0, GENESIS)
        while limit is None or sealed < limit:
            size = batch_size if limit is None else min(batch_size, limit - sealed)
            rows = list(
                _chain_rows(AuditEvent.objects.filter(hash__isnull=True, seq__gt=head_seq, seq__lte=horizon))[
                    :size
                ]
            )
            if not rows:
                break
            params = []
            for seq, _prev, _hash, *values in rows:
                digest = event_hash(head_hash, seq, tuple(values))
                params.append((head_hash, digest, seq))
                head_seq, head_hash = seq, digest
            _write_seals(cursor, params)
            sealed += len(rows)
    if sealed:
        logger.info("audit: sealed %d event(s); chain head seq=%d hash=%s", sealed, head_seq, head_hash)
    return sealed


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    kind: str  # "edited", "broken link" or "unsealed"
    detail: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.kind}: {self.detail}"


@dataclass
class AuditVerification:
    checked: int = 0
    head_seq: int | None = None
    head_hash: str | None = None
    unsealed: int = 0
    problems: list[AuditProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def bad_seqs(self) -> list[int]:
        return sorted({problem.seq for problem in self.problems})


def audit_verify(*, chunk_size: int = 5000) -> AuditVerification:
    """Recompute the chain over every sealed event, in seq order. Sequences have gaps (a rolled-back INSERT
    uses up its seq), so a missing seq proves nothing; the links do: each sealed event's prev_hash must be
    the hash of the sealed event before it, so a deleted, inserted or reordered event breaks the link of the
    next one, and an edited event no longer matches its own hash."""
    result = AuditVerification()
    expected_prev, previous = GENESIS, None
    rows = _chain_rows(AuditEvent.objects.filter(hash__isnull=False)).iterator(chunk_size=chunk_size)
    for seq, prev_hash, stored_hash, *values in rows:
        if prev_hash != expected_prev:
            where = f"after seq {previous}" if previous is not None else "at the start of the chain"
            result.problems.append(
                AuditProblem(
                    seq,
                    "broken link",
                    f"prev_hash is not the hash of the sealed event before it: an event {where} was deleted "
                    "or had its hash rewritten, or events were inserted or reordered",
                )
            )
        if event_hash(prev_hash or "", seq, tuple(values)) != stored_hash:
            result.problems.append(AuditProblem(seq, "edited", "its contents no longer match its hash"))
        result.checked += 1
        expected_prev, previous = stored_hash, seq
    result.head_seq, result.head_hash = previous, (expected_prev if previous is not None else None)
    unsealed = AuditEvent.objects.filter(hash__isnull=True)
    result.unsealed = unsealed.count()
    if previous is not None:
        for seq in unsealed.filter(seq__lt=previous).order_by("seq").values_list("seq", flat=True)[:1000]:
            result.problems.append(
                AuditProblem(
                    seq,
                    "unsealed",
                    "older than the chain's head but not in the chain: inserted out of order, or unsealed",
                )
            )
    result.problems.sort(key=lambda problem: problem.seq)
    return result


# --- Export -----------------------------------------------------------------------------------------------

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
