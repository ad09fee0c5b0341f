"""The customer's payees: the list, adding one (form → review → step-up → added), a payee's page (time
left in cooling-off, rename) and removing one. Every page works without JavaScript.

Adding keeps the details being added in the session (`_PENDING`) only to draw the review by GET (the
step-up page returns there); the review's Add button posts them again as hidden fields, and those posted
details are what is checked, bound to the step-up and added. A proof given for other details (another
tab's payee) therefore adds nothing: `step_up_consume` drops a grant bound to anything else.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_safe

from accounts import otp, selectors, services
from accounts.forms import PayeeForm, PayeeRenameForm
from accounts.models import Payee
from accounts.stepup import step_up_binding, step_up_consume, step_up_redirect, step_up_satisfied
from portal.local_time import date_and_time, date_and_time_from, day
from portal.money import format_paise
from portal.ratelimit import by_user, limit_hit
from transactions.limits import capped_until, cooling_off_until
from transactions.models import ScheduledTransfer
from transactions.scheduled.selectors import scheduled_running_to_payee

_PENDING = "payees.pending"  # {"name", "account_number", "ifsc"}: the payee under review
_FIELD_OF = {  # which form field a service refusal is about
    "account_number_invalid": "account_number",
    "no_such_account": "account_number",
    "own_account": "account_number",
    "ifsc_invalid": "ifsc",
    "unknown_bank": "ifsc",
    "bank_ifsc": "ifsc",
    "name_required": "name",
    "name_too_long": "name",
}


@dataclass(frozen=True)
class PayeeStatus:
    """What a payee can receive now, in words: cooling off, capped (a new payee) or ready."""

    state: str  # "cooling_off" | "capped" | "ready"
    text: str
    until: datetime.datetime | None = None

    @property
    def can_receive(self) -> bool:
        return self.state != "cooling_off"


def payee_status(payee: Payee, now: datetime.datetime) -> PayeeStatus:
    """The rules of transactions/limits.py, as the customer reads them (no query)."""
    receives_from = cooling_off_until(payee)
    if now < receives_from:
        text = _("Can receive money from %(when)s") % {"when": date_and_time_from(receives_from)}
        return PayeeStatus("cooling_off", text, receives_from)
    capped_to = capped_until(payee)
    if now < capped_to:
        text = _("New payee: up to %(cap)s a day until %(when)s") % {
            "cap": format_paise(settings.PAYEE_NEW_DAILY_PAISE),
            "when": date_and_time_from(capped_to),
        }
        return PayeeStatus("capped", text, capped_to)
    return PayeeStatus("ready", _("Ready to receive money"))


def time_left(seconds: float) -> str:
    """ "23 hours 5 minutes", rounded up to the minute (never "0 minutes" while time is left)."""
    minutes = max(1, int(-(-seconds // 60)))
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
    if minutes:
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    return " ".join(parts)


def duration(seconds: int) -> str:
    """A setting's length in words: "24 hours", "4 days", "90 minutes"."""
    if seconds > 86400 and seconds % 86400 == 0:
        days = seconds // 86400
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    return time_left(seconds)


def payee_rules() -> str:
    """The cooling-off and new-payee cap, in one sentence from the settings."""
    return _(
        "For your safety, a new payee can receive money only %(cooling)s after you add them, and then at "
        "most %(cap)s a day for %(period)s."
    ) % {
        "cooling": duration(settings.PAYEE_COOLING_OFF),
        "cap": format_paise(settings.PAYEE_NEW_DAILY_PAISE),
        "period": duration(settings.PAYEE_NEW_PERIOD),
    }


def _see_other(url: str) -> HttpResponseRedirect:
    """303: the browser follows a POST's answer with a GET, so Back and Reload never resubmit the form."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _payee_or_404(request: HttpRequest, pk: int) -> Payee:
    payee = selectors.payee_get(user=request.user, pk=pk)
    if payee is None:
        raise Http404("No such payee.")
    return payee


def _send_url(payee: Payee) -> str:
    return f"{reverse('transfer_new')}?destination=payee-{payee.pk}"


@login_required
@require_safe
def payee_list(request: HttpRequest) -> HttpResponse:
    """The customer's payees with what each can receive now: one query however many there are."""
    now = timezone.now()
    payees = list(selectors.payee_list(user=request.user))
    for payee in payees:
        payee.status = payee_status(payee, now)
        payee.send_url = _send_url(payee)
    return render(request, "accounts/payee_list.html", {"payees": payees, "rules": payee_rules()})


