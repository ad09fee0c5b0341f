import datetime
import math
from collections.abc import Callable
from functools import cache, wraps
from typing import Any
from urllib.parse import urlsplit

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.utils import ErrorDict
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import lockout, otp, selectors, services
from accounts import sessions as session_services
from accounts.forms import (
    CustomerPasswordChangeForm,
    LoginForm,
    OTPCodeForm,
    PasswordConfirmForm,
    TOTPConfirmForm,
)
from accounts.models import Account
from accounts.stepup import (
    STEP_UP_ACTIONS,
    STEP_UP_MAX_FAILURES,
    step_up_consume,
    step_up_grant,
    step_up_redirect,
    step_up_required,
    step_up_satisfied,
    step_up_summary,
    step_up_tries_left,
)
from portal.audit import audit_record
from portal.client_address import client_ip
from portal.context_processors import MOVE_MONEY_SESSION_KEY
from portal.local_time import date_and_time, time_of_day
from portal.ratelimit import LimiterUnavailable, by_user, rate_limit, unavailable
from transactions.selectors import recent_entries, transfer_limits_get


@method_decorator(rate_limit("login_ip", key=lockout.login_ip_key), name="post")
@method_decorator(rate_limit("login_email", key=lockout.login_email_key), name="post")
class LoginView(auth_views.LoginView):
    """Sign-in with the brakes of accounts/lockout.py: an email under attack waits its turn (unless this is
    a device that signed in to it before), a locked (email, address) pair is told until when."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        email = lockout.attempted_email(request)
        wait = 0
        if email and lockout.known_device(request, email) is None:
            try:
                wait = lockout.email_wait(email)
            except LimiterUnavailable:  # the cache is down: no password is checked (portal/ratelimit.py)
                return unavailable(request)
        if wait:
            # This pair's lock outlasts the email's slowdown: say that (and until when), or the customer is
            # told to wait seconds and then, after waiting, that sign-in is paused.
            if ends := lockout.lockout_ends_at(email=email, ip_address=client_ip(request)):
                return self._locked(self.get_form(), ends)
            message = ngettext(
                "Too many failed attempts for this email. For your security, wait %(seconds)d second "
                "before the next attempt. Then try again, or sign in from a device you have signed in on "
                "before. For help, call us on %(phone)s.",
                "Too many failed attempts for this email. For your security, wait %(seconds)d seconds "
                "between attempts. Then try again, or sign in from a device you have signed in on before. "
                "For help, call us on %(phone)s.",
                wait,
            )
            return self._refused(
                self.get_form(), message % {"seconds": wait, "phone": settings.BANK_PHONE}, wait
            )
        return super().post(request, *args, **kwargs)

    def get_redirect_url(self) -> str:
        """`next`, unless it is this page: a signed-in customer sent to /login/?next=/login/ goes to the
        dashboard (Django would raise its redirect-loop error, a 500)."""
        url = super().get_redirect_url()
        return "" if url and url.split("?", 1)[0] == self.request.path else url

    def get_default_redirect_url(self) -> str:
        """Where a sign-in without `next` goes: staff to the admin (which asks a member of staff without a
        verified second factor to prove one first), customers to their dashboard."""
        # The person signing in (not yet request.user while their code is still to come), or one already in.
        user = getattr(self, "_signing_in", None) or self.request.user
        if user.is_active and user.is_staff:
            return resolve_url("admin:index")
        return super().get_default_redirect_url()

    def form_valid(self, form: LoginForm) -> HttpResponse:
        user = form.get_user()
        self._signing_in = user
        if otp.has_two_factor(user):  # not signed in yet: the code comes first (accounts/otp.py)
            otp.pending_login_start(self.request, user=user, next_url=self.get_success_url())
            return redirect("login_verify")
        services.user_remember_previous_login(user=user)
        return super().form_valid(form)

    def form_invalid(self, form: LoginForm) -> HttpResponse:
        """A wrong password counts against the email's slowdown. A locked (email, address) pair (django-axes
        refused it, or this failure set the lock) gets the form again with when to come back. The same for
        an email with no account: the brakes count attempts by email, not by customer."""
        request = self.request
        locked = getattr(request, "axes_locked_out", False)
        refused_unchecked = locked and getattr(request, "axes_failures_since_start", None) is None
        email = lockout.attempted_email(request)
        if email and form.has_error(NON_FIELD_ERRORS, "invalid_login") and not refused_unchecked:
            lockout.login_failed(request, email)
        if not locked:
            return super().form_invalid(form)
        return self._locked(form, lockout.lockout_ends_at(email=email, ip_address=client_ip(request)))

    def _locked(self, form: LoginForm, ends: datetime.datetime | None) -> HttpResponse:
        """This (email, address) pair is locked until `ends`: the form, with until when and what to do."""
        shown = pause_end_shown(ends)
        message = _(
            "Too many failed attempts from here. For your security, sign-in to this email from this "
            "connection is paused until %(time)s. Try again then, or sign in from a device you have signed "
            "in on before. For help, call us on %(phone)s."
        ) % {"time": time_of_day(shown), "phone": settings.BANK_PHONE}
        return self._refused(form, message, max(1, math.ceil((shown - timezone.now()).total_seconds())))

    def _refused(self, form: LoginForm, message: str, retry_after: int) -> HttpResponse:
        """The form again (the password is not checked), with `message` and a 429 with `Retry-After`."""
        if form._errors is None:  # not validated (the slowdown): no full_clean(), so no authentication
            form._errors = ErrorDict()
            form.cleaned_data = {}
        form._errors[NON_FIELD_ERRORS] = form.error_class([message])
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(retry_after)
        return response


def pause_end_shown(ends: datetime.datetime | None) -> datetime.datetime:
    """When a pair's lock ends, as told to the customer: to the minute, rounded up ("until 4:35 PM" must not
    be refused at 4:35:10). A lock lifted a moment ago (or cleared by staff) is told the next minute."""
    now = timezone.now()
    if ends is None or ends < now:
        ends = now + datetime.timedelta(minutes=1)
    return timezone.localtime(ends).replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)


class LogoutView(auth_views.LogoutView):
    """Sign-out, then the login page saying so: a bare login page leaves the customer wondering whether
    it worked. Only a customer who was signed in is told (a stale form posted again says nothing)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        was_signed_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_signed_in:
            messages.success(request, _("You have signed out. Thank you for banking with SecureBank."))
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


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
@rate_limit("otp", key=otp.pending_login_key)
def login_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the app or a backup code. Only now is the customer
    signed in (login() gives the session a new key; `login.success` is recorded by its signal)."""
    pending = otp.pending_login(request)
    if pending is None:
        messages.info(request, "Your sign-in timed out. Please sign in again.")
        return redirect("login")
    form = OTPCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = otp.code_check(pending.user, form.cleaned_data["code"])
        if check.ok:
            otp.pending_login_drop(request)
            services.user_remember_previous_login(user=pending.user)
            auth_login(request, pending.user, backend=pending.backend)
            otp.session_mark_verified(request, check.device)
            return redirect(pending.next_url)
        failures = otp.pending_login_failed(request)
        audit_record(
            action="login.otp_failure",
            actor=pending.user,
            obj=pending.user,
            after={"failures": failures, "device_locked": check.locked_until is not None},
            request=request,
        )
        if failures >= otp.LOGIN_CODE_MAX_FAILURES:
            otp.pending_login_drop(request)
            messages.error(request, "Too many wrong codes. For your safety, please sign in again.")
            return redirect("login")
        form.add_error("code", _code_error(check))
    return render(request, "registration/login_verify.html", {"form": form})


def _code_error(check: otp.CodeCheck) -> str:
    if check.locked_until is not None:
        return check.wait_message()
    return "That code did not work. Type the code your app shows now, or an unused backup code."


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Balances come from the account rows (one query). The cards with recent transactions are a cached
    fragment keyed by every account's ledger version: the entries are read only when a posting changed it."""
    accounts = list(selectors.account_list(user=request.user))
    recent = cache(lambda: recent_entries(accounts=accounts, per_account=5))
    for account in accounts:
        account.recent = SimpleLazyObject(lambda pk=account.pk: recent().get(pk, []))
    # The shell's "Move money" tab (portal/context_processors.py) reads this on every page, without a query.
    move_money = selectors.transfer_possible(user=request.user, accounts=accounts)
    if request.session.get(MOVE_MONEY_SESSION_KEY, True) != move_money:
        request.session[MOVE_MONEY_SESSION_KEY] = move_money
    context = {
        "accounts": accounts,
        "frozen": [a for a in accounts if a.status == Account.Status.FROZEN],
        "bank_phone": settings.BANK_PHONE,
        "total": sum(a.balance for a in accounts),
        "fingerprint": selectors.account_fingerprint(accounts=accounts),
        "previous_login": date_and_time(previous) if (previous := request.user.previous_login) else "",
    }
    return render(request, "accounts/dashboard.html", context)


