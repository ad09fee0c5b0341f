"""The audit chain against an attacker who can write the audit table with its triggers off (the database's
credentials, superuser or owner) but holds neither the chain's key (AUDIT_HMAC_KEY, in the environment) nor
the anchors (the sealed heads written outside the database after every sealing run).

Raw SQL against committed rows, hence transaction=True."""

import hashlib
import importlib
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog
import time_machine
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from portal.audit import CHAIN_FIELDS, audit_record, audit_seal, audit_verify, canonical, event_hash
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
Hasher = Callable[[str, int, tuple], str]


def _sealed(count: int) -> list[int]:
    seqs = [audit_record(action="test.event", after={"n": n}).seq for n in range(count)]
    assert audit_seal() == count
    return seqs


def _tamper(sql: str, params: list) -> None:
    """Run SQL with the table's triggers off, as an attacker with superuser rights would, and commit it."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


def _unkeyed(prev_hash: str, seq: int, values: tuple) -> str:
    """Today's chain: plain SHA-256, which anyone can compute."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(seq, values)).hexdigest()


def _guessed_key(prev_hash: str, seq: int, values: tuple) -> str:
    return event_hash(prev_hash, seq, values, key=b"the-attacker-guesses-a-key-of-32-chars")


def _rewrite_from(seq: int, hasher: Hasher) -> None:
    """Recompute prev_hash and hash from `seq` to the head with `hasher`, triggers off: a consistent chain
    of links, as a careful attacker would leave it after editing event `seq`."""
    before = AuditEvent.objects.filter(seq__lt=seq, hash__isnull=False).order_by("-seq").first()
    prev = before.hash if before else "0" * 64
    rows = AuditEvent.objects.filter(seq__gte=seq, hash__isnull=False).order_by("seq")
    for row in list(rows.values_list("seq", *CHAIN_FIELDS)):
        digest = hasher(prev, row[0], tuple(row[1:]))
        sql = "UPDATE portal_auditevent SET prev_hash = %s, hash = %s WHERE seq = %s"
        _tamper(sql, [prev, digest, row[0]])
        prev = digest


def _edit_and_rehash(seq: int, hasher: Hasher) -> None:
    _tamper("UPDATE portal_auditevent SET actor_email = 'mallory@evil.in' WHERE seq = %s", [seq])
    _rewrite_from(seq, hasher)


def _verify_fails(*args: str) -> str:
    with pytest.raises(CommandError) as failure:
        call_command("audit_verify", *args)
    return str(failure.value)


def _anchors() -> list[dict]:
    path = Path(django_settings.AUDIT_ANCHOR_FILE)
    return [json.loads(line) for line in path.read_text().splitlines()]


# --- The key ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hasher", [_unkeyed, _guessed_key], ids=["unkeyed sha256", "a guessed key"])
def test_it_fails_an_edit_whose_chain_was_recomputed_to_the_head_without_the_key(hasher):
    seqs = _sealed(5)
    _edit_and_rehash(seqs[1], hasher)

    message = _verify_fails()
    for seq in seqs[1:]:  # every rehashed event: the links hold, the hashes do not
        assert f"seq {seq}: edited" in message
    assert f"seq {seqs[0]}:" not in message
    assert "broken link" not in message


def test_it_fails_an_event_forged_inside_the_chain_without_the_key():
    seqs = _sealed(4)
    _tamper("DELETE FROM portal_auditevent WHERE seq = %s", [seqs[3]])
    _tamper(
        "INSERT INTO portal_auditevent (seq, created, actor_email, action, object_type, object_id, after,"
        " user_agent, request_id, prev_hash, hash) SELECT %s, created, 'mallory@evil.in', 'money.deposit',"
        " '', '', '{\"amount\": 1}', '', '', %s, %s FROM portal_auditevent WHERE seq = %s",
        [seqs[3], "0" * 64, "0" * 64, seqs[2]],
    )
    _rewrite_from(seqs[3], _unkeyed)
    assert f"seq {seqs[3]}: edited" in _verify_fails()


def test_it_fails_an_event_sealed_by_hand_with_a_made_up_hash():
    """The guard lets anyone with UPDATE seal an unsealed event once; without the key the hash is wrong."""
    seqs = _sealed(2)
    forged = audit_record(action="money.deposit", after={"amount": 1}).seq
    head = AuditEvent.objects.get(seq=seqs[-1]).hash
    with connection.cursor() as cursor:  # triggers on: the one UPDATE the guard allows
        cursor.execute(
            "UPDATE portal_auditevent SET prev_hash = %s, hash = %s WHERE seq = %s",
            [head, _unkeyed(head, forged, _values(forged)), forged],
        )
    assert f"seq {forged}: edited" in _verify_fails()


