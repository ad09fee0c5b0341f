from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started

        from portal.audit import bind_request_environ, unbind_request_environ

        # Where a request came from, for audit events recorded below the view (a posting in the ledger).
        request_started.connect(bind_request_environ, dispatch_uid="portal.audit.bind_request_environ")
        request_finished.connect(unbind_request_environ, dispatch_uid="portal.audit.unbind_request_environ")