# --- Two-factor auth and step-up pages --------------------------------------------------------------------

_NEW_CODES = "otp.new_backup_codes"  # shown once on the next page, then dropped


def _customers_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The customer's own 2FA pages refuse staff with a page that says why (403): a staff second factor is
    provisioned out of band (accounts.services._refuse_staff)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and request.user.is_staff:
            return render(request, "accounts/two_factor_staff.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


@sensitive_post_parameters()
@login_required
@_customers_only
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Two-factor status when it is on; otherwise the enrolment: QR code, secret, first code."""
    if otp.has_two_factor(request.user):
        context = {"enabled": True, "backup_codes_left": otp.backup_codes_left(request.user)}
        return render(request, "accounts/two_factor.html", context)
    # Turning 2FA on changes how this account signs in: whoever holds this session proves it is the customer
    # first (the password, as they have no code yet), or a stolen session could lock the customer out.
    if not step_up_satisfied(request, "2fa.enable"):
        return step_up_redirect(request, "2fa.enable")
    device = services.two_factor_enrolment_device(user=request.user)
    form = TOTPConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.two_factor_confirm(
                user=request.user, code=form.cleaned_data["code"], request=request
            )
        except services.TwoFactorError as error:
            form.add_error("code", error.message)
        else:
            step_up_consume(request, "2fa.enable")
            session_services.keep_signed_in(user=request.user, request=request)  # others were signed out
            otp.session_mark_verified(request, device)  # the customer just proved the app
            request.session[_NEW_CODES] = codes
            messages.success(request, "Two-factor authentication is on.")
            return redirect("two_factor_backup_codes")
    context = {
        "enabled": False,
        "form": form,
        "qr_svg": otp.qr_svg(device),
        "secret": otp.secret_display(device),
    }
    return render(request, "accounts/two_factor.html", context)


@login_required
def two_factor_backup_codes(request: HttpRequest) -> HttpResponse:
    """New backup codes, shown once: they leave the session as this page is drawn."""
    codes = request.session.pop(_NEW_CODES, None)
    if not codes:
        return redirect("two_factor")
    context = {"codes": [otp.backup_code_display(code) for code in codes]}
    return render(request, "accounts/two_factor_backup_codes.html", context)


@sensitive_post_parameters()
@login_required
@_customers_only
@require_http_methods(["GET", "POST"])
@step_up_required("2fa.backup_codes.regenerate")
def two_factor_backup_codes_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            codes = services.backup_codes_regenerate(user=request.user, request=request)
        except services.TwoFactorError as error:
            messages.error(request, error.message)
            return redirect("two_factor")
        session_services.keep_signed_in(user=request.user, request=request)  # others were signed out
        request.session[_NEW_CODES] = codes
        return redirect("two_factor_backup_codes")
    return render(request, "accounts/two_factor_confirm.html", {"action": "regenerate"})


@sensitive_post_parameters()
@login_required
@_customers_only
@require_http_methods(["GET", "POST"])
@step_up_required("2fa.disable")
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        services.two_factor_disable(user=request.user, request=request)
        session_services.keep_signed_in(user=request.user, request=request)  # others were signed out
        request.session.pop(django_otp.DEVICE_ID_SESSION_KEY, None)
        messages.success(request, "Two-factor authentication is off. We recommend turning it back on.")
        return redirect("two_factor")
    return render(request, "accounts/two_factor_confirm.html", {"action": "disable"})


_STEP_UP_FAILURES = "stepup.failures"


@sensitive_post_parameters()
@login_required
@require_http_methods(["GET", "POST"])
@rate_limit("otp", key=by_user)
def step_up(request: HttpRequest) -> HttpResponse:
    """Prove it is you again before a sensitive action: a code (two-factor on) or the password (off)."""
    action = request.GET.get("action", "")
    if action not in STEP_UP_ACTIONS:
        raise Http404("No such action.")
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = resolve_url(settings.LOGIN_REDIRECT_URL)
    uses_code = otp.has_two_factor(request.user)
    form_class = OTPCodeForm if uses_code else PasswordConfirmForm
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = otp.code_check(request.user, form.cleaned_data["code"]) if uses_code else None
        ok = check.ok if check is not None else request.user.check_password(form.cleaned_data["password"])
        method = "otp" if uses_code else "password"
        if ok:
            request.session.pop(_STEP_UP_FAILURES, None)
            if check is not None:
                otp.session_mark_verified(request, check.device)
            step_up_grant(request, action)
            after = {"action": action, "method": method}
            audit_record(action="stepup.success", obj=request.user, after=after, request=request)
            return redirect(next_url)
        failures = request.session.get(_STEP_UP_FAILURES, 0) + 1
        request.session[_STEP_UP_FAILURES] = failures
        audit_record(
            action="stepup.failure",
            obj=request.user,
            after={"action": action, "method": method, "failures": failures},
            request=request,
        )
        if failures >= STEP_UP_MAX_FAILURES:
            auth_logout(request)
            wrong = _("Too many wrong codes.") if uses_code else _("Too many wrong passwords.")
            messages.error(request, wrong + " " + _("For your safety we signed you out."))
            return redirect("login")
        left = step_up_tries_left(failures)
        tries = f"{left} {'try' if left == 1 else 'tries'} left before we sign you out for your safety."
        if check is not None:
            form.add_error("code", f"{_code_error(check)} {tries}")
        else:
            form.add_error("password", f"That password is not right. Please try again. {tries}")
    context = {
        "form": form,
        "uses_code": uses_code,
        "purpose": STEP_UP_ACTIONS[action],
        "summary": step_up_summary(request, action),  # what is being authorised (a transfer's details)
        "next_url": next_url,
        # A transfer goes back to its review; a scheduled transfer has none, it goes back to its form.
        "is_transfer": action.startswith("transfer.") and action != "transfer.schedule",
        "is_schedule": action == "transfer.schedule",
        # "Turn on two-factor" would lead back to this page (2fa.enable) or away from a transfer half done.
        "offer_two_factor": action != "2fa.enable" and not action.startswith("transfer."),
        "cancel_review": _review_token(next_url),  # "Cancel the transfer" marks that review cancelled
        "is_payee": action == "payee.add",
    }
    return render(request, "accounts/step_up.html", context)


def _review_token(next_url: str) -> str:
    """The token of the transfer review that the step-up page goes back to, or "" if it goes elsewhere."""
    try:
        match = resolve(urlsplit(next_url).path)
    except Resolver404:
        return ""
    return match.kwargs.get("token", "") if match.url_name == "transfer_review" else ""


@login_required
@require_safe
def security(request: HttpRequest) -> HttpResponse:
    """Recent sign-ins, the sessions still open (this one marked), 2FA and password, today's transfer
    limits, recent payee and limit changes, and the two emergency buttons. A fixed number of queries however
    long the history."""
    changes = selectors.security_change_list(user=request.user)
    context = {
        "sign_ins": selectors.sign_in_attempt_list(user=request.user),
        "active_sessions": selectors.session_active_list(user=request.user),
        "current_session_id": request.session.get(session_services.SESSION_ID),
        "changes": changes,
        "limits": transfer_limits_get(user=request.user),  # today's limits and what is left
    }
    enabled = otp.has_two_factor(request.user)
    left = otp.backup_codes_left(request.user) if enabled else 0
    context["two_factor"] = {"enabled": enabled, "backup_codes_left": left}
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


@sensitive_post_parameters()
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_compromise(request: HttpRequest) -> HttpResponse:
    """This wasn't me: a page that says what will happen, then on POST freeze, sign out everywhere, and
    send the customer to a page that says what happened and whom to call."""
    if request.method != "POST":
        return render(request, "accounts/report_compromise.html", {"bank_phone": settings.BANK_PHONE})
    event = services.compromise_report(user=request.user, request=request)
    auth_logout(request)
    request.session[_REPORT_REFERENCE] = services.compromise_reference(event)
    return redirect("report_compromise_done")


_REPORT_REFERENCE = "sb.compromise_reference"


@require_safe
def report_compromise_done(request: HttpRequest) -> HttpResponse:
    """Shown signed out. The reference is there only for the browser that made the report."""
    reference = request.session.get(_REPORT_REFERENCE)
    context = {"reference": reference, "bank_phone": settings.BANK_PHONE}
    return render(request, "accounts/report_compromise_done.html", context)
