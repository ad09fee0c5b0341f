"""Celery entry points of the transactions app: scheduled transfers (transactions/scheduled/) and the
customers' posting alerts (transactions/alerts.py)."""

from celery import shared_task

from transactions import alerts
from transactions.scheduled.services import scheduled_transfers_run


@shared_task(acks_late=True, time_limit=280, soft_time_limit=240, ignore_result=True)
def scheduled_transfers_run_task() -> int:
    """Every five minutes (beat): run the scheduled transfers due today in India. Safe to run twice or at
    once on two workers: each occurrence runs once (see transactions/scheduled/services.py). Returns how
    many occurrences ran."""
    return scheduled_transfers_run()


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50, ignore_result=True)
def posting_alerts_dispatch_task() -> dict[str, int]:
    """Beat, every few seconds: hand the alerts that are due to send tasks; fail those stuck while sending."""
    return alerts.alerts_dispatch()


# No Celery retries: a failed send is retried by the outbox's own backoff, which staff can see.
@shared_task(acks_late=True, time_limit=300, soft_time_limit=240, ignore_result=True)
def posting_alerts_send_task(chunk: list[list[int]]) -> int:
    """Email a chunk of alerts, given as [alert id, attempts when handed out]. Safe to run twice (an alert
    is claimed before it is sent); returns how many this run sent."""
    return alerts.alerts_send([(alert_id, attempts) for alert_id, attempts in chunk])
