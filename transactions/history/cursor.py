"""The position of a history page, as the "newer" and "older" links carry it: the (created, id) of the row
the page continues from, and which way, signed with the account's id so that a cursor cannot be edited or
moved to another account (a forged or foreign cursor is refused: `CursorError`)."""

import datetime
from dataclasses import dataclass

from django.core import signing

_SALT = "transactions.history.cursor"
OLDER, NEWER = "o", "n"


class CursorError(Exception):
    """The cursor is not one this portal made for this account."""


@dataclass(frozen=True)
class Cursor:
    created: datetime.datetime
    id: int
    direction: str  # OLDER: the rows after this one in history order (older); NEWER: those before it

    def sign(self, account_id: int) -> str:
        payload = [account_id, self.created.isoformat(), self.id, self.direction]
        return signing.dumps(payload, salt=_SALT, compress=False)

    @classmethod
    def load(cls, token: str, account_id: int) -> "Cursor":
        try:
            owner, created, pk, direction = signing.loads(token, salt=_SALT)
            moment = datetime.datetime.fromisoformat(created)
        except (signing.BadSignature, ValueError, TypeError):
            raise CursorError("not a cursor") from None
        if owner != account_id or direction not in (OLDER, NEWER) or type(pk) is not int:
            raise CursorError("not this account's cursor")
        if moment.tzinfo is None:
            raise CursorError("not a cursor")
        return cls(created=moment, id=pk, direction=direction)
