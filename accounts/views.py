from functools import cache

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject

from accounts import selectors, services
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
