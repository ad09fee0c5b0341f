"""The admin site: Django's, entered only by staff who proved a second factor in this session.

`has_permission` adds to Django's check (active staff) that the session is OTP-verified
(accounts/otp.py `session_verified`: the session signed in, or stepped up, with a code from a confirmed
device of this user, and the proof is bound to that user's id). Django's own admin login form is never used,
because it would sign a person in with a password alone (and a signed-in member of staff could POST another
person's email and password to it and become them without their code): `login` reads no credentials at all.
It sends a visitor who is not signed in to the portal's sign-in (password, then code, rate-limited), sends
verified staff to the index, and answers a signed-in person who may not enter with a page that says why
(403). Its POSTs count towards the sign-in rate limits all the same (login_ip, login_email).

Staff second factors are provisioned out of band: `manage.py enrol_totp`, or here by another verified member
of staff holding `accounts.provision_staff_device` (`provision_staff_device`: the new app's QR code, setup
key and backup codes are shown once, in the answer to the POST). The portal's own 2FA pages refuse staff.

Installed through `accounts.apps.AdminConfig.default_site`, so `admin.site` and every
`@admin.register` keep working.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from accounts import otp, services
from accounts.models import User
from portal.ratelimit import by_field, by_ip, rate_limit


class TwoFactorAdminSite(admin.AdminSite):
    site_header = "SecureBank back office"
    site_title = "SecureBank back office"
    index_title = "Customers, accounts and the ledger"
    # The lists need the width at 1280 px (the ledger's seven columns, the audit trail's); the index and
    # the breadcrumbs lead everywhere the sidebar did.
    enable_nav_sidebar = False

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and otp.session_verified(request)

    @method_decorator(sensitive_post_parameters())
    @method_decorator(rate_limit("login_ip", key=by_ip))
    @method_decorator(rate_limit("login_email", key=by_field("username")))
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(next_url)
        if self.has_permission(request):  # already in: never read a POSTed email and password
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        staff = user.is_active and user.is_staff
        context = {
            "staff": staff,
            "enrolled": staff and otp.has_two_factor(user),
            "step_up_url": reverse("step_up") + "?action=admin.enter&next=" + reverse("admin:index"),
        }
        return render(request, "accounts/admin_two_factor_required.html", context, status=403)

    def get_urls(self) -> list[URLResolver | URLPattern]:
        extra = [
            path(
                "staff-device/<int:user_id>/",
                self.admin_view(self.provision_staff_device),
                name="provision_staff_device",
            )
        ]
        return extra + super().get_urls()

    def provision_staff_device(self, request: HttpRequest, user_id: int) -> HttpResponse:
        """GET: what will happen; POST: a new authenticator app for another member of staff, shown once."""
        if not request.user.has_perm("accounts.provision_staff_device"):
            raise Http404("No such page.")
        target = User.objects.filter(pk=user_id, is_staff=True, is_active=True).first()
        if target is None:
            raise Http404("No such member of staff.")
        context = {**self.each_context(request), "title": "Set up an authenticator app", "target": target}
        if request.method == "POST":
            try:
                device, codes = services.two_factor_provision_staff(
                    user=target, by=request.user, request=request
                )
            except services.TwoFactorError as error:
                context["error"] = error.message
                return render(request, "accounts/admin_provision_device.html", context, status=400)
            context.update(
                qr_svg=otp.qr_svg(device),
                secret=otp.secret_display(device),
                codes=[otp.backup_code_display(code) for code in codes],
            )
        return render(request, "accounts/admin_provision_device.html", context)
