from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "portal.public"
    label = "public"
    verbose_name = "Rates and FAQ"

    def ready(self) -> None:
        from portal.public import signals  # noqa: F401 - wiring: staff edits drop the cached pages
