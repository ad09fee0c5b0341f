"""Scheduled and recurring transfers: the bank's calendar (`dates`), the writes (`services`: create,
pause, resume, cancel, and running due occurrences for the beat job
`transactions.tasks.scheduled_transfers_run_task`), the reads (`selectors`), and the customer's pages
(`forms`, `views`).

A package of its own inside the ledger's app because it is one feature with its own calendar, form and
pages; the models live with the ledger's (transactions/models.py: ScheduledTransfer, ScheduledRun)."""
