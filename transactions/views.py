from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import otp
from accounts.stepup import step_up_binding, step_up_consume, step_up_redirect, step_up_satisfied
from portal import ratelimit
from portal.local_time import date_and_time, time_of_day, time_of_day_from
from portal.metrics import transfer_counted
from portal.money import format_paise, paise_to_input
from transactions import reviews, selectors, services
from transactions.forms import LimitsForm, TransferForm
from transactions.limits import is_raise
from transactions.models import Transaction, TransferLimits

_FORM = "transactions/transfer_form.html"
_REVIEW = "transactions/transfer_review.html"
_PREFILL = ("source", "destination", "amount", "description")


def _render_step(
    request: HttpRequest, template: str, context: dict, push_url: str = "", status: int = 200
) -> HttpResponse:
    """The whole page, or for HTMX just the part of the flow that changes (pushing its URL to history).
    A history restore (Back after the cache missed) needs the whole page."""
    fragment = request.htmx and not request.htmx.history_restore_request
    response = render(request, f"{template}#transfer-flow" if fragment else template, context, status=status)
    if fragment and push_url:
        response["HX-Push-Url"] = push_url
    return response


SAME_TRANSFER_WINDOW = timedelta(minutes=5)  # a second identical transfer within it is asked about


def _review_context(request: HttpRequest, form: TransferForm, token: str) -> dict:
    return {
        "form": form,
        "token": token,
        "step_up_above": settings.TRANSFER_STEP_UP_PAISE,
        "same_transfer": _same_transfer_question(request, form),
        # What a large transfer's step-up will ask of this customer: a code (2FA on) or the password.
        "step_up_uses_code": lambda: otp.has_two_factor(request.user),
    }


