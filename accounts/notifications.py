"""Customer notifications: `notify(user, kind, **context)` emails the customer after the action commits.

The one door for notifications, so that its rules hold for all of them:
- Nothing is sent for an action that rolls back: the task is queued by `transaction.on_commit`.
- No full account number leaves the bank: an Account in the context becomes its name and masked number
  (last 4 digits) here, before anything is queued.
- The context travels to the Celery task as JSON: times as ISO 8601, accounts as plain dicts.
The task (accounts.tasks.notification_send_task) renders templates/emails/<kind>.txt and sends it. It is
sent by name: the task module imports this one (for KINDS, and through accounts.sessions), so this one
imports nothing of it and the import goes one way only.
"""

import datetime
from functools import partial
from typing import Any

from django.db import transaction

from accounts.models import Account, User
from portal.celery import app as celery_app

KINDS = frozenset(
    {
        "new_device_login",
        "lockout",
        "two_factor_changed",
        "payee_added",
        "compromise_reported",
        "password_reset",  # the forgotten-password link: sent by accounts.tasks.password_reset_email_task
        "password_changed",
        "limits_changed",  # the customer's own transfer limits (transactions.services.transfer_limits_set)
        "scheduled_transfer_failed",  # an occurrence the ledger refused (transactions/scheduled/services.py)
        "budget_near",  # 80 % of a monthly budget spent (transactions/insights/budgets.py)
        "budget_over",  # 100 %
        "statement_ready",  # a monthly statement made (transactions/statements/services.py notify_ready)
    }
)
SEND_TASK = "accounts.tasks.notification_send_task"


def _plain(value: Any) -> Any:
    if isinstance(value, Account):
        return {"name": value.name, "masked_number": value.masked_number, "last4": value.number[-4:]}
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def notify(user: User, kind: str, **context: Any) -> None:
    """Email `user` about `kind` once the current database transaction commits (at once outside one)."""
    if kind not in KINDS:
        raise ValueError(f"Unknown notification kind: {kind!r}")
    transaction.on_commit(partial(_queue, user.pk, kind, _plain(context)))


def _queue(user_id: int, kind: str, context: dict) -> None:
    """Queue the task by its name (the task module is not imported here: see the module's docstring); a
    signature, unlike send_task, still honours task_always_eager."""
    celery_app.signature(SEND_TASK, args=(user_id, kind, context)).delay()
