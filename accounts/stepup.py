"""Step-up: a sensitive action asks again for proof that the person at the keyboard is the customer.

What counts as proof: a fresh code from the customer's authenticator app or one of their backup codes when
two-factor auth is on; their password when it is off (the step-up page says which it asks for, and why).

A proof made on the step-up page (`/security/verify/?action=...&next=...`, view `accounts.views.step_up`)
becomes a *grant* kept in the session:
- bound to one action name (and, optionally, a binding string such as a digest of a transfer's payee and
  amount): a grant for "2fa.disable" does not satisfy "payee.add", nor a transfer of another amount;
- fresh for STEP_UP_MAX_AGE seconds (5 minutes) from the code being entered;
- used once: consuming it (when the action is carried out) removes it.
The binding never travels in the URL: `step_up_redirect` keeps it in the session, so the step-up page
grants exactly what the view asked for.

API
---
For a view (a page that answers GET with a confirmation form and POSTs to itself)::

    @login_required
    @step_up_required("2fa.disable")
    def two_factor_disable(request): ...

GET (and HEAD) only check the grant, so the confirmation page can be shown; any other method consumes it,
so one proof carries out the action once. Without a grant the decorator sends the customer to the step-up
page and back to this URL (the GET page: after a POST they confirm once more).

For a view that decides at run time (a transfer above settings.TRANSFER_STEP_UP_PAISE)::

    binding = step_up_binding(payee_id, amount_paise)
    if amount_paise > settings.TRANSFER_STEP_UP_PAISE:
        if not step_up_consume(request, "transfer.large", binding):
            return step_up_redirect(request, "transfer.large", binding, next_url=review_url)
    ...  # move the money

`step_up_satisfied` checks without consuming (e.g. to draw the review page differently).
Action names must be in STEP_UP_ACTIONS, which gives each the words the step-up page shows.
The page itself records `stepup.success` / `stepup.failure` audit events with the action, and after
STEP_UP_MAX_FAILURES wrong answers in a row signs the session out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

STEP_UP_MAX_AGE = 5 * 60  # seconds a proof stays good for its action
STEP_UP_MAX_FAILURES = 5  # wrong answers in a row before the session is signed out

# Every action that may ask for a step-up, with what the step-up page tells the customer it is for.
STEP_UP_ACTIONS: dict[str, str] = {
    "2fa.enable": "turn on two-factor authentication",
    "2fa.disable": "turn off two-factor authentication",
    "2fa.backup_codes.regenerate": "make new backup codes",
    "transfer.large": "send a large transfer",
    "transfer.payee": "send money to a new payee",
    "transfer.schedule": "set up a scheduled transfer",
    "payee.add": "add a payee",
    "limits.change": "change your limits",
    "admin.enter": "enter the staff admin site",
}

_GRANTS = "stepup.grants"  # {action: {"at": unix time, "binding": str | None}}
_REQUESTS = "stepup.requests"  # {action: binding | None}: what the step-up page will grant
_SUMMARIES = "stepup.summaries"  # {action: [[term, value], ...]}: what the step-up page repeats


def step_up_binding(*parts: Any) -> str:
    """A short digest of what an action is about (e.g. payee id and amount), to bind a grant to it."""
    return hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()[:32]


def _now() -> float:
    return timezone.now().timestamp()


def _fresh(request: HttpRequest, action: str, binding: str | None) -> bool:
    grant = request.session.get(_GRANTS, {}).get(action)
    return (
        grant is not None
        and grant.get("binding") == binding
        and 0 <= _now() - grant.get("at", 0) <= STEP_UP_MAX_AGE
    )


def step_up_satisfied(request: HttpRequest, action: str, binding: str | None = None) -> bool:
    """Whether a fresh proof was given for this action (and binding). Does not use it up."""
    return _fresh(request, action, binding)


def step_up_consume(request: HttpRequest, action: str, binding: str | None = None) -> bool:
    """Use up the proof for this action: True once per proof, then False until the customer proves again.
    An unfresh or differently bound grant is dropped too."""
    ok = _fresh(request, action, binding)
    grants = request.session.get(_GRANTS, {})
    if action in grants:
        del grants[action]
        request.session[_GRANTS] = grants
    return ok


def step_up_redirect(
    request: HttpRequest,
    action: str,
    binding: str | None = None,
    next_url: str | None = None,
    summary: list[tuple[str, str]] | None = None,
) -> HttpResponse:
    """Send the customer to the step-up page for `action`; after it, back to `next_url` (a path on this
    site: default, the current path). An HTMX request gets HX-Redirect, so the browser loads the page.
    `summary` is what the step-up page repeats of what is being authorised, as (term, value) pairs (a
    transfer's amount, from and to); like the binding, it is kept in the session, not put in the URL."""
    if action not in STEP_UP_ACTIONS:
        raise ImproperlyConfigured(f"Unknown step-up action {action!r}: add it to STEP_UP_ACTIONS.")
    requests = request.session.get(_REQUESTS, {})
    requests[action] = binding
    request.session[_REQUESTS] = requests
    summaries = request.session.get(_SUMMARIES, {})
    summaries[action] = summary or []
    request.session[_SUMMARIES] = summaries
    query = urlencode({"action": action, "next": next_url or request.path}, safe="/")
    url = f"{reverse('step_up')}?{query}"
    if getattr(request, "htmx", False):  # a whole-page visit, not a fragment swapped into the form
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def step_up_summary(request: HttpRequest, action: str) -> list[tuple[str, str]]:
    """What `step_up_redirect` said is being authorised for `action`, as (term, value) pairs, while that
    request waits for its proof; none once it was granted (or for a page opened directly)."""
    if action not in request.session.get(_REQUESTS, {}):
        return []
    return [(term, value) for term, value in request.session.get(_SUMMARIES, {}).get(action, [])]


def step_up_tries_left(failures: int) -> int:
    """Wrong answers the customer may still give before the session is signed out."""
    return max(0, STEP_UP_MAX_FAILURES - failures)


def step_up_grant(request: HttpRequest, action: str) -> None:
    """Called by the step-up page once the customer proved who they are: a fresh grant for `action`,
    bound to what `step_up_redirect` asked for (nothing, if the page was opened directly)."""
    requests = request.session.get(_REQUESTS, {})
    binding = requests.pop(action, None)
    request.session[_REQUESTS] = requests
    summaries = request.session.get(_SUMMARIES, {})
    if summaries.pop(action, None) is not None:  # the summary described that request: it is answered
        request.session[_SUMMARIES] = summaries
    grants = request.session.get(_GRANTS, {})
    grants[action] = {"at": _now(), "binding": binding}
    request.session[_GRANTS] = grants


def step_up_required(action: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorate a view whose GET shows a confirmation form and whose POST carries out `action`."""
    if action not in STEP_UP_ACTIONS:
        raise ImproperlyConfigured(f"Unknown step-up action {action!r}: add it to STEP_UP_ACTIONS.")

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if request.method in ("GET", "HEAD"):
                ok = step_up_satisfied(request, action)
            else:
                ok = step_up_consume(request, action)
            if not ok:
                return step_up_redirect(request, action, next_url=request.path)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
