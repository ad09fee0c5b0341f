from functools import cache

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import SimpleLazyObject
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import selectors, services
from accounts import sessions as session_services
from accounts.forms import LoginForm
from transactions.selectors import recent_entries


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:
        services.user_remember_previous_login(user=form.get_user())
        return super().form_valid(form)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Balances come from the account rows (one query). The cards with recent transactions are a cached
    fragment keyed by every account's ledger version: the entries are read only when a posting changed it."""
    accounts = list(selectors.account_list(user=request.user))
    recent = cache(lambda: recent_entries(accounts=accounts, per_account=5))
    for account in accounts:
        account.recent = SimpleLazyObject(lambda pk=account.pk: recent().get(pk, []))
    context = {
        "accounts": accounts,
        "total": sum(a.balance for a in accounts),
        "fingerprint": selectors.account_fingerprint(accounts=accounts),
    }
    return render(request, "accounts/dashboard.html", context)


_CHANGE_LABELS = {
    "payee.add": "Payee added",
    "payee.remove": "Payee removed",
    "limit.change": "Limit changed",
}


@login_required
@require_safe
def security(request: HttpRequest) -> HttpResponse:
    """Recent sign-ins, the sessions still open (this one marked), 2FA and password, recent payee and limit
    changes, and the two emergency buttons. A fixed number of queries however long the history."""
    changes = list(selectors.security_change_list(user=request.user))
    for event in changes:
        event.label = _CHANGE_LABELS.get(event.action, event.action)
    context = {
        "sign_ins": selectors.sign_in_list(user=request.user),
        "active_sessions": selectors.session_active_list(user=request.user),
        "current_session_id": request.session.get(session_services.SESSION_ID),
        "changes": changes,
    }
    return render(request, "accounts/security.html", context)


@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    """Sign out every other device; this one stays signed in (with a new session key) and may sign out."""
    ended = session_services.sessions_revoke_all_others(user=request.user, request=request)
    others = ngettext("%(count)d other device", "%(count)d other devices", ended) % {"count": ended}
    messages.success(
        request,
        f"You're now signed out everywhere else ({others}). You're still signed in here: "
        "use Sign out at the top of the page to leave this device too.",
    )
    return redirect("security")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_compromise(request: HttpRequest) -> HttpResponse:
    """This wasn't me: a page that says what will happen, then on POST freeze, sign out everywhere, and
    send the customer to a page that says what happened and whom to call."""
    if request.method != "POST":
        return render(request, "accounts/report_compromise.html", {"bank_phone": settings.BANK_PHONE})
    event = services.compromise_report(user=request.user, request=request)
    logout(request)
    request.session[_REPORT_REFERENCE] = services.compromise_reference(event)
    return redirect("report_compromise_done")


_REPORT_REFERENCE = "sb.compromise_reference"


@require_safe
def report_compromise_done(request: HttpRequest) -> HttpResponse:
    """Shown signed out. The reference is there only for the browser that made the report."""
    reference = request.session.get(_REPORT_REFERENCE)
    context = {"reference": reference, "bank_phone": settings.BANK_PHONE}
    return render(request, "accounts/report_compromise_done.html", context)
