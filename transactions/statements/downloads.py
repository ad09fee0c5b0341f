"""Downloading a statement's files: signed links that expire, and the file's answer.

A link is `/statements/<id>/download/<pdf|csv>/<token>/`. The token is a `TimestampSigner` signature (salt
of its own) of the statement's id, the format and the id of the user it was made for; the URL carries only
the time and the signature, and the value is made again from the URL and the signed-in user when the link
is followed. A link therefore opens one file of one statement, for one customer, for
`STATEMENT_LINK_SECONDS` (15 minutes): copied into an email or another browser's session it opens
nothing, and the statements page draws fresh links each time it is shown.

`file_response` streams a file from the `statements` storage and records the download in the audit trail.
It does not ask who may download: the customer's view has already found the statement among theirs
(selectors.statement_for) and checked the link; a staff path (the admin) asks `may_download` and its own
permission, then calls the same function."""

from django.conf import settings
from django.core import signing
from django.http import FileResponse, HttpRequest
from django.urls import reverse

from accounts.models import User
from portal.audit import audit_record
from transactions.statements.generate import file_name
from transactions.statements.models import Statement

SALT = "transactions.statements.download"
CONTENT_TYPES = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}
FORMATS = tuple(CONTENT_TYPES)


class LinkRefused(Exception):
    """The link cannot be followed: `code` is "expired" (signed by us, older than the link's life) or
    "invalid" (altered, made for another user, statement or format, or not ours at all)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class NoFiles(Exception):
    """The statement has no file to give: not ready yet, or its files were removed (retention) or lost."""


def _value(statement_id: int, fmt: str, user_id: int) -> str:
    return f"{statement_id}.{fmt}.{user_id}"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def token_for(*, statement_id: int, fmt: str, user_id: int) -> str:
    """The link's token: "<time>:<signature>" (the signed value is rebuilt from the URL and the user)."""
    value = _value(statement_id, fmt, user_id)
    return _signer().sign(value)[len(value) + 1 :]


def check_token(token: str, *, statement_id: int, fmt: str, user_id: int) -> None:
    """Raise LinkRefused unless `token` was made for this statement, format and user in the last
    `STATEMENT_LINK_SECONDS`. (The signature is checked before the age: an altered token is "invalid",
    never "expired".)"""
    try:
        _signer().unsign(
            f"{_value(statement_id, fmt, user_id)}:{token}", max_age=settings.STATEMENT_LINK_SECONDS
        )
    except signing.SignatureExpired:
        raise LinkRefused("expired") from None
    except signing.BadSignature:
        raise LinkRefused("invalid") from None


def download_url(statement: Statement, fmt: str, user: User) -> str:
    token = token_for(statement_id=statement.pk, fmt=fmt, user_id=user.pk)
    return reverse("statement_download", args=[statement.pk, fmt, token])


def may_download(user: User, statement: Statement) -> bool:
    """Whether `user` may have this statement's files through the customer's link: its account's owner.
    (Staff download from the admin, with the `statements.download_statement` permission: admin.py.)"""
    return user.is_authenticated and statement.account.owner_id == user.pk


def file_response(request: HttpRequest, statement: Statement, fmt: str) -> FileResponse:
    """The statement's PDF or CSV as an attachment with its clean name, never cached or sniffed, streamed
    from the `statements` storage; a GET is recorded (`statement.download`, with the format). Raises
    NoFiles if there is no file to give."""
    field = statement.pdf if fmt == "pdf" else statement.csv
    if fmt not in CONTENT_TYPES or not statement.has_files or not field:
        raise NoFiles
    try:
        handle = field.storage.open(field.name, "rb")
    except OSError:  # removed behind the row's back (FileNotFoundError), or the store is unreachable
        raise NoFiles from None
    if request.method == "GET":
        audit_record(
            action="statement.download",
            obj=statement,
            after={
                "format": fmt,
                "account": statement.account.masked_number,
                "first_day": statement.first_day.isoformat(),
                "last_day": statement.last_day.isoformat(),
            },
            request=request,
        )
    response = FileResponse(
        handle, as_attachment=True, filename=file_name(statement, fmt), content_type=CONTENT_TYPES[fmt]
    )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
