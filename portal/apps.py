from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from portal import metrics

        metrics.connect()