def _check(
    request: HttpRequest, form: PayeeForm, count_as: str | None
) -> services.PayeeTarget | HttpResponse | None:
    """The form's details checked against the bank's rules (its errors added to the form), or None. A form
    that passes validation reaches the account lookup, which may say whether a SecureBank account number
    exists: it is counted in the payee_check rate limit under `count_as` (not counted if None), and over
    the limit the answer is the 429 page (nothing looked up). A form with a typo is not counted."""
    if not form.is_valid():
        return None
    if refused := limit_hit(
        request, "payee_check", count_as, back=(reverse("payee_new"), _("Back to the form"))
    ):
        return refused
    data = form.cleaned_data
    try:
        return services.payee_target(
            owner=request.user, account_number=data["account_number"], ifsc=data["ifsc"]
        )
    except services.PayeeError as error:
        form.add_error(_FIELD_OF.get(error.code), error.message)
        return None


def _details(form: PayeeForm) -> dict:
    data = form.cleaned_data
    return {"name": data["name"], "account_number": data["account_number"], "ifsc": data["ifsc"]}


def _form_data(details: dict) -> dict:
    return {**details, "account_number_again": details.get("account_number", "")}


@login_required
@require_http_methods(["GET", "POST"])
def payee_new(request: HttpRequest) -> HttpResponse:
    """Step 1: the form (`?change=1` refills it from the review); a valid one goes to the review. A valid
    one is counted in payee_check (a SecureBank number is looked up: no probing of the bank's accounts)."""
    if request.method == "POST":
        form = PayeeForm(request.POST)
        target = _check(request, form, by_user(request))
        if isinstance(target, HttpResponse):
            return target
        if target is not None:
            request.session[_PENDING] = _details(form)
            return _see_other(reverse("payee_review"))
    else:
        pending = request.session.get(_PENDING) if request.GET.get("change") else None
        form = PayeeForm(initial=_form_data(pending) if pending else None)
    return render(request, "accounts/payee_form.html", {"form": form})


def _new_lookup(request: HttpRequest) -> str | None:
    """The payee_check rate limit's key for a review's POST: the customer, when the posted account number
    or IFSC is not the one this session already checked (a probe that skips the form is counted like the
    form); None, not counted again, for the review of the details the form checked."""
    pending = request.session.get(_PENDING) or {}
    posted = (request.POST.get("account_number", ""), request.POST.get("ifsc", ""))
    if posted == (pending.get("account_number"), pending.get("ifsc")):
        return None
    return by_user(request)


def _binding(details: dict) -> str:
    return step_up_binding("payee.add", details["name"], details["account_number"], details["ifsc"])


@login_required
@require_http_methods(["GET", "POST"])
def payee_review(request: HttpRequest) -> HttpResponse:
    """Step 2 (GET): the details and the bank once more, and what the step-up will ask. Step 3 (POST, the
    details as hidden fields): without a fresh proof bound to exactly these details, the step-up page (and
    back here); with it, the payee is added and the customer lands on its page."""
    if request.method == "GET":
        pending = request.session.get(_PENDING)
        if pending is None:
            return redirect("payee_new")
        form = PayeeForm(_form_data(pending))
    else:
        form = PayeeForm(request.POST)
    # The same lookup as the form's, counted the same way: no probing from here either.
    target = _check(request, form, _new_lookup(request) if request.method == "POST" else None)
    if isinstance(target, HttpResponse):
        return target
    if target is None:
        return render(request, "accounts/payee_form.html", {"form": form})
    details = _details(form)
    if request.method == "GET":
        context = {
            "details": details,
            "target": target,
            "proved": step_up_satisfied(request, "payee.add", _binding(details)),
            "step_up_uses_code": otp.has_two_factor(request.user),
            "rules": payee_rules(),
        }
        return render(request, "accounts/payee_review.html", context)
    if not step_up_consume(request, "payee.add", _binding(details)):
        request.session[_PENDING] = details  # the review the step-up page returns to shows these
        summary = [
            (_("Payee"), details["name"]),
            (_("Account number"), details["account_number"]),
            (_("IFSC"), f"{details['ifsc']} · {target.bank_name}"),
        ]
        return step_up_redirect(
            request, "payee.add", _binding(details), next_url=reverse("payee_review"), summary=summary
        )
    try:
        payee = services.payee_add(owner=request.user, request=request, **details)
    except services.PayeeError as error:
        form.add_error(_FIELD_OF.get(error.code), error.message)
        return render(request, "accounts/payee_form.html", {"form": form})
    request.session.pop(_PENDING, None)
    status = payee_status(payee, timezone.now())
    messages.success(
        request,
        _("%(name)s was added. %(status)s.") % {"name": payee.name, "status": status.text},
    )
    return _see_other(reverse("payee_detail", args=[payee.pk]))


