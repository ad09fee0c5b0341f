"""Is this a genuine SecureBank document? `/statements/verify/` answers for a file or its SHA-256.

A file is hashed as its chunks arrive (`HashingUploadHandler`) and none of its bytes are kept, in memory or on
disk: a third party's upload (a visa officer's copy of a customer's statement) is nobody's business but the
answer's. The answer names what the checksum belongs to with the masked account number and the period only:
no name, no balances (whoever holds the file has those; whoever holds only a checksum learns nothing more
than that such a statement exists).

Every kind of document SecureBank issues with a checksum has a finder in `FINDERS`, tried in turn: a
statement (its PDF or its CSV) and a transaction's receipt (its PDF, or the checksum printed in it)."""

import codecs
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.utils import timezone
from django.utils.formats import date_format

from transactions.statements import selectors

PDF, CSV = "pdf", "csv"
_HEAD_BYTES = 512  # enough to tell a PDF (%PDF-) from text from anything else


@dataclass(frozen=True)
class Genuine:
    """What a genuine checksum belongs to, as the verify page says it: a sentence ("Genuine SecureBank
    statement for account ••1234, 1 October 2026 to 31 October 2026, issued 1 November 2026") and the same
    facts as (term, value) pairs."""

    sentence: str
    facts: tuple[tuple[str, str], ...]


def _long_day(value) -> str:
    return date_format(value, "j F Y")


def statement_finder(checksum: str) -> Genuine | None:
    """A statement whose PDF or CSV has this checksum (its files may since have been removed by the retention
    job: the row, and its checksums, stay)."""
    statement = selectors.statement_by_checksum(checksum)
    if statement is None:
        return None
    account = statement.account.masked_number
    period = f"{_long_day(statement.first_day)} to {_long_day(statement.last_day)}"
    issued = _long_day(statement.issued_at or statement.finished_at or statement.created_at)
    return Genuine(
        sentence=f"Genuine SecureBank statement for account {account}, {period}, issued {issued}",
        facts=(
            ("Document", "Account statement"),
            ("Account", account),
            ("Period", period),
            ("Issued", issued),
        ),
    )


def receipt_finder(checksum: str) -> Genuine | None:
    """A transaction's receipt whose printed checksum (of its data) or whose PDF has this checksum: named by
    its reference, the masked account it was made for and its day in India (no amount, no parties)."""
    receipt = selectors.receipt_by_checksum(checksum)
    if receipt is None:
        return None
    account = receipt.account.masked_number
    reference = receipt.transaction.reference
    day = _long_day(timezone.localtime(receipt.transaction.created))
    return Genuine(
        sentence=f"Genuine SecureBank receipt {reference} for account {account}, {day}",
        facts=(
            ("Document", "Transaction receipt"),
            ("Reference", reference),
            ("Account", account),
            ("Date", day),
        ),
    )


# Every document with a checksum, tried in order.
FINDERS: tuple[Callable[[str], Genuine | None], ...] = (statement_finder, receipt_finder)


def find(checksum: str) -> Genuine | None:
    """The genuine document with this SHA-256 (64 lower-case hex digits), or None."""
    for finder in FINDERS:
        if found := finder(checksum):
            return found
    return None


class HashedUpload(UploadedFile):
    """An uploaded file reduced to what verification needs: its SHA-256, its size, and what kind of file its
    first bytes say it is (PDF, CSV-like text, or None). It has no content."""

    def __init__(
        self, *, name: str, content_type: str, size: int, sha256: str, kind: str | None, too_large: bool
    ):
        super().__init__(file=None, name=name, content_type=content_type, size=size)
        self.sha256 = sha256
        self.kind = kind
        self.too_large = too_large

    def open(self, mode=None):  # nothing to open: the bytes were never kept
        raise ValueError("A hashed upload has no content.")


def _kind(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return PDF
    if b"\x00" in head:
        return None
    try:  # text (our CSV starts with a byte order mark): valid UTF-8, a character cut at the end allowed
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    return CSV if head.strip() else None


class HashingUploadHandler(FileUploadHandler):
    """Hashes each uploaded file chunk by chunk and keeps none of it: FILES gets a `HashedUpload`. Past
    `max_bytes` it stops hashing and marks the file too large, reading (and dropping) up to `stop_after`
    more, so that a file a little too large gets a message beside the field; beyond that (a body sent
    without its length, which the view could not refuse up front) it drops the connection rather than read
    without end."""

    def __init__(self, request=None, *, max_bytes: int, stop_after: int = 1024 * 1024) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.stop_after = stop_after

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.digest = hashlib.sha256()
        self.size = 0
        self.head = b""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.size += len(raw_data)
        if self.size > self.max_bytes + self.stop_after:
            raise StopUpload(connection_reset=True)
        if self.size <= self.max_bytes:
            self.digest.update(raw_data)
        if len(self.head) < _HEAD_BYTES:
            self.head += raw_data[: _HEAD_BYTES - len(self.head)]
        return None  # no later handler gets the bytes: nothing is stored

    def file_complete(self, file_size: int) -> HashedUpload:
        return HashedUpload(
            name=self.file_name or "",
            content_type=self.content_type or "",
            size=self.size,
            sha256=self.digest.hexdigest(),
            kind=_kind(self.head),
            too_large=self.size > self.max_bytes,
        )