def _values(seq: int) -> tuple:
    return AuditEvent.objects.filter(seq=seq).values_list(*CHAIN_FIELDS).get()


def test_it_signs_with_the_configured_key_so_another_key_fails_the_whole_chain(settings):
    seqs = _sealed(3)
    assert audit_verify().ok
    settings.AUDIT_HMAC_KEY = "another-deployment-key-of-32-chars!!"
    result = audit_verify()
    assert result.bad_seqs == seqs
    assert {problem.kind for problem in result.problems} == {"edited"}


# --- The anchors ------------------------------------------------------------------------------------------


def test_it_appends_the_head_to_the_anchor_file_and_a_log_line_after_each_sealing_run(log_lines):
    with time_machine.travel(datetime(2026, 12, 1, 10, 0, tzinfo=UTC), tick=False):
        first = _sealed(3)
    assert audit_seal() == 0  # nothing sealed, nothing anchored
    with time_machine.travel(datetime(2026, 12, 1, 10, 1, tzinfo=UTC), tick=False):
        second = _sealed(2)

    heads = [AuditEvent.objects.get(seq=seq).hash for seq in (first[-1], second[-1])]
    assert _anchors() == [
        {"seq": first[-1], "hash": heads[0], "time": "2026-12-01T10:00:00.000000+00:00"},
        {"seq": second[-1], "hash": heads[1], "time": "2026-12-01T10:01:00.000000+00:00"},
    ]
    logged = [line for line in log_lines() if line["message"] == "audit anchor"]
    assert [(line["logger"], line["seq"], line["hash"]) for line in logged] == [
        ("portal.audit.anchor", first[-1], heads[0]),
        ("portal.audit.anchor", second[-1], heads[1]),
    ]


def test_it_anchors_nothing_when_the_seal_rolls_back():
    audit_record(action="test.event")
    with pytest.raises(RuntimeError), transaction.atomic():
        assert audit_seal() == 1
        raise RuntimeError
    assert not Path(django_settings.AUDIT_ANCHOR_FILE).exists()
    assert AuditEvent.objects.filter(hash__isnull=True).count() == 1


def test_it_catches_a_tail_rewritten_with_the_key_by_the_anchors():
    """An insider who holds the key too (the app host's environment): the chain alone cannot tell, the
    anchors written before the rewrite can."""
    seqs = _sealed(3)
    old_head = AuditEvent.objects.get(seq=seqs[-1]).hash
    _edit_and_rehash(seqs[1], event_hash)
    call_command("audit_verify", "--no-seal")  # the key alone: the rewrite verifies

    anchors = str(django_settings.AUDIT_ANCHOR_FILE)
    message = _verify_fails("--anchors", anchors)
    assert f"seq {seqs[-1]}: anchor mismatch: anchored seq {seqs[-1]} hash {old_head}" in message
    assert "the chain was rewritten" in message
    message = _verify_fails("--expect-head", f"{seqs[-1]}:{old_head}")
    assert f"seq {seqs[-1]}: anchor mismatch" in message


def test_it_catches_a_deleted_tail_by_the_anchors(capsys):
    """Deleting the newest sealed events needs no key: nothing follows them to break a link."""
    kept = _sealed(3)
    deleted = _sealed(2)
    head = AuditEvent.objects.get(seq=deleted[-1]).hash
    anchors = str(django_settings.AUDIT_ANCHOR_FILE)
    call_command("audit_verify", "--anchors", anchors)
    assert "2 anchor(s) match" in capsys.readouterr().out

    _tamper("DELETE FROM portal_auditevent WHERE seq >= %s", [deleted[0]])
    call_command("audit_verify", "--no-seal")  # the chain alone: 3 events that hold

    message = _verify_fails("--anchors", anchors)
    assert f"broken at seq {deleted[-1]} " in message
    assert f"seq {deleted[-1]}: anchor missing" in message
    assert f"deleted after the chain's head (the chain now ends at seq {kept[-1]})" in message
    assert f"seq {deleted[-1]}: anchor missing" in _verify_fails("--expect-head", f"{deleted[-1]}:{head}")


