from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import otp
from accounts.models import Account, Payee
from accounts.stepup import step_up_binding, step_up_consume, step_up_redirect, step_up_satisfied
from portal import ratelimit
from portal.local_time import date_and_time, date_and_time_from, time_of_day, time_of_day_from
from portal.metrics import transfer_counted
from portal.money import amount_in_words, format_paise, paise_to_grouped_input
from transactions import limits, reviews, selectors, services
from transactions.forms import KEY_EXPIRED, LimitsForm, TransferForm, payee_label
from transactions.limits import is_raise
from transactions.models import OutwardPayment, Transaction, TransferLimits

_FORM = "transactions/transfer_form.html"
_REVIEW = "transactions/transfer_review.html"
_PREFILL = ("source", "destination", "amount", "description")
# Fields that the form checks inline as they change (HTMX: `validate=<name>`, the field redrawn alone).
_VALIDATED = ("amount", "destination")


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


def _form_step(request: HttpRequest, form: TransferForm, status: int = 200) -> HttpResponse:
    """The form (step 1), its hint under To naming the payees still cooling off; with a fresh key if its
    key was refused (it would be refused again)."""
    if form.has_error(NON_FIELD_ERRORS, KEY_EXPIRED):
        form.renew_key()
    form.hint_cooling_off()
    return _render_step(request, _FORM, {"form": form}, status=status)


def _review_context(request: HttpRequest, form: TransferForm, token: str) -> dict:
    step_up = _step_up_needed(form)
    return {
        "form": form,
        "token": token,
        "payee": form.to_payee,
        "amount_in_words": amount_in_words(form.cleaned_data["amount"]),
        # What the receipt will say: the note, or the default description when it is empty.
        "note": services.transfer_description(
            description=form.cleaned_data["description"], payee=form.to_payee
        ),
        "step_up": step_up[0] if step_up else "",  # "transfer.payee", "transfer.large" or none
        # Back from the step-up page with the proof for this very transfer (the grant the confirmation
        # will consume): the review says so, and no longer that it will ask.
        "step_up_done": bool(step_up) and step_up_satisfied(request, *step_up),
        "to_label": _destination_label(form.cleaned_data["destination"]),
        "same_transfer": _same_transfer_question(request, form),
        # What the step-up will ask of this customer: a code (2FA on) or the password.
        "step_up_uses_code": lambda: otp.has_two_factor(request.user),
    }


