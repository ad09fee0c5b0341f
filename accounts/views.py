from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

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
    accounts = list(selectors.account_list(user=request.user))
    recent = recent_entries(accounts=accounts, per_account=5)
    for account in accounts:
        account.recent = recent.get(account.pk, [])
    total = sum(a.balance for a in accounts)
    return render(request, "accounts/dashboard.html", {"accounts": accounts, "total": total})
