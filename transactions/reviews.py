"""Transfers waiting on the customer's review, kept in their session between the form and the confirmation.

The form's POST stores the checked details under a fresh random token and redirects to
`/transfers/review/<token>/` (POST/redirect/GET): the review is then a GET page that the browser can show
again on Back and reload, with no "resubmit the form?" prompt, and every signed-in page can be `no-store`.
A token lives in one customer's session, so another customer's token is simply not found (404). The
confirmation re-checks everything, and the idempotency key stored with the details makes a second
confirmation (Back, then Confirm again) return the first transfer instead of moving money twice.

"Change details" draws the form again with a new idempotency key (the changed details are another payment
to the ledger), so the key alone cannot stop the review it came from being confirmed as well. Each review
therefore remembers the review it was made from: a review made from another (directly, or from one made
from it) replaces every earlier review of that line, which then names the newest and is not confirmed.

A review cancelled from the step-up page ("Cancel the transfer") is marked so (`review_cancel`) and is then
never confirmed.

A review expires `EXPIRES_AFTER` after it was made (an amount, a payee's limits or the customer's mind may
have changed since a page was left open): it can then no longer be confirmed, only started again from.
"""

import datetime
import secrets

from django.contrib.sessions.backends.base import SessionBase
from django.utils import timezone

SESSION_KEY = "transfer_reviews"
# A session keeps the newest few reviews (several tabs, Back and forth); older ones are dropped.
KEEP = 10
FIELDS = ("source", "destination", "amount", "description", "idempotency_key")
# Stored with the details: the first review of a line of changes, and the review that replaced this one.
LINE, REPLACED_BY = "line", "replaced_by"
MADE_AT = "made_at"  # when the review was made (Unix time)
CANCELLED = "cancelled"  # set when the customer cancelled the transfer: it is then never confirmed
EXPIRES_AFTER = datetime.timedelta(minutes=10)
# The idempotency keys of replaced reviews, each with the review that replaced it: kept longer than the
# reviews themselves, so that a page left open on a replaced review cannot confirm it after it was dropped.
REPLACED_KEY = "transfer_reviews_replaced"
KEEP_REPLACED = 50


def review_save(session: SessionBase, details: dict[str, str], *, replaces: str = "") -> str:
    """Store the form's checked details (as the strings the form cleans) and return their new token.
    `replaces`: the token of the review whose "Change details" drew the form; it and every other review of
    its line are then replaced by this one."""
    token = secrets.token_urlsafe(16)
    pending = {key: dict(value) for key, value in session.get(SESSION_KEY, {}).items()}
    replaced = dict(session.get(REPLACED_KEY, {}))
    stored = {name: str(details.get(name, "")) for name in FIELDS}
    line = pending[replaces].get(LINE, replaces) if replaces in pending else token
    for key, review in pending.items():
        # (A review of the same key is the same payment, which its key already keeps to one transfer.)
        if review.get(LINE, key) == line and review.get("idempotency_key", "") != stored["idempotency_key"]:
            review[REPLACED_BY] = token
            replaced.pop(review.get("idempotency_key", ""), None)  # (re)inserted last: the newest are kept
            replaced[review.get("idempotency_key", "")] = token
    pending[token] = {**stored, LINE: line, MADE_AT: timezone.now().timestamp()}
    session[SESSION_KEY] = dict(list(pending.items())[-KEEP:])
    if replaced:
        session[REPLACED_KEY] = dict(list(replaced.items())[-KEEP_REPLACED:])
    return token


def review_get(session: SessionBase, token: str) -> dict[str, str] | None:
    """The details stored under `token` in this session, or None."""
    found = session.get(SESSION_KEY, {}).get(token)
    return {name: found.get(name, "") for name in FIELDS} if found else None


def review_replaced_by(session: SessionBase, *, token: str = "", idempotency_key: str = "") -> str | None:
    """If the review under `token`, or the review of `idempotency_key`, was replaced: the token of the
    newest review that replaced it (which may since have been dropped from the session). Else None."""
    pending = session.get(SESSION_KEY, {})
    newer = pending.get(token, {}).get(REPLACED_BY) if token else None
    if newer is None and idempotency_key:
        newer = session.get(REPLACED_KEY, {}).get(idempotency_key)
    if newer is None:
        return None
    return pending.get(newer, {}).get(REPLACED_BY, newer)  # every review of a line names the newest


def review_expired(session: SessionBase, token: str) -> bool:
    """Whether the review under `token` can no longer be confirmed for its age: older than EXPIRES_AFTER
    (a review stored without its time, before reviews expired, counts as expired), or not in this session
    at all. A session keeps only the KEEP newest reviews, so a page left open while newer ones were made
    names a token that was dropped, and its age can no longer be known: it is treated as expired."""
    found = session.get(SESSION_KEY, {}).get(token)
    if not found:
        return True
    made_at = found.get(MADE_AT)
    return made_at is None or timezone.now().timestamp() - made_at > EXPIRES_AFTER.total_seconds()


def review_differs(session: SessionBase, token: str, details: dict[str, str]) -> bool:
    """Whether `details` (a confirmation's hidden fields) differ from the review under `token`, if the
    session has it: a confirmation moves only what the customer reviewed."""
    found = review_get(session, token)
    return found is not None and any(str(details.get(name, "")) != found[name] for name in FIELDS)


def review_cancel(session: SessionBase, token: str) -> None:
    """Mark the review under `token` (if this session has it) as cancelled: it can no longer be confirmed."""
    pending = {key: dict(value) for key, value in session.get(SESSION_KEY, {}).items()}
    if token in pending:
        pending[token][CANCELLED] = True
        session[SESSION_KEY] = pending


def review_cancelled(session: SessionBase, token: str) -> bool:
    """Whether the review under `token` was cancelled."""
    return bool(session.get(SESSION_KEY, {}).get(token, {}).get(CANCELLED))
