"""The customer's scheduled transfers: the list, a new one, and one with its runs (pause, resume, cancel)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from accounts.models import Payee
from accounts.stepup import step_up_consume, step_up_redirect
from transactions.scheduled import dates, selectors, services
from transactions.scheduled.forms import ScheduledTransferForm
from transactions.services import TransferError

_PENDING = "scheduled.pending"  # {"token": str, "data": {...}}: a form waiting for its step-up
_ACTIONS = {
    "pause": (
        services.scheduled_transfer_pause,
        gettext_lazy("Paused. Nothing will be paid until you resume it."),
    ),
    "resume": (services.scheduled_transfer_resume, gettext_lazy("Resumed.")),
}


def _see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


@login_required
@require_safe
def scheduled_list(request: HttpRequest) -> HttpResponse:
    schedules = list(selectors.scheduled_list(user=request.user))
    return render(request, "transactions/scheduled_list.html", {"schedules": schedules})


def _pending(request: HttpRequest, token: str) -> dict | None:
    pending = request.session.get(_PENDING)
    return pending["data"] if pending and token and pending.get("token") == token else None


@login_required
@require_http_methods(["GET", "POST"])
def scheduled_new(request: HttpRequest) -> HttpResponse:
    """GET: the form (with a fresh key; `?resume=<token>` refills it after the step-up). POST: set it up,
    after a step-up bound to its details when it pays a payee or a large amount."""
    resumed = False
    if request.method == "POST":
        form = ScheduledTransferForm(request.POST, user=request.user)
        if form.is_valid():
            if form.needs_step_up() and not step_up_consume(request, "transfer.schedule", form.binding()):
                token = get_random_string(16)
                fields = [name for name in form.fields]
                request.session[_PENDING] = {
                    "token": token,
                    "data": {k: request.POST.get(k, "") for k in fields},
                }
                back = f"{reverse('scheduled_new')}?resume={token}"
                return step_up_redirect(
                    request, "transfer.schedule", form.binding(), next_url=back, summary=form.summary()
                )
            try:
                schedule = _create(request, form)
            except TransferError as error:
                form.add_error(None, error.message)
            else:
                request.session.pop(_PENDING, None)
                messages.success(request, _("Your scheduled transfer is set up."))
                return _see_other(reverse("scheduled_detail", args=[schedule.pk]))
    elif data := _pending(request, request.GET.get("resume", "")):
        form = ScheduledTransferForm(user=request.user, initial=data)
        resumed = True
    else:
        form = ScheduledTransferForm(
            user=request.user, initial={"idempotency_key": ScheduledTransferForm.new_key()}
        )
    context = {"form": form, "resumed": resumed, "step_up_above": settings.TRANSFER_STEP_UP_PAISE}
    return render(request, "transactions/scheduled_form.html", context)


def _create(request: HttpRequest, form: ScheduledTransferForm):
    data = form.cleaned_data
    target = data["destination"]
    return services.scheduled_transfer_create(
        owner=request.user,
        source=data["source"],
        destination=None if isinstance(target, Payee) else target,
        payee=target if isinstance(target, Payee) else None,
        amount_paise=data["amount"],
        description=data["description"],
        frequency=data["frequency"],
        first_date=data["first_date"],
        end_date=data["end_date"],
        count=data["count"],
        create_key=data["idempotency_key"],
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def scheduled_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One schedule and its runs; POST action=pause|resume changes it (action=cancel goes to the page that
    asks first). Another customer's: 404."""
    schedule = _schedule_or_404(request, pk)
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            return _see_other(reverse("scheduled_cancel", args=[schedule.pk]))
        action = _ACTIONS.get(request.POST.get("action", ""))
        if action is None:
            messages.error(request, _("Choose pause or resume."))
        else:
            change, done = action
            try:
                change(user=request.user, schedule_id=schedule.pk)
            except TransferError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, done)
        return _see_other(reverse("scheduled_detail", args=[schedule.pk]))
    context = {
        "schedule": schedule,
        "runs": selectors.scheduled_run_list(schedule=schedule),
        "rolled_because": dates.closed_reason(schedule.next_occurrence) if schedule.next_occurrence else "",
    }
    return render(request, "transactions/scheduled_detail.html", context)


def _schedule_or_404(request: HttpRequest, pk: int):
    schedule = selectors.scheduled_get(user=request.user, pk=pk)
    if schedule is None:
        raise Http404("No such scheduled transfer.")
    return schedule


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def scheduled_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: "Cancel this scheduled transfer? It cannot be undone." and a button; POST: cancel it, back to
    its page. Another customer's: 404."""
    schedule = _schedule_or_404(request, pk)
    if request.method != "POST":
        return render(request, "transactions/scheduled_cancel.html", {"schedule": schedule})
    try:
        services.scheduled_transfer_cancel(user=request.user, schedule_id=schedule.pk)
    except TransferError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Cancelled. Nothing more will be paid by it."))
    return _see_other(reverse("scheduled_detail", args=[schedule.pk]))
