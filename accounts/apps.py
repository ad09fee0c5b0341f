from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"
    verbose_name = "Customers and accounts"

    def ready(self) -> None:
        from accounts import signals

        signals.connect()


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin with the site that requires staff two-factor auth (accounts/admin_site.py)."""

    default = False
    default_site = "accounts.admin_site.TwoFactorAdminSite"
