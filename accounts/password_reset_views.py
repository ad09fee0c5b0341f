"""The forgotten-password pages (the rules are in accounts/password_reset.py): ask for a link, open it, the
second factor when two-factor auth is on, the new password. Nobody is signed in by them; every page is
no-store, and the pages that take a code or a password keep them out of error reports."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from accounts import lockout, password_reset
from accounts.forms import CustomerSetPasswordForm, OTPCodeForm, PasswordResetRequestForm
from accounts.views import _code_error, pause_end_shown
from portal.client_address import client_ip
from portal.local_time import time_of_day
from portal.ratelimit import by_field, by_ip, rate_limit


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@rate_limit("password_reset_ip", key=by_ip)
@rate_limit("password_reset", key=by_field("email"))
def password_reset_ask(request: HttpRequest) -> HttpResponse:
    """The email to send a link to. Known or not, the same redirect to the same page."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password_reset.password_reset_request(email=form.cleaned_data["email"], request=request)
        return redirect("password_reset_sent")
    return render(request, "accounts/password_reset.html", {"form": form})


@never_cache
@require_safe
def password_reset_sent(request: HttpRequest) -> HttpResponse:
    """What everyone who asked sees, whether or not the email has an account."""
    return render(request, "accounts/password_reset_sent.html", {"minutes": _minutes()})


@never_cache
@require_safe
def password_reset_link(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The link from the email: its token goes into the session and the browser on to a URL without it
    (no token in the Referer of anything the next page loads, nor in the history)."""
    if not password_reset.link_open(request, uidb64=uidb64, token=token):
        return _link_invalid(request)
    return redirect("password_reset_new")


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "HEAD", "POST"])
@rate_limit("otp", key=password_reset.link_key)
def password_reset_code(request: HttpRequest) -> HttpResponse:
    """Two-factor auth is on: a code from the app or a backup code before the new password."""
    link = password_reset.link_current(request)
    if link is None:
        return _link_invalid(request)
    if not link.needs_code:
        return redirect("password_reset_new")
    form = OTPCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check, given_up = password_reset.link_code_check(request, link=link, code=form.cleaned_data["code"])
        if check.ok:
            return redirect("password_reset_new")
        if given_up:
            messages.error(
                request, "Too many wrong codes. For your safety, open the link in the email again."
            )
            return redirect("password_reset")
        form.add_error("code", _code_error(check))
    return render(
        request, "accounts/password_reset_code.html", {"form": form, "bank_phone": settings.BANK_PHONE}
    )


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "HEAD", "POST"])
def password_reset_new(request: HttpRequest) -> HttpResponse:
    """The new password, checked by the project's validators. Then every session ends, and the customer
    signs in with it (this browser too: signed out if it was signed in)."""
    link = password_reset.link_current(request)
    if link is None:
        return _link_invalid(request)
    if link.needs_code:
        return redirect("password_reset_code")
    form = CustomerSetPasswordForm(link.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        new_password = form.cleaned_data["new_password1"]
        if not password_reset.password_reset_complete(request, link=link, new_password=new_password):
            return _link_invalid(request)  # used in another tab a moment ago
        if request.user.is_authenticated:
            auth_logout(request)
        messages.success(
            request,
            "Your password is changed and every device is signed out. Sign in with your new password.",
        )
        if paused := _paused_until(request, link.user.email):  # a new password does not lift the pause
            messages.info(request, paused)
        return redirect("login")
    return render(request, "accounts/password_reset_new.html", {"form": form})


def _paused_until(request: HttpRequest, email: str) -> str:
    """If the failed attempts before the reset paused sign-in to this email from this connection: until when
    (as the sign-in page says it) and what to do meanwhile. Else ""."""
    email = lockout.attempted_email(request, {"username": email}) or ""
    ends = lockout.lockout_ends_at(email=email, ip_address=client_ip(request))
    if ends is None:
        return ""
    return (
        f"After the failed attempts, sign-in to your account from this connection is still paused until "
        f"{time_of_day(pause_end_shown(ends))}. Sign in then, or now from a device you have signed in on "
        f"before. For help, call us on {settings.BANK_PHONE}."
    )


def _minutes() -> int:
    return settings.PASSWORD_RESET_TIMEOUT // 60


def _link_invalid(request: HttpRequest) -> HttpResponse:
    """A made-up, expired or used link (or none in this browser): the same page for each."""
    return render(request, "accounts/password_reset_invalid.html", {"minutes": _minutes()})
