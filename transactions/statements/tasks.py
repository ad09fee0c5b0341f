"""Celery entry points of the statements."""

from celery import shared_task

from transactions.statements import generate


@shared_task(acks_late=True, time_limit=15 * 60, soft_time_limit=14 * 60, ignore_result=True)
def statement_generate_task(statement_id: int) -> bool:
    """Make one statement's files. Twice, or by two workers at once: one claims it, the other does nothing."""
    return generate.build(statement_id)
