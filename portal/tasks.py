"""Celery entry points of the portal app."""

from celery import shared_task

from portal.audit import audit_seal

# A run seals at most this many events, so a backlog (after an outage of the beat) is worked off over a few
# runs of bounded transactions rather than one huge one.
SEAL_LIMIT = 200_000


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240, ignore_result=True)
def audit_seal_task() -> int:
    """Chain the audit events recorded since the last run (beat, every minute). Safe to run twice or at
    once: sealers take turns on an advisory lock and only ever seal unsealed events after the head."""
    return audit_seal(limit=SEAL_LIMIT)