def _same_transfer_question(request: HttpRequest, form: TransferForm) -> str:
    """ "You sent the same amount to the same account 2 minutes ago: send again?" if this (cleaned) transfer
    repeats one made in the last few minutes, else "". The review then confirms with "Yes, send again"."""
    data = form.cleaned_data
    now = timezone.now()
    same = selectors.transfer_same_since(
        user=request.user,
        source=data["source"],
        destination=data["destination"],
        amount_paise=data["amount"],
        since=now - SAME_TRANSFER_WINDOW,
        other_than_key=data["idempotency_key"],
    )
    if same is None:
        return ""
    minutes = int((now - same.created).total_seconds() // 60)
    if minutes < 1:
        ago = _("less than a minute ago")
    else:
        ago = ngettext("%(n)d minute ago", "%(n)d minutes ago", minutes) % {"n": minutes}
    return _("You sent the same amount to the same account %(ago)s (at %(time)s): send again?") % {
        "ago": ago,
        "time": time_of_day(same.created),
    }


def _see_other(url: str) -> HttpResponseRedirect:
    """303: the browser follows a POST's answer with a GET, so Back and Reload never resubmit the form."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


@login_required
@require_http_methods(["GET", "POST"])
def transfer_new(request: HttpRequest) -> HttpResponse:
    """Step 1 (GET: the form, with a fresh idempotency key; `?change=<token>` refills it from a review) and
    step 2 (POST: check it, keep it for review in the session, redirect to the review)."""
    if request.method == "POST":
        form = TransferForm(request.POST, user=request.user)
        if form.is_valid() and form.check_funds():
            replaces = form.cleaned_data["replaces"]
            token = reviews.review_save(request.session, form.data, replaces=replaces)
            url = reverse("transfer_review", args=[token])
            if request.htmx:  # Swap the review in place; the address bar and history show its own URL.
                return _render_step(request, _REVIEW, _review_context(request, form, token), push_url=url)
            return _see_other(url)
    else:
        change = request.GET.get("change", "")
        changed = reviews.review_get(request.session, change)
        prefill = changed or request.GET
        initial = {key: prefill[key] for key in _PREFILL if key in prefill}
        initial.update(idempotency_key=TransferForm.new_key(), replaces=change if changed else "")
        form = TransferForm(user=request.user, initial=initial)
    return _render_step(request, _FORM, {"form": form})


@login_required
@require_safe
def transfer_review(request: HttpRequest, token: str) -> HttpResponse:
    """Step 2's page: the details kept in this session under `token`, checked again (an account may have
    been frozen since). Back from the receipt lands here; confirming again is safe (idempotency key)."""
    details = reviews.review_get(request.session, token)
    if details is None:
        raise Http404("No such transfer to review.")
    key = details["idempotency_key"]
    if newer := reviews.review_replaced_by(request.session, token=token, idempotency_key=key):
        return _replaced(request, newer)
    form = TransferForm(details, user=request.user)
    if not form.is_valid():
        return _render_step(request, _FORM, {"form": form})
    return _render_step(request, _REVIEW, _review_context(request, form, token))


@login_required
@require_POST
def transfer_confirm(request: HttpRequest) -> HttpResponse:
    """Step 3: move the money, then send the browser to the receipt (a resubmit lands there too). The
    review's form posts the details and key as hidden fields; all of it is checked again here. A review
    replaced by "Change details" moves nothing (a page left open on it, or reached by Back). A replay of a
    transfer already made moves nothing either, so only the others count against the rate limit."""
    key = request.POST.get("idempotency_key", "")
    form = TransferForm(request.POST.dict(), user=request.user)
    try:
        done = _already_made(request, form, key)
    except services.TransferError as error:  # the key was spent on another payment: refused, as is
        return _refused(request, form, error)
    if done:
        transfer_counted("replayed")
        made_at = time_of_day(done.created)
        messages.info(request, _("This transfer was already made at %(time)s.") % {"time": made_at})
        return _see_other(reverse("transfer_detail", args=[done.pk]))  # its receipt
    if limited := _rate_limited(request, form):
        return limited
    newer = reviews.review_replaced_by(
        request.session, token=request.POST.get("review", ""), idempotency_key=key
    )
    if newer and not selectors.transaction_by_key(user=request.user, idempotency_key=key):
        transfer_counted("replaced")
        return _replaced(request, newer, status=409)
    if not form.is_valid():
        transfer_counted("invalid")
        return _render_step(request, _FORM, {"form": form})
    if not request.POST.get("send_again") and _same_transfer_question(request, form):
        # The same transfer was made a few minutes ago: moved only once the customer says it is meant.
        transfer_counted("same_transfer")
        return _ask_again(request, form)
    data = form.cleaned_data
    if data["amount"] > settings.TRANSFER_STEP_UP_PAISE:
        # A large transfer asks for a fresh code (or the password), bound to this very transfer; not before
        # it could go through (a code asked for nothing is a code wasted). A resubmit has gone to its
        # receipt above, and the same key with other details has been refused.
        key = data["idempotency_key"]
        if not form.check_funds():
            transfer_counted("invalid")
            return _render_step(request, _FORM, {"form": form})
        binding = step_up_binding(data["source"].pk, data["destination"].pk, data["amount"], key)
        if not step_up_consume(request, "transfer.large", binding):
            token = request.POST.get("review", "")  # back to this review after the step-up, if it is one
            known = reviews.review_get(request.session, token) is not None
            back = reverse("transfer_review", args=[token]) if known else reverse("transfer_new")
            summary = [
                (_("Amount"), format_paise(data["amount"])),
                (_("From"), f"{data['source'].name} · {data['source'].masked_number}"),
                (_("To"), f"{data['destination'].name} · {data['destination'].masked_number}"),
            ]
            return step_up_redirect(request, "transfer.large", binding, next_url=back, summary=summary)
    try:
        txn = services.transfer_create(
            initiator=request.user,
            source=data["source"],
            destination=data["destination"],
            amount_paise=data["amount"],
            description=data["description"],
            idempotency_key=data["idempotency_key"],
        )
    except services.TransferError as error:
        return _refused(request, form, error)
    transfer_counted("posted")
    return _see_other(reverse("transfer_detail", args=[txn.pk]))


def _already_made(request: HttpRequest, form: TransferForm, key: str) -> Transaction | None:
    """The transfer this request repeats (same key, same details; Back then Confirm, a double click), if
    it was made. A form no longer valid (an account frozen since) still finds the transfer its key made.
    Raises TransferError (idempotency_conflict) if the key made a different payment."""
    if not key:
        return None
    if not form.is_valid():
        return selectors.transaction_by_key(user=request.user, idempotency_key=key)
    data = form.cleaned_data
    return services.transfer_replay(
        initiator=request.user,
        source=data["source"],
        destination=data["destination"],
        amount_paise=data["amount"],
        description=data["description"],
        idempotency_key=key,
    )


def _rate_limited(request: HttpRequest, form: TransferForm) -> HttpResponse | None:
    """Over the transfer_confirm limit: back to the review (its own URL) saying that the money did not move
    and from when to try again; without a review in this session, the 429 page saying the same."""
    try:
        verdict = ratelimit.hit("transfer_confirm", str(request.user.pk))
    except ratelimit.LimiterUnavailable:  # only if an operator made this scope fail closed
        return ratelimit.unavailable(request)
    if verdict.allowed:
        return None
    transfer_counted("rate_limited")
    retry_at = time_of_day_from(timezone.now() + timedelta(seconds=verdict.retry_after))
    message = _(
        "The money did not move: you have confirmed several transfers in a short time. "
        "Please confirm again from %(time)s."
    ) % {"time": retry_at}
    token = request.POST.get("review", "")
    if reviews.review_get(request.session, token) is None:
        return ratelimit.too_many_requests(request, verdict.retry_after, message=message)
    messages.error(request, message)
    return _see_other(reverse("transfer_review", args=[token]))


def _ask_again(request: HttpRequest, form: TransferForm) -> HttpResponse:
    """Back to the review (its own URL), which now asks whether to send the same transfer again; without a
    review in this session, the review page drawn here."""
    token = request.POST.get("review", "")
    if reviews.review_get(request.session, token) is None:
        return _render_step(request, _REVIEW, _review_context(request, form, ""))
    return _see_other(reverse("transfer_review", args=[token]))


def _replaced(request: HttpRequest, newer: str, status: int = 200) -> HttpResponse:
    """A replaced review's page: no Confirm, a link to the newest review (if the session still has it)."""
    known = reviews.review_get(request.session, newer) is not None
    newest_url = reverse("transfer_review", args=[newer]) if known else ""
    return _render_step(request, _REVIEW, {"replaced": True, "newest_url": newest_url}, status=status)