def _same_transfer_question(request: HttpRequest, form: TransferForm) -> str:
    """ "You sent the same amount to the same account 2 minutes ago: send again?" if this (cleaned) transfer
    repeats one made in the last few minutes, else "". The review then confirms with "Yes, send again"."""
    data = form.cleaned_data
    now = timezone.now()
    same_since = {
        "user": request.user,
        "source": data["source"],
        "amount_paise": data["amount"],
        "since": now - SAME_TRANSFER_WINDOW,
        "other_than_key": data["idempotency_key"],
    }
    if (payee := form.to_payee) is not None:
        same = selectors.payee_transfer_same_since(payee=payee, **same_since)
    else:
        same = selectors.transfer_same_since(destination=data["destination"], **same_since)
    if same is None:
        return ""
    minutes = int((now - same.created).total_seconds() // 60)
    if minutes < 1:
        ago = _("less than a minute ago")
    else:
        ago = ngettext("%(n)d minute ago", "%(n)d minutes ago", minutes) % {"n": minutes}
    to = _("the same payee") if payee is not None else _("the same account")
    return _("You sent the same amount to %(to)s %(ago)s (at %(time)s): send again?") % {
        "to": to,
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
        if request.htmx and (name := request.POST.get("validate")) in _VALIDATED:
            return _validated_field(request, form, name)
        if form.is_valid() and form.check_funds() and form.check_limits():
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
    return _form_step(request, form)


def _validated_field(request: HttpRequest, form: TransferForm, name: str) -> HttpResponse:
    """Inline validation (HTMX, as a field changes): that field alone, redrawn with its errors; moves and
    keeps nothing. The amount is also checked against the money in From and a payee's limits."""
    if form.is_valid() and form.check_funds():
        form.check_limits()
    form.hint_cooling_off()
    return render(request, f"{_FORM}#transfer-field", {"form": form, "field": form[name]})


@login_required
@require_safe
def transfer_review(request: HttpRequest, token: str) -> HttpResponse:
    """Step 2's page: the details kept in this session under `token`, checked again (an account may have
    been frozen since). Once its transfer is made (Back from the receipt, the URL reopened), it says so and
    links to the receipt instead of offering to confirm (confirming again would be safe: idempotency key)."""
    details = reviews.review_get(request.session, token)
    if details is None:
        raise Http404("No such transfer to review.")
    key = details["idempotency_key"]
    if made := selectors.transaction_by_key(user=request.user, idempotency_key=key):
        # Confirmed already (Back from the receipt, the review's URL reopened): said, with the receipt.
        when = made.created
        made_at = (
            time_of_day(when) if timezone.localdate(when) == timezone.localdate() else date_and_time(when)
        )
        context = {"made_at": made_at, "receipt_url": reverse("transfer_detail", args=[made.pk])}
        return _render_step(request, _REVIEW, context)
    if newer := reviews.review_replaced_by(request.session, token=token, idempotency_key=key):
        return _replaced(request, newer)
    if reviews.review_cancelled(request.session, token):
        return _render_step(request, _REVIEW, {"cancelled": True, "token": token})
    if reviews.review_expired(request.session, token):
        again_url = f"{reverse('transfer_new')}?{urlencode({'change': token})}"
        return _render_step(request, _REVIEW, {"expired": True, "again_url": again_url})
    form = TransferForm(details, user=request.user)
    if not form.is_valid():
        return _form_step(request, form)
    return _render_step(request, _REVIEW, _review_context(request, form, token))


@login_required
@require_POST
def transfer_confirm(request: HttpRequest) -> HttpResponse:
    """Step 3: move the money, then send the browser to the receipt (a resubmit lands there too). The
    review's form posts the details and key as hidden fields; all of it is checked again here. Only a
    confirmation that reaches the posting counts against the rate limit: a replay, a replaced or expired
    review, an invalid form, the "send again?" question and the step-up redirect move nothing.

    A confirmation naming a review this session does not know (dropped from it, or never made) is treated
    as expired; one posting no review at all (never sent by the portal's pages, only by a client of the
    customer's own that has their session and CSRF token, such as bench/transfer.lua) is accepted, with
    every ledger check, the step-up binding and the limits applied."""
    form = TransferForm(request.POST.dict(), user=request.user)
    try:
        done = _already_made(request, form, request.POST.get("idempotency_key", ""))
    except services.TransferError as error:  # the key was spent on another payment: refused, as is
        return _refused(request, form, error)
    if done:
        return _replayed(request, done)
    if stopped := _stopped_before_posting(request, form):
        return stopped
    step_up = _step_up_needed(form)
    if step_up and not step_up_satisfied(request, *step_up):
        step_up_consume(request, *step_up)  # a proof given for another transfer is spent, not kept
        return _ask_step_up(request, form, *step_up)
    # Checked, not used, above: a confirmation refused by the rate limit keeps its proof for the retry.
    if limited := _rate_limited(request):
        return limited
    if step_up and not step_up_consume(request, *step_up):  # gone stale meanwhile: asked again
        return _ask_step_up(request, form, *step_up)
    return _post_transfer(request, form)


@login_required
@require_POST
def transfer_cancel(request: HttpRequest) -> HttpResponse:
    """ "Cancel the transfer" (on the step-up page): the review (if this session has it) can no longer be
    confirmed, and the dashboard says that nothing moved."""
    reviews.review_cancel(request.session, request.POST.get("review", ""))
    messages.info(request, _("Transfer cancelled. No money moved."))
    return HttpResponseRedirect(reverse("dashboard"))


def _replayed(request: HttpRequest, done: Transaction) -> HttpResponse:
    """A transfer already made: its receipt, saying so."""
    transfer_counted("replayed")
    made_at = time_of_day(done.created)
    messages.info(request, _("This transfer was already made at %(time)s.") % {"time": made_at})
    return _see_other(reverse("transfer_detail", args=[done.pk]))


def _stopped_before_posting(request: HttpRequest, form: TransferForm) -> HttpResponse | None:
    """Why this confirmation moves nothing, as the page to answer with; None if it may go on."""
    token = request.POST.get("review", "")
    key = request.POST.get("idempotency_key", "")
    newer = reviews.review_replaced_by(request.session, token=token, idempotency_key=key)
    if newer and not selectors.transaction_by_key(user=request.user, idempotency_key=key):
        transfer_counted("replaced")
        return _replaced(request, newer, status=409)
    if reviews.review_cancelled(request.session, token):
        transfer_counted("cancelled")
        return _render_step(request, _REVIEW, {"cancelled": True, "token": token}, status=409)
    if token and reviews.review_expired(request.session, token):
        transfer_counted("expired")
        known = reviews.review_get(request.session, token) is not None
        # "Start again with these details": from the review if the session has it, else from those posted.
        query = {"change": token} if known else {k: request.POST[k] for k in _PREFILL if k in request.POST}
        again_url = f"{reverse('transfer_new')}?{urlencode(query)}"
        return _render_step(request, _REVIEW, {"expired": True, "again_url": again_url}, status=409)
    if reviews.review_differs(request.session, token, form.data):
        # Hidden fields changed after the review (by hand, or by a script): not what the customer read.
        # Back to the review as it was, saying so.
        transfer_counted("tampered")
        messages.error(request, _("The details sent were not the ones on this review, so nothing moved."))
        return _see_other(reverse("transfer_review", args=[token]))
    if not form.is_valid():
        transfer_counted("invalid")
        return _form_step(request, form)
    if not request.POST.get("send_again") and _same_transfer_question(request, form):
        # The same transfer was made a few minutes ago: moved only once the customer says it is meant.
        transfer_counted("same_transfer")
        return _ask_again(request, form)
    return None


def _step_up_needed(form: TransferForm) -> tuple[str, str] | None:
    """The step-up this (valid) transfer asks for, as (action, binding), or None. A new payee (still under
    its new-payee period) asks for "transfer.payee", a large amount for "transfer.large"; the binding is
    this source, destination, amount and idempotency key, so a proof given for one transfer cannot
    confirm another."""
    data = form.cleaned_data
    source, amount, key = data["source"].pk, data["amount"], data["idempotency_key"]
    payee = form.to_payee
    if payee is not None:
        binding = step_up_binding("payee", source, payee.pk, amount, key)
        if timezone.now() < limits.capped_until(payee):
            return "transfer.payee", binding
    else:
        binding = step_up_binding(source, data["destination"].pk, amount, key)
    if amount > settings.TRANSFER_STEP_UP_PAISE:
        return "transfer.large", binding
    return None


def _ask_step_up(request: HttpRequest, form: TransferForm, action: str, binding: str) -> HttpResponse:
    """To the step-up page, then back to this review; not before the transfer could go through (a code
    asked for nothing is a code wasted): the form again if the money or a limit would refuse it now."""
    if not (form.check_funds() and form.check_limits()):
        transfer_counted("invalid")
        return _form_step(request, form)
    token = request.POST.get("review", "")
    known = reviews.review_get(request.session, token) is not None
    back = reverse("transfer_review", args=[token]) if known else reverse("transfer_new")
    data = form.cleaned_data
    summary = [
        (_("Amount"), format_paise(data["amount"])),
        (_("From"), f"{data['source'].name} · {data['source'].masked_number}"),
        (_("To"), _destination_label(data["destination"])),
    ]
    return step_up_redirect(request, action, binding, next_url=back, summary=summary)


def _destination_label(destination: Account | Payee) -> str:
    if isinstance(destination, Payee):
        return payee_label(destination)
    return f"{destination.name} · {destination.masked_number}"


def _post_transfer(request: HttpRequest, form: TransferForm) -> HttpResponse:
    """The posting: to a payee or between own accounts. A refusal is the form again with its reason."""
    data = form.cleaned_data
    common = {
        "initiator": request.user,
        "source": data["source"],
        "amount_paise": data["amount"],
        "description": data["description"],
        "idempotency_key": data["idempotency_key"],
    }
    try:
        if (payee := form.to_payee) is not None:
            txn = services.payee_transfer_create(payee=payee, **common)
        else:
            txn = services.transfer_create(destination=data["destination"], **common)
    except services.TransferError as error:
        return _refused(request, form, error)
    transfer_counted("posted")
    return _see_other(reverse("transfer_detail", args=[txn.pk]))


def _already_made(request: HttpRequest, form: TransferForm, key: str) -> Transaction | None:
    """The transfer this request repeats (same key, same details; Back then Confirm, a double click), if
    it was made. A form no longer valid (an account frozen since, a payee removed) still finds the transfer
    its key made. Raises TransferError (idempotency_conflict) if the key made a different payment."""
    if not TransferForm.key_valid(key):  # not a key the form made (nor one of the bank's postings')
        return None
    if not form.is_valid():
        return selectors.transaction_by_key(user=request.user, idempotency_key=key)
    data = form.cleaned_data
    common = {
        "initiator": request.user,
        "source": data["source"],
        "amount_paise": data["amount"],
        "description": data["description"],
        "idempotency_key": key,
    }
    if (payee := form.to_payee) is not None:
        return services.payee_transfer_replay(payee=payee, **common)
    return services.transfer_replay(destination=data["destination"], **common)


def _rate_limited(request: HttpRequest) -> HttpResponse | None:
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
        form.renew_key()
    form.add_error(None, error.message)
    return _form_step(request, form)


@login_required
@require_safe
def transfer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The receipt. To a payee it shows the payee (never the account credited: a SecureBank payee's own
    balance, or the bank's settlement account) and what became of the money."""
    txn = selectors.transfer_get(user=request.user, pk=pk)
    if txn is None:
        raise Http404("No such transfer.")
    debit, credit = sorted(txn.entries.all(), key=lambda e: e.amount)
    context = {
        "txn": txn,
        "debit": debit,
        "credit": credit,
        "payee": txn.payee if txn.kind != Transaction.Kind.TRANSFER else None,
        "status": _receipt_status(txn),
        "reference": txn.reference,  # what a customer quotes and staff search for
        "made_at": date_and_time(txn.created),
    }
    return render(request, "transactions/transfer_receipt.html", context)


def _receipt_status(txn: Transaction) -> str:
    """Where the money is: credited within SecureBank, or sent to (paid at, returned by) the payee's bank."""
    if txn.kind != Transaction.Kind.OUTWARD:
        return _("Credited")
    bank = txn.payee.bank_name if txn.payee else _("the other bank")
    outward = getattr(txn, "outward_payment", None)
    status = outward.status if outward else OutwardPayment.Status.SENT
    if status == OutwardPayment.Status.SETTLED:
        return _("Paid to %(bank)s") % {"bank": bank}
    if status == OutwardPayment.Status.RETURNED:
        return _("Returned by %(bank)s") % {"bank": bank}
    return _("Sent to %(bank)s") % {"bank": bank}


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
    initial = {name: paise_to_grouped_input(paise) if paise else "" for name, paise in own.items()}
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
    data = dict(
        zip(("daily", "per_transfer"), (paise_to_grouped_input(v) if v else "" for v in values), strict=True)
    )
    return _limits_form(summary, data)


def _saved_message(before: selectors.LimitsSummary, row: TransferLimits) -> str:
    lowered = (row.own_daily_paise, row.own_per_transfer_paise) != (
        before.own.daily_paise,
        before.own.per_transfer_paise,
    )
    if row.pending_from is not None:
        later = _("Your new limit applies from %(when)s.") % {"when": date_and_time_from(row.pending_from)}
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
