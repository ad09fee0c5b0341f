"""Transfers waiting on the customer's review, kept in their session between the form and the confirmation.

The form's POST stores the checked details under a fresh random token and redirects to
`/transfers/review/<token>/` (POST/redirect/GET): the review is then a GET page that the browser can show
again on Back and reload, with no "resubmit the form?" prompt, and every signed-in page can be `no-store`.
A token lives in one customer's session, so another customer's token is simply not found (404). The
confirmation re-checks everything, and the idempotency key stored with the details makes a second
confirmation (Back, then Confirm again) return the first transfer instead of moving money twice.
"""

import secrets

from django.contrib.sessions.backends.base import SessionBase

SESSION_KEY = "transfer_reviews"
# A session keeps the newest few reviews (several tabs, Back and forth); older ones are dropped.
KEEP = 10
FIELDS = ("source", "destination", "amount", "description", "idempotency_key")


def review_save(session: SessionBase, details: dict[str, str]) -> str:
    """Store the form's checked details (as the strings the form cleans) and return their new token."""
    token = secrets.token_urlsafe(16)
    pending = dict(session.get(SESSION_KEY, {}))
    pending[token] = {name: str(details.get(name, "")) for name in FIELDS}
    session[SESSION_KEY] = dict(list(pending.items())[-KEEP:])
    return token


def review_get(session: SessionBase, token: str) -> dict[str, str] | None:
    """The details stored under `token` in this session, or None."""
    found = session.get(SESSION_KEY, {}).get(token)
    return dict(found) if found else None