def _detail(request: HttpRequest, payee: Payee, form: PayeeRenameForm, status: int = 200) -> HttpResponse:
    now = timezone.now()
    state = payee_status(payee, now)
    context = {
        "payee": payee,
        "status": state,
        "time_left": time_left((state.until - now).total_seconds()) if state.state == "cooling_off" else "",
        "send_url": _send_url(payee),
        "added_at": date_and_time(payee.created_at),
        "cooling_off_words": duration(settings.PAYEE_COOLING_OFF),
        "form": form,
    }
    return render(request, "accounts/payee_detail.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def payee_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A payee's page (GET) and its rename form (POST). One of the customer's payees removed: a page saying
    so (410 Gone); another customer's: 404."""
    if (removed := selectors.payee_removed_get(user=request.user, pk=pk)) is not None:
        context = {"payee": removed, "removed_at": date_and_time(removed.removed_at)}
        return render(request, "accounts/payee_removed.html", context, status=410)
    payee = _payee_or_404(request, pk)
    if request.method != "POST":
        return _detail(request, payee, PayeeRenameForm(initial={"name": payee.name}))
    form = PayeeRenameForm(request.POST)
    if form.is_valid():
        try:
            renamed = services.payee_rename(
                owner=request.user, payee_id=payee.pk, name=form.cleaned_data["name"], request=request
            )
        except services.PayeeError as error:
            if error.code == "not_found":  # removed meanwhile
                raise Http404("No such payee.") from error
            form.add_error("name", error.message)
        else:
            messages.success(request, _("Renamed to %(name)s.") % {"name": renamed.name})
            return _see_other(reverse("payee_detail", args=[payee.pk]))
    return _detail(request, payee, form)


def schedule_words(schedule: ScheduledTransfer) -> str:
    """A running schedule in a few words: "₹1,000.00 on 7 Dec 2026", "₹500.00 every month, next on
    1 Jan 2027", "₹500.00 every week (paused)"."""
    amount = format_paise(schedule.amount)
    if schedule.status == ScheduledTransfer.Status.PAUSED:
        how = ScheduledTransfer.Frequency(schedule.frequency).label.lower()
        return _("%(amount)s %(how)s (paused)") % {"amount": amount, "how": how}
    if schedule.frequency == ScheduledTransfer.Frequency.ONCE:
        return _("%(amount)s on %(day)s") % {"amount": amount, "day": day(schedule.next_run_date)}
    return _("%(amount)s %(how)s, next on %(day)s") % {
        "amount": amount,
        "how": ScheduledTransfer.Frequency(schedule.frequency).label.lower(),
        "day": day(schedule.next_run_date),
    }


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def payee_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what removing does, and a button; POST: remove it, back to the list."""
    payee = _payee_or_404(request, pk)
    if request.method != "POST":
        schedules = scheduled_running_to_payee(user=request.user, payee=payee)
        context = {
            "payee": payee,
            "cooling_off_words": duration(settings.PAYEE_COOLING_OFF),
            "schedules": [schedule_words(s) for s in schedules],
            "schedules_intro": ngettext(
                "%(n)d scheduled transfer to them will be cancelled:",
                "%(n)d scheduled transfers to them will be cancelled:",
                len(schedules),
            )
            % {"n": len(schedules)},
        }
        return render(request, "accounts/payee_remove.html", context)
    try:
        services.payee_remove(owner=request.user, payee_id=payee.pk, request=request)
    except services.PayeeError as error:
        raise Http404("No such payee.") from error
    messages.success(request, _("%(name)s was removed from your payees.") % {"name": payee.name})
    return _see_other(reverse("payee_list"))
