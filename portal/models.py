"""The audit trail: one append-only table of events, chained by HMAC afterwards (portal/audit/chain.py)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Now
from django.utils import timezone


class AuditEvent(models.Model):
    """Who did what to which object, when and from where; written in the transaction of the action.

    PostgreSQL refuses DELETE and every UPDATE but one (migration 0002): `audit_seal` setting `prev_hash` and
    `hash` on an unsealed event. `seq` is the append order and the order of the hash chain.
    """

    seq = models.BigAutoField(primary_key=True)
    created = models.DateTimeField(default=timezone.now, db_default=Now())
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # auditevent_actor_created leads with actor
        help_text="Empty for the bank's own work and for an anonymous visitor.",
    )
    actor_email = models.CharField(max_length=254, blank=True, help_text="Kept as it was at the time.")
    action = models.CharField(max_length=40, help_text="e.g. login.success, money.transfer, admin.change")
    object_type = models.CharField(max_length=100, blank=True, help_text="app_label.model")
    object_id = models.CharField(max_length=100, blank=True)
    before = models.JSONField(null=True, blank=True, help_text="Changed fields before; secrets redacted.")
    after = models.JSONField(null=True, blank=True, help_text="Changed fields after; secrets redacted.")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)
    hash = models.CharField(max_length=64, null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["created"], name="auditevent_created"),
            models.Index(fields=["actor", "created"], name="auditevent_actor_created"),
            # A failed sign-in has no actor, only the email typed (accounts/signals.py): the security page
            # finds a customer's by that email (accounts/selectors.py `sign_in_failure_list`).
            models.Index(
                KT("after__email"),
                F("created").desc(),
                name="auditevent_login_failure_email",
                condition=Q(action="login.failure"),
            ),
            # ...and its wrong codes, without reading every event of a customer with a long history.
            models.Index(
                F("actor"),
                F("created").desc(),
                name="auditevent_otp_failure_actor",
                condition=Q(action="login.otp_failure"),
            ),
        ]

    def __str__(self) -> str:
        who = self.actor_email or "system"
        target = f" {self.object_type}#{self.object_id}" if self.object_type else ""
        return f"#{self.seq} {self.action} by {who}{target}"

    @property
    def sealed(self) -> bool:
        return self.hash is not None
