"""Celery entry points of the accounts app."""

import contextlib
import datetime

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from accounts import password_reset
from accounts.models import User
from accounts.notifications import KINDS
from accounts.sessions import session_registry_prune


def _times(context: dict) -> dict:
    """ISO times back to datetimes, so that templates format them in the bank's time zone (IST)."""
    out = dict(context)
    for key, value in context.items():
        if key == "at" and isinstance(value, str):
            with contextlib.suppress(ValueError):
                out[key] = datetime.datetime.fromisoformat(value)
    return out


@shared_task(
    acks_late=True,
    time_limit=60,
    soft_time_limit=45,
    ignore_result=True,
    autoretry_for=(OSError,),  # the mail server unreachable or refusing (smtplib errors are OSErrors)
    retry_backoff=True,
    max_retries=5,
)
def notification_send_task(user_id: int, kind: str, context: dict) -> bool:
    """Render templates/emails/<kind>.txt (partials `subject` and `body`) and email the customer. Returns
    whether an email went out: not for a user who is gone or has no address. A retry after a crash may
    send twice; a notice twice is better than none."""
    if kind not in KINDS:
        return False
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return False
    data = {**_times(context), "user": user, "bank_phone": settings.BANK_PHONE}
    subject = " ".join(render_to_string(f"emails/{kind}.txt#subject", data).split())
    body = render_to_string(f"emails/{kind}.txt#body", data).strip() + "\n"
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    return True


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240, ignore_result=True)
def session_registry_prune_task() -> int:
    """Daily: forget sign-ins older than 180 days. Safe to run twice (a second run finds nothing)."""
    return session_registry_prune()


@shared_task(
    acks_late=True,
    time_limit=60,
    soft_time_limit=45,
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def password_reset_email_task(email: str, site: str) -> bool:
    """Email a forgotten-password link to the customer with this email, if there is one who may have it
    (accounts/password_reset.py). Queued for every request, known email or not; the link is made here, so
    its token never travels through the broker. Returns whether an email went out."""
    found = password_reset.email_context(email=email, site=site)
    if found is None:
        return False
    user, context = found
    return notification_send_task(user.pk, "password_reset", context)
