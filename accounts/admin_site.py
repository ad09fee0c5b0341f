"""The admin site: Django's, entered only by staff who proved a second factor in this session.

`has_permission` adds to Django's check (active staff) that the session is OTP-verified
(accounts/otp.py `session_verified`: the session signed in, or stepped up, with a code from a confirmed
device of this user). Django's own admin login form is never used, because it would sign a person in with
a password alone: `login` sends a visitor who is not signed in to the portal's sign-in (password, then
code), and answers a signed-in person who may not enter with a page that says why (403): staff without
two-factor auth are told to turn it on at /security/2fa/, staff with it are offered a code check.

Installed through `accounts.apps.AdminConfig.default_site`, so `admin.site` and every
`@admin.register` keep working.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts import otp


class TwoFactorAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and otp.session_verified(request)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(next_url)
        if self.has_permission(request):
            return super().login(request, extra_context)  # Django redirects to the admin index
        staff = user.is_active and user.is_staff
        context = {
            "staff": staff,
            "enrolled": staff and otp.has_two_factor(user),
            "step_up_url": reverse("step_up") + "?action=admin.enter&next=" + reverse("admin:index"),
        }
        return render(request, "accounts/admin_two_factor_required.html", context, status=403)
