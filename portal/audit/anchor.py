"""Anchors: the chain's sealed head, written outside the database after every sealing run, and read back.

Each run of `audit_seal` that extends the chain appends one anchor, after its transaction commits, to two
places the database role cannot reach:

- the anchor file (`AUDIT_ANCHOR_FILE`), one JSON object per line, opened O_APPEND and fsynced:
  {"seq": 1234, "hash": "5f0c…", "time": "2026-12-01T16:40:00.123456+00:00"}
- a JSON log line with the same fields (message "audit anchor", logger portal.audit.anchor), which the log
  shipper carries off the host.

`read_anchors` reads either: the anchor file, or an export of the log lines (any line that is not an anchor
is skipped). `manage.py audit_verify --anchors FILE` and `--expect-head SEQ:HASH` compare the chain with
them (portal/audit/chain.py `audit_verify`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog
from django.conf import settings

ANCHOR_MESSAGE = "audit anchor"
_HASH = re.compile(r"^[0-9a-f]{64}$")

logger = structlog.get_logger("portal.audit.anchor")


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    time: str = ""  # when it was sealed (ISO 8601), for the report; "" when given on the command line
    source: str = ""  # where it was read: "FILE line N" or "--expect-head"

    def __str__(self) -> str:
        when = f" sealed {self.time}" if self.time else ""
        return f"seq {self.seq} hash {self.hash}{when} ({self.source})"


class AnchorError(ValueError):
    """An anchor that cannot be read: a bad --expect-head value or a bad line in an anchor file."""


def anchor_write(seq: int, digest: str, at: datetime) -> None:
    """Append the head (seq, hash, time) to the anchor file and log it. Called after the seal commits: an
    anchor never names a head that rolled back. The log line goes first, so a full or read-only disk still
    leaves one copy; then the OSError propagates (the beat task fails loudly, the next run anchors again)."""
    line = {"seq": seq, "hash": digest, "time": at.isoformat(timespec="microseconds")}
    logger.info(ANCHOR_MESSAGE, **line)
    path = Path(settings.AUDIT_ANCHOR_FILE)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (json.dumps(line, separators=(",", ":")) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def parse_head(value: str) -> Anchor:
    """`SEQ:HASH` as printed by `audit_verify` (e.g. 1234:5f0c…), into an anchor."""
    seq, sep, digest = value.strip().partition(":")
    if not sep or not seq.isdigit() or not _HASH.match(digest.lower()):
        raise AnchorError(f"--expect-head wants SEQ:HASH (a number, a colon, 64 hex digits), not {value!r}")
    return Anchor(int(seq), digest.lower(), source="--expect-head")


def read_anchors(path: str | Path) -> Iterator[Anchor]:
    """The anchors of an anchor file or of a JSON log export, in file order. Blank lines and log lines that
    are not anchors are skipped; a line that claims to be an anchor but is malformed is an error."""
    with open(path, encoding="utf-8") as lines:
        for number, text in enumerate(lines, start=1):
            text = text.strip()
            if not text:
                continue
            where = f"{path} line {number}"
            try:
                line = json.loads(text)
            except ValueError:
                raise AnchorError(f"{where}: not JSON") from None
            if not isinstance(line, dict) or line.get("message", ANCHOR_MESSAGE) != ANCHOR_MESSAGE:
                continue  # another log line
            seq, digest = line.get("seq"), line.get("hash")
            if type(seq) is not int or seq < 1 or not isinstance(digest, str) or not _HASH.match(digest):
                raise AnchorError(f"{where}: an anchor needs an integer seq and a 64-hex-digit hash")
            yield Anchor(seq, digest, str(line.get("time", "")), where)
