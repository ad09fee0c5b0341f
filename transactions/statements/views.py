"""The statements' pages: the request form with the customer's statements below it, one statement's status
(HTMX polls it while it is being made), a retry, the signed download and the public verify page.

A statement being made polls `/statements/<id>/` every two seconds (its row's hx-trigger) and the answer is
the row again: with the trigger while it is queued or running, without it once it is done, which stops the
polling; that last answer also says, once, in the page's polite live region that it is ready (or why not).
Without JavaScript the row's "Refresh" link opens the same address as a page. Both vary on HX-Request.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_safe

from accounts.models import Account, User
from portal import ratelimit
from transactions.statements import downloads, labels, periods, selectors, services, verification
from transactions.statements.forms import StatementRequestForm, VerifyForm
from transactions.statements.models import Statement

_PAGE = "statements/statements.html"
_ONE = "statements/statement.html"
_ROW = "statements/_statement.html"
_LIVE = "statements/_statement_live.html"
_REFUSED = "statements/download_refused.html"
_VERIFY = "statements/verify.html"
VERIFY_MAX_BYTES = 50 * 1024 * 1024
VERIFY_FORM_BYTES = 1024 * 1024  # room for the form's other fields and the multipart framing


@dataclass(frozen=True)
class Shown:
    """A statement as its row shows it: its period's name, and for a ready one fresh signed links and the
    files' sizes."""

    statement: Statement
    period: str
    pdf_url: str = ""
    csv_url: str = ""
    pdf_size: str | None = None
    csv_size: str | None = None


def _size(size: int | None) -> str | None:
    """A file's size as the row shows it, from the row (no request to the storage per file)."""
    return None if size is None else filesizeformat(size)


def _shown(statement: Statement, user: User) -> Shown:
    period = labels.period_label(statement.first_day, statement.last_day)
    if not statement.has_files:
        return Shown(statement, period)
    return Shown(
        statement,
        period,
        pdf_url=downloads.download_url(statement, "pdf", user),
        csv_url=downloads.download_url(statement, "csv", user),
        pdf_size=_size(statement.pdf_bytes),
        csv_size=_size(statement.csv_bytes) if statement.csv else None,
    )


