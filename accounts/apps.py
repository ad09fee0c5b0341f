from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


def _ensure_internal_accounts(sender: AppConfig, using: str, apps: Any = global_apps, **kwargs: Any) -> None:
    """After every `migrate` (and a test flush): the settlement shards of a raised SETTLEMENT_SHARDS exist
    before a posting can choose one (accounts/internal.py). Reference data, like Django's permissions."""
    from accounts.internal import ensure_internal_accounts

    try:
        account = apps.get_model("accounts", "Account")
    except LookupError:  # migrated back to before the accounts table (a flush passes no apps: the models)
        return
    ensure_internal_accounts(account, using=using)


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"
    verbose_name = "Customers and accounts"

    def ready(self) -> None:
        from accounts import signals

        signals.connect()
        post_migrate.connect(_ensure_internal_accounts, sender=self)


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin with the site that requires staff two-factor auth (accounts/admin_site.py)."""

    default = False
    default_site = "accounts.admin_site.TwoFactorAdminSite"