def test_it_catches_a_deleted_chain_by_the_anchors():
    seqs = _sealed(2)
    _tamper("DELETE FROM portal_auditevent", [])
    message = _verify_fails("--anchors", str(django_settings.AUDIT_ANCHOR_FILE))
    assert f"seq {seqs[-1]}: anchor missing" in message
    assert "the chain now ends at nothing" in message


def test_it_reads_the_anchors_from_an_export_of_the_json_log(tmp_path, log_lines):
    seqs = _sealed(2)
    export = tmp_path / "portal.log"
    export.write_text("\n".join(json.dumps(line) for line in log_lines()) + "\n")
    assert '"message": "audit anchor"' in export.read_text()
    call_command("audit_verify", "--anchors", str(export))

    _tamper("DELETE FROM portal_auditevent WHERE seq = %s", [seqs[-1]])
    assert f"seq {seqs[-1]}: anchor missing" in _verify_fails("--anchors", str(export))


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--expect-head", "12"], "--expect-head wants SEQ:HASH"),
        (["--expect-head", "x:" + "a" * 64], "--expect-head wants SEQ:HASH"),
        (["--expect-head", "3:abc"], "--expect-head wants SEQ:HASH"),
        (["--anchors", "/nonexistent/anchors.jsonl"], "Cannot read the anchors: No such file or directory"),
    ],
)
def test_it_refuses_bad_anchor_arguments_with_a_clear_message(args, error):
    _sealed(1)
    with pytest.raises(CommandError, match=error):
        call_command("audit_verify", *args)


def test_it_names_the_bad_line_of_an_anchor_file(tmp_path):
    _sealed(1)
    anchors = tmp_path / "anchors.jsonl"
    anchors.write_text('{"seq": 1, "hash": "' + "a" * 64 + '"}\n{"seq": "two", "hash": "b"}\n')
    with pytest.raises(CommandError, match=r"anchors.jsonl line 2: an anchor needs an integer seq"):
        call_command("audit_verify", "--anchors", str(anchors))
    anchors.write_text("not json\n")
    with pytest.raises(CommandError, match=r"anchors.jsonl line 1: not JSON"):
        call_command("audit_verify", "--anchors", str(anchors))


# --- Events sealed before the key -------------------------------------------------------------------------


def test_it_reseals_events_sealed_with_the_old_unkeyed_hash_through_the_migration():
    seqs = [audit_record(action="test.event", after={"n": n}).seq for n in range(3)]
    with transaction.atomic(), connection.cursor() as cursor:  # sealed the old way, as before 0003
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE portal_auditevent SET prev_hash = %s, hash = %s", ["0" * 64, "0" * 64])
    _rewrite_from(seqs[0], _unkeyed)
    assert audit_verify().bad_seqs == seqs

    migration = importlib.import_module("portal.migrations.0003_audit_unseal_for_hmac")
    with connection.schema_editor() as schema_editor:
        migration.forward(None, schema_editor)
    assert AuditEvent.objects.filter(hash__isnull=True).count() == 3
    with connection.cursor() as cursor:  # the guard is back on
        cursor.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = 'audit_event_seal_only'"
            " AND tgrelid = 'portal_auditevent'::regclass"
        )
        assert cursor.fetchone() == ("O",)

    assert audit_seal() == 3
    assert audit_verify().ok


# --- Configuration ----------------------------------------------------------------------------------------


def test_it_records_one_insert_per_event_and_hashes_only_when_sealing(django_assert_num_queries):
    with django_assert_num_queries(1):
        event = audit_record(action="test.event", after={"n": 1})
    assert AuditEvent.objects.get(seq=event.seq).hash is None


@pytest.mark.parametrize(
    ("key", "error"),
    [
        (None, "AUDIT_HMAC_KEY must be set when DEBUG is off"),
        ("short", "AUDIT_HMAC_KEY must be at least 32 characters"),
    ],
)
def test_it_refuses_to_start_without_a_strong_audit_key_when_debug_is_off(tmp_path, key, error):
    env = {k: v for k, v in os.environ.items() if k != "AUDIT_HMAC_KEY"}
    env.update({"DEBUG": "0", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "bank.example"})
    env["VAR_DIR"] = str(tmp_path / "var")
    if key is not None:
        env["AUDIT_HMAC_KEY"] = key
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert error in result.stderr


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict]]]:
    """The JSON lines the console handler configured in settings writes (its stream swapped for a buffer)."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    handler.setStream(previous)
