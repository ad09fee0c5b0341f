"""Writers append events in parallel and commit in any order; the sealer chains them in seq order and never
skips or misorders an event whose transaction commits late. Real PostgreSQL connections in threads."""

import random
import threading
import time
import uuid

import pytest
from django.db import connection, transaction

from portal.audit import audit_record, audit_seal, audit_verify
from portal.models import AuditEvent
from tests.conftest import fund
from tests.factories import AccountFactory
from transactions import services
from transactions.services import TransferError

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS = 6
TRANSFERS_PER_WRITER = 25


def _thread(work, errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)
        finally:
            connection.close()

    return threading.Thread(target=run)


def test_it_seals_a_late_committing_event_in_its_place_and_never_skips_it():
    opened, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    late_seq: list[int] = []

    def slow_writer() -> None:
        with transaction.atomic():
            late_seq.append(audit_record(action="test.late").seq)
            opened.set()
            assert release.wait(10)

    writer = _thread(slow_writer, errors)
    writer.start()
    assert opened.wait(10)
    early = audit_record(action="test.early").seq  # a larger seq, committed first
    assert early > late_seq[0]

    # The late event's transaction is open: sealing `early` now would chain it before the smaller seq.
    assert audit_seal(wait_seconds=0.3) == 0
    assert not AuditEvent.objects.filter(hash__isnull=False).exists()

    release.set()
    writer.join(10)
    assert errors == []
    assert audit_seal() == 2
    late, then = AuditEvent.objects.order_by("seq")
    assert (late.seq, then.seq) == (late_seq[0], early)
    assert then.prev_hash == late.hash
    assert audit_verify().ok


def test_it_seals_what_committed_before_an_open_writer_drew_its_seq_only_after_it_finishes():
    """The horizon is the sequence's value when the sealer looked: a writer that starts after that point
    does not hold the sealer back, and its event waits for the next run."""
    first = audit_record(action="test.first").seq
    assert audit_seal() == 1
    second = audit_record(action="test.second").seq
    assert audit_seal() == 1
    assert AuditEvent.objects.get(seq=second).prev_hash == AuditEvent.objects.get(seq=first).hash


def test_it_chains_every_event_exactly_once_under_concurrent_transfers_and_sealing(alice):
    accounts = [fund(AccountFactory(owner=alice, name=f"Pot {i}"), 5_000_00) for i in range(4)]
    ids = [a.pk for a in accounts]
    errors: list[BaseException] = []
    posted: list[int] = []
    tally = threading.Lock()
    start = threading.Barrier(WRITERS + 1)
    writers_done = threading.Event()
    sealed_per_run: list[int] = []

    def writer(i: int):
        def work() -> None:
            rng = random.Random(i)
            start.wait()
            for _ in range(TRANSFERS_PER_WRITER):
                source, destination = rng.sample(ids, 2)
                try:
                    # Hold some transactions open after the event is written: they commit after events
                    # with larger seqs, which is what the sealer must not get wrong.
                    with transaction.atomic():
                        txn = services.transfer_create(
                            initiator=alice,
                            source=source,
                            destination=destination,
                            amount_paise=rng.randint(1, 900_00),
                            description="",
                            idempotency_key=str(uuid.uuid4()),
                        )
                        if rng.random() < 0.3:
                            time.sleep(rng.uniform(0.001, 0.03))
                except TransferError as exc:
                    assert exc.code == "insufficient_funds"
                else:
                    with tally:
                        posted.append(txn.pk)

        return work

    def sealer() -> None:
        start.wait()
        while not writers_done.is_set():
            sealed_per_run.append(audit_seal(wait_seconds=5))
            time.sleep(0.005)

    threads = [_thread(writer(i), errors) for i in range(WRITERS)]
    seal_thread = _thread(sealer, errors)
    for thread in [*threads, seal_thread]:
        thread.start()
    for thread in threads:
        thread.join(60)
    writers_done.set()
    seal_thread.join(60)
    assert not any(thread.is_alive() for thread in [*threads, seal_thread])
    assert errors == []
    assert posted, "no transfer went through: the test proves nothing"
    assert sum(sealed_per_run) > 0, "the sealer never ran alongside the writers"

    sealed_per_run.append(audit_seal())
    total = AuditEvent.objects.count()
    assert sum(sealed_per_run) == total  # each event sealed once (a second seal is refused by the trigger)
    assert not AuditEvent.objects.filter(hash__isnull=True).exists()
    transfers = AuditEvent.objects.filter(action="money.transfer")
    assert sorted(int(pk) for pk in transfers.values_list("object_id", flat=True)) == sorted(posted)
    result = audit_verify()
    assert result.ok, result.problems
    assert result.checked == total