def _refused(request: HttpRequest, form: TransferForm, error: services.TransferError) -> HttpResponse:
    """The form again, with the ledger's reason."""
    transfer_counted(error.code)
    if error.code == "idempotency_conflict":  # that key is spent: the redrawn form needs a new one
        form.data["idempotency_key"] = TransferForm.new_key()
    form.add_error(None, error.message)
    return _render_step(request, _FORM, {"form": form})


@login_required
@require_safe
def transfer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    txn = selectors.transfer_get(user=request.user, pk=pk)
    if txn is None:
        raise Http404("No such transfer.")
    debit, credit = sorted(txn.entries.all(), key=lambda e: e.amount)
    context = {
        "txn": txn,
        "debit": debit,
        "credit": credit,
        "reference": txn.reference,  # what a customer quotes and staff search for
        "made_at": date_and_time(txn.created),
    }
    return render(request, "transactions/transfer_receipt.html", context)


_LIMITS = "transactions/limits.html"
_LIMITS_ACTION = "limits.change"


def _limit_words(own: int | None, bank: int) -> str:
    return (
        format_paise(own)
        if own is not None
        else _("The bank's limit, %(limit)s") % {"limit": format_paise(bank)}
    )


def _limits_form(summary: selectors.LimitsSummary, data: dict | None = None) -> LimitsForm:
    own = {"daily": summary.own.daily_paise, "per_transfer": summary.own.per_transfer_paise}
    initial = {name: paise_to_input(paise) if paise else "" for name, paise in own.items()}
    return LimitsForm(
        data,
        initial=initial,
        bank_daily=summary.bank_daily_paise,
        bank_per_transfer=summary.bank_per_transfer_paise,
        own=own,
    )


