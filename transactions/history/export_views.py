"""The history export: `/accounts/<id>/history/export.csv` and `.xlsx`, exactly the rows the history page
shows for the same GET parameters (`params.filter_from_query`, `selectors.history_entries`), all of them.

An export never holds something other than what was asked: a parameter that cannot be read is refused with
a 400 page naming it (the page itself shows the unfiltered list then; a file cannot say so). Another
customer's account is a 404 whatever the method. Each export is recorded in the audit trail (the account and
the filter, never the rows) and counted against the `history_export` rate limit: it reads a whole history.
"""

from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.utils import timezone

from accounts.models import Account
from portal import ratelimit
from portal.audit import audit_record
from transactions.history import export
from transactions.history.filters import HistoryFilter
from transactions.history.params import filter_from_query
from transactions.history.selectors import history_account, history_entries

CSV, XLSX = "csv", "xlsx"
_REFUSED = "transactions/history_export_refused.html"
# What each parameter is called on the history page's form, for the 400 page's list.
FIELD_LABELS = {
    "date_from": "From date",
    "date_to": "To date",
    "amount_min": "Smallest amount",
    "amount_max": "Largest amount",
    "direction": "Money in or out",
    "category": "Category",
    "text": "Text",
    "q": "Search",
}


@login_required
def history_export_csv(request: HttpRequest, pk: int) -> HttpResponse:
    return _export(request, pk, CSV)


@login_required
def history_export_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    return _export(request, pk, XLSX)


def _export(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    account = history_account(user=request.user, account_id=pk)  # type: ignore[arg-type]
    if account is None:
        raise Http404  # before the method: nothing tells another customer that the account exists
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    filter, errors = filter_from_query(request.GET)
    if errors:
        problems = [(FIELD_LABELS[name], message) for name, message in errors.items()]
        return render(request, _REFUSED, {"account": account, "problems": problems}, status=400)
    if refused := ratelimit.limit_hit(request, "history_export", ratelimit.by_user(request)):
        return refused
    entries = history_entries(account=account, filter=filter)
    name = export.filename(account, timezone.localdate(), kind)
    if kind == CSV:
        _audit(request, account, kind, filter)
        response: HttpResponse | StreamingHttpResponse = StreamingHttpResponse(
            export.csv_chunks(entries), content_type=export.CSV_TYPE
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    else:
        try:
            workbook = export.xlsx_file(entries)
        except export.TooManyRows:
            problems = [("Rows", export.TOO_MANY_ROWS)]
            return render(request, _REFUSED, {"account": account, "problems": problems}, status=400)
        _audit(request, account, kind, filter)
        response = FileResponse(workbook, as_attachment=True, filename=name, content_type=export.XLSX_TYPE)
    response["Cache-Control"] = "no-store"
    return response


def _audit(request: HttpRequest, account: Account, kind: str, filter: HistoryFilter) -> None:
    after = {"format": kind, "filter": filter.as_query()}
    audit_record(action="history.export", obj=account, after=after, request=request)
