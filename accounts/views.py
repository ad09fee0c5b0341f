import datetime
import math
from functools import cache

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import time_format
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from accounts import selectors, services
from accounts.forms import CustomerPasswordChangeForm, LoginForm
from accounts.lockout import attempted_email, lockout_ends_at
from portal.ratelimit import by_field, by_ip, by_user, client_ip, rate_limit
from transactions.selectors import recent_entries


@method_decorator(rate_limit("login_ip", key=by_ip), name="post")
@method_decorator(rate_limit("login_email", key=by_field("username")), name="post")
class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:
        services.user_remember_previous_login(user=form.get_user())
        return super().form_valid(form)

    def form_invalid(self, form: LoginForm) -> HttpResponse:
        """A locked email or address (django-axes refused it, or this failure set the lock) gets the form
        again with when to come back. The same for an email with no account: the lock counts attempts
        by email, not by customer."""
        if not getattr(self.request, "axes_locked_out", False):
            return super().form_invalid(form)
        ends = lockout_ends_at(email=attempted_email(self.request), ip_address=client_ip(self.request))
        now = timezone.now()
        if ends is None or ends < now:  # lifted a moment ago (or staff cleared it): the next minute
            ends = now + datetime.timedelta(minutes=1)
        # Shown to the minute, rounded up: "after 16:35" must not be refused at 16:35:10.
        shown = timezone.localtime(ends).replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
        message = _(
            "Too many failed attempts. For your security, sign-in is paused. Try again after %(time)s."
        )
        form.errors[NON_FIELD_ERRORS] = form.error_class([message % {"time": time_format(shown, "H:i")}])
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(max(1, math.ceil((shown - now).total_seconds())))
        return response


@method_decorator(rate_limit("password_change", key=by_user), name="post")
class PasswordChangeView(auth_views.PasswordChangeView):
    """Change the password knowing the current one. This device stays signed in with a new session key;
    every other session ends (Django ties a session to a hash of the password)."""

    form_class = CustomerPasswordChangeForm
    template_name = "accounts/password_change.html"

    def form_valid(self, form: CustomerPasswordChangeForm) -> HttpResponse:
        services.user_password_change(
            user=form.user, new_password=form.cleaned_data["new_password1"], request=self.request
        )
        update_session_auth_hash(self.request, form.user)  # cycles the session key, keeps this device in
        messages.success(self.request, _("Password changed."))
        return redirect("dashboard")


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
