"""Celery entry points of the transactions app."""

from celery import shared_task

from transactions.scheduled.services import scheduled_transfers_run


@shared_task(acks_late=True, time_limit=280, soft_time_limit=240, ignore_result=True)
def scheduled_transfers_run_task() -> int:
    """Every five minutes (beat): run the scheduled transfers due today in India. Safe to run twice or at
    once on two workers: each occurrence runs once (see transactions/scheduled/services.py). Returns how
    many occurrences ran."""
    return scheduled_transfers_run()
