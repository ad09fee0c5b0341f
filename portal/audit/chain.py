"""The audit chain: seal recorded events into an HMAC chain, anchor its head outside the database, verify it.

`audit_record` (portal/audit/record.py) is one INSERT with no lock; a single chain written at insert time
would serialize every money movement behind one lock (DESIGN.md measured it), so the chain is made
afterwards: `audit_seal` (a Celery beat task every minute, and `manage.py audit_verify`) takes the unsealed
events in `seq` order and sets on each

    prev_hash = the hash of the sealed event before it (64 zeros for the first one)
    hash      = HMAC-SHA256(AUDIT_HMAC_KEY, prev_hash + canonical JSON of the event's fields)

The key is not in the database (settings: `AUDIT_HMAC_KEY` from the environment), so someone who can write
the table, even with the triggers off, cannot compute a hash `audit_verify` accepts. After each run that
sealed something, the new head (seq, hash, time) is appended to the anchor file and logged
(portal/audit/anchor.py): places the database role cannot reach, which pin the chain against a rewrite by
someone who does hold the key and against the deletion of its newest events.

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

What the chain does not catch on its own: removal of the newest sealed events (nothing follows them to
notice), by someone able to bypass the triggers. The anchors catch it: `audit_verify --anchors FILE` (or
`--expect-head SEQ:HASH`) reports an anchored seq that is gone or whose hash changed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from portal.audit.anchor import Anchor, anchor_write
from portal.models import AuditEvent

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
# pg_advisory_xact_lock key of the sealer: any constant that no other code in the database uses.
SEAL_LOCK_KEY = 0x5EC0_A0D1_7000_0001


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


def hmac_key() -> bytes:
    """The chain's key: settings.AUDIT_HMAC_KEY (from the environment, never from the database)."""
    return settings.AUDIT_HMAC_KEY.encode()


def event_hash(prev_hash: str, seq: int, values: tuple, *, key: bytes | None = None) -> str:
    """HMAC-SHA256 of the previous hash and the event's canonical bytes, keyed with `key` (by default the
    configured key). Computed by the sealer and the verifier only, never on the recording path."""
    message = prev_hash.encode("ascii") + canonical(seq, values)
    return hmac.new(hmac_key() if key is None else key, message, hashlib.sha256).hexdigest()


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
    sealed, key = 0, hmac_key()
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
                digest = event_hash(head_hash, seq, tuple(values), key=key)
                params.append((head_hash, digest, seq))
                head_seq, head_hash = seq, digest
            _write_seals(cursor, params)
            sealed += len(rows)
        if sealed:
            # After COMMIT (of the outermost transaction, if a caller holds one): never anchor a head that
            # rolled back.
            anchor = (head_seq, head_hash, timezone.now())
            transaction.on_commit(lambda: anchor_write(*anchor))
    if sealed:
        logger.info("audit: sealed %d event(s); chain head seq=%d hash=%s", sealed, head_seq, head_hash)
    return sealed


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    kind: str  # "edited", "broken link", "unsealed", "anchor mismatch" or "anchor missing"
    detail: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.kind}: {self.detail}"


@dataclass
class AuditVerification:
    checked: int = 0
    head_seq: int | None = None
    head_hash: str | None = None
    unsealed: int = 0
    anchors_checked: int = 0
    last_anchor: Anchor | None = None  # the anchor with the largest seq, when anchors were given
    problems: list[AuditProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def bad_seqs(self) -> list[int]:
        return sorted({problem.seq for problem in self.problems})


def audit_verify(*, anchors: Iterable[Anchor] = (), chunk_size: int = 5000) -> AuditVerification:
    """Recompute the chain over every sealed event, in seq order, with the configured key. Sequences have
    gaps (a rolled-back INSERT uses up its seq), so a missing seq proves nothing; the links do: each sealed
    event's prev_hash must be the hash of the sealed event before it, so a deleted, inserted or reordered
    event breaks the link of the next one, and an edited event (or one whose hash was computed without
    the key) no longer matches its own hash. Each of `anchors` (seq and hash kept outside the database) must
    name a sealed event with that very hash: that catches a tail rewritten with the key and a deleted tail."""
    result = AuditVerification()
    pinned: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        pinned.setdefault(anchor.seq, []).append(anchor)
        if result.last_anchor is None or anchor.seq > result.last_anchor.seq:
            result.last_anchor = anchor
    key = hmac_key()
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
        if event_hash(prev_hash or "", seq, tuple(values), key=key) != stored_hash:
            result.problems.append(
                AuditProblem(
                    seq,
                    "edited",
                    "its contents no longer match its hash (edited, or hashed without the chain's key)",
                )
            )
        for anchor in pinned.pop(seq, ()):
            result.anchors_checked += 1
            if anchor.hash != stored_hash:
                result.problems.append(
                    AuditProblem(
                        seq,
                        "anchor mismatch",
                        f"anchored {anchor}, but its hash is now {stored_hash}: the chain was rewritten",
                    )
                )
        result.checked += 1
        expected_prev, previous = stored_hash, seq
    for seq, missing in pinned.items():  # anchored seqs no longer in the chain
        result.anchors_checked += len(missing)
        gone = "after the chain's head" if previous is None or seq > previous else "from inside the chain"
        result.problems.append(
            AuditProblem(
                seq,
                "anchor missing",
                f"anchored {missing[0]}, but no sealed event has this seq: sealed events were deleted {gone} "
                f"(the chain now ends at {f'seq {previous}' if previous is not None else 'nothing'})",
            )
        )
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