def _see_other(url: str) -> HttpResponseRedirect:
    """303: the browser follows a POST's answer with a GET, so Back and Reload never post it again."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _statement_or_404(request: HttpRequest, pk: int) -> Statement:
    statement = selectors.statement_for(user=request.user, statement_id=pk)  # type: ignore[arg-type]
    if statement is None:
        raise Http404("No such statement.")
    return statement


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def statements(request: HttpRequest) -> HttpResponse:
    accounts = list(Account.objects.filter(owner=request.user).order_by("id"))
    form = StatementRequestForm(
        request.POST if request.method == "POST" else None,
        accounts=accounts,
        latest=periods.latest_day(),
        initial=_asked_account(request, accounts),
    )
    if request.method == "POST" and form.is_valid():
        if refused := ratelimit.limit_hit(
            request,
            "statement_request",
            ratelimit.by_user(request),
            back=(reverse("statements"), "Statements"),
        ):
            return refused
        try:
            statement, queued = services.statement_request(
                user=request.user, account_id=form.cleaned_data["account"], period=form.period
            )
        except services.StatementError as error:  # the account went meanwhile: said as any other's
            form.add_error("account", error.message)
        else:
            what = f"{statement.account.name} {statement.account.masked_number}, " + labels.period_label(
                statement.first_day, statement.last_day
            )
            if queued:
                messages.success(request, f"Statement queued: {what}. It shows below as it is prepared.")
            else:
                messages.info(request, f"You already have this statement: {what}.")
            return _see_other(f"{reverse('statements')}#statement-{statement.pk}")
    shown = [
        _shown(s, request.user) for s in selectors.statements_for(user=request.user)[: selectors.LIST_LIMIT]
    ]
    return render(request, _PAGE, {"form": form, "accounts": accounts, "rows": shown})


def _asked_account(request: HttpRequest, accounts: list[Account]) -> dict:
    """`?account=<id>` (the history page's link) chooses that account, if it is one of the customer's."""
    asked = request.GET.get("account", "")
    return {"account": int(asked)} if asked.isdigit() and int(asked) in {a.pk for a in accounts} else {}


def _row(request: HttpRequest, statement: Statement, *, announce: str = "") -> HttpResponse:
    """The statement's row (HTMX), or its page."""
    context = {
        "row": _shown(statement, request.user),
        "detail": request.GET.get("detail") == "1" or not request.htmx,
        "announce": announce,
    }
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, _ROW, context)
    else:
        response = render(request, _ONE, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _news(statement: Statement, period: str) -> str:
    """What the live region says when a statement is done (once: the last poll's answer)."""
    what = f"Your statement of {statement.account.masked_number} for {period}"
    if statement.status == Statement.Status.READY:
        return f"{what} is ready to download."
    if statement.status == Statement.Status.FAILED:
        return f"{what} could not be prepared. {statement.error}"
    return ""


@login_required
@require_safe
def statement_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The statement's page; for HTMX its row, or (`part=live`, the poll of a statement being made) only
    its status and progress bar while it is being made, and the whole row, retargeted, once it is done."""
    statement = _statement_or_404(request, pk)
    if request.htmx and request.GET.get("part") == "live":
        if not statement.is_done:
            context = {
                "s": statement,
                "status_url": reverse("statement_status", args=[statement.pk]),
                "detail": request.GET.get("detail") == "1",
            }
            response = render(request, _LIVE, context)
            patch_vary_headers(response, ["HX-Request"])
            return response
        period = labels.period_label(statement.first_day, statement.last_day)
        response = _row(request, statement, announce=_news(statement, period))
        response["HX-Retarget"] = f"#statement-{statement.pk}"
        response["HX-Reswap"] = "outerHTML"
        return response
    period = labels.period_label(statement.first_day, statement.last_day)
    return _row(request, statement, announce=_news(statement, period) if request.htmx else "")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def statement_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: queue a failed statement (or one whose files were removed) again. GET: the statement's page,
    whose button posts here."""
    statement = _statement_or_404(request, pk)
    if request.method != "POST":
        return _row(request, statement)
    if refused := ratelimit.limit_hit(
        request, "statement_retry", ratelimit.by_user(request), back=(reverse("statements"), "Statements")
    ):
        return refused
    try:
        statement = services.statement_retry(user=request.user, statement_id=statement.pk)
    except services.StatementError as error:
        if request.htmx:
            return _row(request, statement, announce=error.message)
        messages.info(request, error.message)
    else:
        if request.htmx:
            return _row(request, statement, announce="Statement queued again.")
        messages.success(request, "Statement queued again. It shows below as it is prepared.")
    return _see_other(f"{reverse('statements')}#statement-{statement.pk}")


@login_required
@require_safe
def statement_download(request: HttpRequest, pk: int, fmt: str, token: str) -> HttpResponse:
    statement = _statement_or_404(request, pk)  # before the link: nothing tells another customer it exists
    if fmt not in downloads.FORMATS:
        raise Http404("No such file.")
    try:
        downloads.check_token(token, statement_id=statement.pk, fmt=fmt, user_id=request.user.pk)
    except downloads.LinkRefused as refused:
        return render(request, _REFUSED, {"reason": refused.code}, status=403)
    try:
        return downloads.file_response(request, statement, fmt)
    except downloads.NoFiles:
        removed = statement.files_removed_at is not None or statement.status == Statement.Status.READY
        context = {"reason": "removed" if removed else "not_ready", "statement": statement}
        return render(request, _REFUSED, context, status=410 if removed else 404)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Public: anyone may check a document (a visa officer, a lender). Counted per client address, as an
    oracle must be; the upload is hashed as it arrives and never kept (verification.HashingUploadHandler,
    set before anything reads the body: hence CSRF is checked by `_verify`, after it)."""
    if request.method == "POST":
        if refused := ratelimit.limit_hit(
            request,
            "statement_verify",
            ratelimit.by_ip(request),
            back=(
                reverse("statement_verify"),
                "Verify a statement",
            ),  # a verifier has no sign-in to go back to
        ):
            return refused
        # A body announced larger than any statement is refused before a byte of it is read: an anonymous
        # client must not hold a worker for as long as it likes to send.
        try:
            announced = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            announced = 0
        if announced > VERIFY_MAX_BYTES + VERIFY_FORM_BYTES:
            context = {
                "form": VerifyForm(max_bytes=VERIFY_MAX_BYTES),
                "checked": False,
                "found": None,
                "refused": f"That file is larger than {VERIFY_MAX_BYTES // 2**20} MB: no statement is.",
            }
            return render(request, _VERIFY, context, status=413)
        request.upload_handlers = [
            verification.HashingUploadHandler(
                request, max_bytes=VERIFY_MAX_BYTES, stop_after=VERIFY_FORM_BYTES
            )
        ]
    return _verify(request)


@csrf_protect
def _verify(request: HttpRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = VerifyForm(
        request.POST if posted else None, request.FILES if posted else None, max_bytes=VERIFY_MAX_BYTES
    )
    context: dict = {"form": form, "checked": False, "found": None}
    if posted and form.is_valid():
        context.update(checked=True, found=verification.find(form.sha256), sha256=form.sha256)
    return render(request, _VERIFY, context)
