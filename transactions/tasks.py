"""Celery entry points of the transactions app: the customers' posting alerts (transactions/alerts.py)."""

from celery import shared_task

from transactions import alerts


# No Celery retries: a failed send is retried by the outbox's own backoff (the sweeper), which staff can see.
@shared_task(acks_late=True, time_limit=60, soft_time_limit=45, ignore_result=True)
def posting_alerts_send_task(transaction_id: int) -> int:
    """Queued when a posting commits: email its pending alerts. Safe to run twice (an alert is claimed
    before it is sent); returns how many this run sent."""
    return alerts.posting_alerts_send(transaction_id)


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100, ignore_result=True)
def posting_alerts_sweep_task() -> dict[str, int]:
    """Beat, every minute: retries that are due, alerts whose task was lost, alerts stuck while sending."""
    return alerts.alerts_sweep()
