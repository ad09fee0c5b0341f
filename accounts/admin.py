from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Account, User, UserSession
from portal.admin import AuditedAdminMixin
from portal.money import format_paise


class PasswordChangeForm(AdminPasswordChangeForm):
    """Django's form saves every column of the user: this one writes the password only (a session
    generation bumped meanwhile stays bumped)."""

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        if commit:
            user.save(update_fields=["password"])
        return user


STAFF_FLAGS_HELP = (
    "Staff and superuser status are not changed here: an operator runs manage.py staff_grant EMAIL "
    "[--superuser] to grant them (then manage.py enrol_totp EMAIL for the second factor) and manage.py "
    "staff_grant EMAIL --revoke to take them away. Deactivating someone (Active) works here."
)


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    change_password_form = PasswordChangeForm
    ordering = ["email"]
    list_display = ["email", "full_name", "phone", "is_staff", "is_active", "last_login"]
    search_fields = ["email", "full_name", "phone"]
    readonly_fields = ["last_login", "previous_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name", "phone"]}),
        (
            "Access",
            {
                "fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"],
                "description": STAFF_FLAGS_HELP,
            },
        ),
        ("Dates", {"fields": ["last_login", "previous_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]})
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        # Staff and superuser status are granted from the shell, as the database owner: the runtime role the
        # admin runs on may not turn them on (accounts/migrations/0006). The add form has neither field.
        return [*super().get_readonly_fields(request, obj), "is_staff", "is_superuser"]

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # People are deactivated (is_active), never deleted: their history refers to them, and the runtime
        # database role holds no DELETE on users (portal/dbroles.py).
        return False

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        # Django saves the new password and logs it in two statements: one transaction, with the audit event
        # (and the user's row locked from the POST's read: AuditedAdminMixin.get_object).
        with transaction.atomic():
            return super().user_change_password(request, id, form_url)


@admin.register(Account)
class AccountAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["number", "name", "owner", "kind", "status", "balance_display"]
    list_filter = ["kind", "status"]
    search_fields = ["number", "name", "owner__email", "owner__full_name"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    # Money is moved only by the ledger service: no staff member edits a balance.
    readonly_fields = ["balance_display", "currency", "ledger_version"]
    fields = [
        "owner",
        "number",
        "name",
        "kind",
        "status",
        "overdraft_limit",
        "opened_on",
        "balance_display",
        "currency",
        "ledger_version",
    ]

    @admin.display(description="Balance", ordering="balance")
    def balance_display(self, obj: Account) -> str:
        return format_paise(obj.balance)

    def get_readonly_fields(self, request: HttpRequest, obj: Account | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:  # An account's identity and its limit change only through their own flows.
            fields += ["owner", "number", "kind", "overdraft_limit"]
        return fields

    def has_delete_permission(self, request: HttpRequest, obj: Account | None = None) -> bool:
        return False


# Group permissions are staff changes too: Django's GroupAdmin, audited.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(AuditedAdminMixin, DjangoGroupAdmin):
    pass


@admin.register(AccessAttempt)
class LockoutAdmin(AuditedAdminMixin, AccessAttemptAdmin):
    """Failed sign-ins as django-axes counts them, per email, address and browser. An (email, address) pair
    is locked while its rows of the last AXES_COOLOFF_TIME add up to AXES_FAILURE_LIMIT failures: only that
    pair, never the email from elsewhere or the address for other emails (accounts/lockout.py). Staff clear
    a lock by deleting its rows (a customer who proved who they are on the phone); each deletion is an
    audit event with the email and address. Nothing can be added or edited."""

    actions: list = []  # Django's "delete selected" stays; axes' clean-up action would bypass the audit

    def has_change_permission(self, request: HttpRequest, obj: AccessAttempt | None = None) -> bool:
        return False

    def audit_deleted(self, obj: AccessAttempt) -> dict:
        return {
            "email": obj.username,
            "ip": obj.ip_address,
            "failures": obj.failures_since_start,
            "last_failure": obj.attempt_time,
        }


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):
    """Sign-ins, for staff following up a "This wasn't me" or a lockout: read-only (the registry is written
    by sign-in and sign-out only; ending sessions is the customer's security page, or deactivating the
    user)."""

    list_display = ["user", "device", "ip", "created_at", "last_seen_at", "ended_at", "end_reason"]
    list_filter = ["end_reason", "created_at"]
    search_fields = ["user__email", "ip"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: UserSession | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: UserSession | None = None) -> bool:
        return False


# django-otp's own device admins would show an authenticator seed (its QR view draws it for any staff who may
# view devices) and would let staff add devices and backup codes outside the provisioning rules
# (accounts/admin_site.py `provision_staff_device`): left out.
for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)
