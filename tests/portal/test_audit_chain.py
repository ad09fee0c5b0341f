"""The audit trail is append-only in PostgreSQL, sealed into a hash chain, and `audit_verify` finds any edit,
deletion, reordering or insertion made behind the triggers' back (raw SQL as a superuser, triggers off).

Raw SQL against committed rows, hence transaction=True."""

import itertools

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from portal.audit import GENESIS, audit_record, audit_seal, audit_verify, event_hash
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def _record(count: int) -> list[int]:
    return [audit_record(action="test.event", after={"n": n}).seq for n in range(count)]


def _sealed(count: int = 5) -> list[int]:
    seqs = _record(count)
    assert audit_seal() == count
    return seqs


def _refused(sql: str, params: list) -> None:
    with (
        pytest.raises(IntegrityError, match="not allowed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


def _tamper(sql: str, params: list) -> None:
    """Run SQL with the table's triggers off, as an attacker with superuser rights would, and commit it."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


def _verify_fails() -> str:
    with pytest.raises(CommandError) as failure:
        call_command("audit_verify")
    return str(failure.value)


# --- The triggers ---------------------------------------------------------------------------------------


def test_it_refuses_to_update_an_event():
    seq = _record(1)[0]
    _refused("UPDATE portal_auditevent SET after = '{\"n\": 99}' WHERE seq = %s", [seq])
    _refused("UPDATE portal_auditevent SET actor_email = 'someone@else.in' WHERE seq = %s", [seq])
    assert AuditEvent.objects.get(seq=seq).after == {"n": 0}


def test_it_refuses_to_delete_an_event():
    seqs = _record(2)
    _refused("DELETE FROM portal_auditevent WHERE seq = %s", [seqs[0]])
    _refused("DELETE FROM portal_auditevent", [])
    assert AuditEvent.objects.count() == 2


def test_it_refuses_to_reseal_or_unseal_an_event():
    seq = _sealed(1)[0]
    _refused("UPDATE portal_auditevent SET hash = %s WHERE seq = %s", ["a" * 64, seq])
    _refused("UPDATE portal_auditevent SET prev_hash = NULL, hash = NULL WHERE seq = %s", [seq])


def test_it_refuses_a_seal_that_also_changes_the_event():
    seq = _record(1)[0]
    _refused(
        "UPDATE portal_auditevent SET prev_hash = %s, hash = %s, action = 'login.success' WHERE seq = %s",
        [GENESIS, "b" * 64, seq],
    )
    _refused("UPDATE portal_auditevent SET prev_hash = %s, hash = 'not hex' WHERE seq = %s", [GENESIS, seq])


def test_it_refuses_an_event_inserted_already_sealed():
    _refused(
        "INSERT INTO portal_auditevent (created, actor_email, action, object_type, object_id, user_agent,"
        " request_id, prev_hash, hash) VALUES (%s, '', 'forged', '', '', '', '', %s, %s)",
        [timezone.now(), GENESIS, "c" * 64],
    )


# --- Sealing and verifying ------------------------------------------------------------------------------


def test_it_seals_events_in_seq_order_into_a_chain_that_verifies(capsys):
    seqs = _record(4)
    assert audit_seal() == 4
    assert audit_seal() == 0  # nothing new: a second run is a no-op

    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == seqs
    assert events[0].prev_hash == GENESIS
    for earlier, later in itertools.pairwise(events):
        assert later.prev_hash == earlier.hash
    assert audit_verify().ok

    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "The audit chain holds: 4 sealed event(s)" in out
    assert events[-1].hash in out


def test_it_continues_the_chain_across_runs_and_skips_rolled_back_seqs():
    first = _sealed(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action="test.rolled_back")  # uses up a seq: a gap in the sequence, not a deletion
        raise RuntimeError
    later = _record(2)
    assert audit_seal() == 2
    result = audit_verify()
    assert result.ok, result.problems
    assert result.checked == 4
    assert later[0] > first[-1] + 1
    assert AuditEvent.objects.get(seq=later[0]).prev_hash == AuditEvent.objects.get(seq=first[-1]).hash


def test_it_seals_first_in_audit_verify_unless_told_not_to(capsys):
    _record(3)
    call_command("audit_verify", "--no-seal")
    assert "0 sealed event(s)" in capsys.readouterr().out
    assert AuditEvent.objects.filter(hash__isnull=True).count() == 3
    call_command("audit_verify")
    assert AuditEvent.objects.filter(hash__isnull=True).count() == 0


def test_it_detects_an_edited_event():
    seqs = _sealed()
    _tamper("UPDATE portal_auditevent SET after = '{\"n\": 1000}' WHERE seq = %s", [seqs[2]])
    message = _verify_fails()
    assert f"seq {seqs[2]}: edited" in message
    assert f"broken at seq {seqs[2]} " in message


def test_it_detects_an_edit_whose_hash_was_recomputed_at_the_next_link():
    seqs = _sealed()
    event = AuditEvent.objects.get(seq=seqs[1])
    forged = event_hash(event.prev_hash, event.seq, _values(event, actor_email="mallory@evil.in"))
    _tamper(
        "UPDATE portal_auditevent SET actor_email = 'mallory@evil.in', hash = %s WHERE seq = %s",
        [forged, seqs[1]],
    )
    message = _verify_fails()
    assert f"seq {seqs[2]}: broken link" in message
    assert f"seq {seqs[1]}:" not in message  # its own hash matches: the next link gives it away


def _values(event: AuditEvent, **changes) -> tuple:
    from portal.audit import CHAIN_FIELDS

    event.refresh_from_db()
    for name, value in changes.items():
        setattr(event, name, value)
    return tuple(getattr(event, name) for name in CHAIN_FIELDS)


def test_it_detects_a_deleted_event():
    seqs = _sealed()
    _tamper("DELETE FROM portal_auditevent WHERE seq = %s", [seqs[2]])
    message = _verify_fails()
    assert f"seq {seqs[3]}: broken link" in message
    assert f"after seq {seqs[1]}" in message


def test_it_detects_a_deleted_first_event():
    seqs = _sealed()
    _tamper("DELETE FROM portal_auditevent WHERE seq = %s", [seqs[0]])
    message = _verify_fails()
    assert f"seq {seqs[1]}: broken link" in message
    assert "at the start of the chain" in message


def test_it_detects_two_events_swapped():
    seqs = _sealed()
    a, b = seqs[1], seqs[2]
    _tamper("UPDATE portal_auditevent SET seq = -1 WHERE seq = %s", [a])
    _tamper("UPDATE portal_auditevent SET seq = %s WHERE seq = %s", [a, b])
    _tamper("UPDATE portal_auditevent SET seq = %s WHERE seq = -1", [b])
    message = _verify_fails()
    assert f"broken at seq {a}, {b}" in message


def test_it_detects_an_event_inserted_inside_the_sealed_chain():
    seqs = _sealed()
    _tamper("DELETE FROM portal_auditevent WHERE seq = %s", [seqs[2]])  # make room, as a gap would
    with connection.cursor() as cursor:  # an ordinary INSERT: the triggers allow an unsealed event
        cursor.execute(
            "INSERT INTO portal_auditevent (seq, created, actor_email, action, object_type, object_id,"
            " user_agent, request_id) VALUES (%s, %s, 'mallory@evil.in', 'forged', '', '', '', '')",
            [seqs[2], timezone.now()],
        )
    message = _verify_fails()  # the sealer does not chain it: it is below the head
    assert f"seq {seqs[2]}: unsealed" in message
    assert AuditEvent.objects.get(seq=seqs[2]).hash is None


def test_it_names_every_bad_seq():
    seqs = _sealed(6)
    _tamper("UPDATE portal_auditevent SET action = 'x' WHERE seq IN (%s, %s)", [seqs[1], seqs[4]])
    result = audit_verify()
    assert result.bad_seqs == [seqs[1], seqs[4]]
    assert f"broken at seq {seqs[1]}, {seqs[4]} " in _verify_fails()


def test_it_seals_from_the_beat_task_every_minute(settings):
    from portal.tasks import audit_seal_task

    _record(3)
    assert audit_seal_task.apply().get() == 3
    assert audit_seal_task.apply().get() == 0
    entry = settings.CELERY_BEAT_SCHEDULE["audit-seal"]
    assert (entry["task"], entry["schedule"]) == (audit_seal_task.name, 60.0)