def _proposed(request: HttpRequest, summary: selectors.LimitsSummary) -> LimitsForm | None:
    """Back from the step-up page (`?daily=…&per_transfer=…` in paise): the raise to save once more, drawn
    in the form, if the customer proved it was them for exactly these values; else None."""
    try:
        values = [int(v) if v else None for v in (request.GET.get("daily"), request.GET.get("per_transfer"))]
    except ValueError:
        return None
    if not step_up_satisfied(request, _LIMITS_ACTION, step_up_binding(_LIMITS_ACTION, *values)):
        return None
    data = dict(zip(("daily", "per_transfer"), (paise_to_input(v) if v else "" for v in values), strict=True))
    return _limits_form(summary, data)


def _saved_message(before: selectors.LimitsSummary, row: TransferLimits) -> str:
    lowered = (row.own_daily_paise, row.own_per_transfer_paise) != (
        before.own.daily_paise,
        before.own.per_transfer_paise,
    )
    if row.pending_from is not None:
        later = _("Your new limit applies from %(when)s.") % {"when": date_and_time(row.pending_from)}
        return _("Your lower limit applies now.") + " " + later if lowered else later
    return _("Your new limits apply now.")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def limits_page(request: HttpRequest) -> HttpResponse:
    """The customer's own lower limits on money sent to others: what applies today and what is left, a
    raise waiting, and a form to change them. A raise asks for a step-up bound to the new values, and
    applies 12 hours later; lowering needs no step-up: someone who took over the session and lowers a
    limit only stops money leaving, which hurts nobody (and the customer is emailed either way)."""
    summary = selectors.transfer_limits_get(user=request.user)
    if request.method != "POST":
        form = _proposed(request, summary)
        context = {"summary": summary, "confirming": form is not None}
        context["form"] = form or _limits_form(summary)
        return render(request, _LIMITS, context)
    form = _limits_form(summary, request.POST)
    if form.is_valid():
        daily, per_transfer = form.cleaned_data["daily"], form.cleaned_data["per_transfer"]
        raises = is_raise(summary.own.daily_paise, daily) or is_raise(
            summary.own.per_transfer_paise, per_transfer
        )
        binding = step_up_binding(_LIMITS_ACTION, daily, per_transfer)
        if raises and not step_up_consume(request, _LIMITS_ACTION, binding):
            query = urlencode({"daily": daily or "", "per_transfer": per_transfer or ""})
            hours = settings.TRANSFER_LIMIT_RAISE_DELAY // 3600
            summary_lines = [
                (_("Daily limit"), _limit_words(daily, summary.bank_daily_paise)),
                (_("Per-transfer limit"), _limit_words(per_transfer, summary.bank_per_transfer_paise)),
                (_("Applies"), _("%(hours)d hours after you save it") % {"hours": hours}),
            ]
            next_url = f"{reverse('limits')}?{query}"
            return step_up_redirect(
                request, _LIMITS_ACTION, binding, next_url=next_url, summary=summary_lines
            )
        try:
            row = services.transfer_limits_set(
                user=request.user, daily_paise=daily, per_transfer_paise=per_transfer, raise_confirmed=raises
            )
        except services.TransferError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _saved_message(summary, row))
            return HttpResponseRedirect(reverse("limits"))
    return render(request, _LIMITS, {"summary": summary, "form": form, "confirming": False})
