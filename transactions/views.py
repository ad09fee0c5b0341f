from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from portal.ratelimit import by_user, rate_limit
from transactions import selectors, services
from transactions.forms import TransferForm
from transactions.models import Transaction

_FORM = "transactions/transfer_form.html"
_REVIEW = "transactions/transfer_review.html"


def _render_step(request: HttpRequest, template: str, form: TransferForm) -> HttpResponse:
    """The whole page, or for HTMX just the part of the flow that changes."""
    name = f"{template}#transfer-flow" if request.htmx else template
    return render(request, name, {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def transfer_new(request: HttpRequest) -> HttpResponse:
    """Step 1 (GET: the form, with a fresh idempotency key) and step 2 (POST: check it, show the review)."""
    if request.method == "POST":
        form = TransferForm(request.POST, user=request.user)
        if form.is_valid() and form.check_funds():
            return _render_step(request, _REVIEW, form)
    else:
        initial = {
            key: request.GET[key]
            for key in ("source", "destination", "amount", "description")
            if key in request.GET
        }
        form = TransferForm(user=request.user, initial={**initial, "idempotency_key": TransferForm.new_key()})
    return _render_step(request, _FORM, form)


@login_required
@rate_limit("transfer_confirm", key=by_user)
@require_POST
def transfer_confirm(request: HttpRequest) -> HttpResponse:
    """Step 3: move the money, then send the browser to the receipt (a resubmit lands there too)."""

    def spent() -> Transaction | None:
        key = request.POST.get("idempotency_key", "")
        return selectors.transaction_by_key(user=request.user, idempotency_key=key) if key else None

    if "edit" in request.POST:
        # Back to the form with the details; a key already spent (the browser went back) is replaced.
        data = request.POST.copy()
        if spent():
            data["idempotency_key"] = TransferForm.new_key()
        return _render_step(request, _FORM, TransferForm(data, user=request.user))
    form = TransferForm(request.POST, user=request.user)
    if not form.is_valid():
        if done := spent():  # A resubmit of a transfer that went through: its receipt, whatever changed.
            return redirect("transfer_detail", pk=done.pk)
        return _render_step(request, _FORM, form)
    data = form.cleaned_data
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
        form.add_error(None, error.message)
        return _render_step(request, _FORM, form)
    return redirect("transfer_detail", pk=txn.pk)


@login_required
def transfer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    txn = selectors.transfer_get(user=request.user, pk=pk)
    if txn is None:
        raise Http404("No such transfer.")
    debit, credit = sorted(txn.entries.all(), key=lambda e: e.amount)
    return render(
        request, "transactions/transfer_receipt.html", {"txn": txn, "debit": debit, "credit": credit}
    )
