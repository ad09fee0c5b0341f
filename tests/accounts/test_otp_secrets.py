"""Second-factor secrets at rest (accounts/otp_secrets.py): what a copy of the database holds is no seed and
no backup code; a backup code still works once, and only once, even when two requests race with it."""

import importlib
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection, connections
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import otp, otp_secrets
from accounts.models import AuthenticatorApp
from tests.factories import PASSWORD
from tests.twofactor import BACKUP_CODES, code_now, enrol, step_up_with_password

ROOT = Path(__file__).resolve().parents[2]


def _raw(sql: str, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def test_the_database_holds_neither_the_seed_nor_the_backup_codes(client, alice):
    client.force_login(alice)
    step_up_with_password(client)
    client.get(reverse("two_factor"))
    device = AuthenticatorApp.objects.get(user=alice)
    client.post(reverse("two_factor"), {"code": code_now(device)})
    page = client.get(reverse("two_factor_backup_codes")).content.decode()
    codes = [code.replace("-", "") for code in re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", page)]
    assert len(codes) == 10

    (stored_key,) = _raw("SELECT key FROM otp_totp_totpdevice WHERE user_id = %s", alice.pk)
    seed = device.bin_key
    assert stored_key.startswith("gcm1:")
    assert (
        seed.hex() not in stored_key.lower() and otp.secret_display(device).replace(" ", "") not in stored_key
    )

    tokens = _raw(
        "SELECT t.token FROM otp_static_statictoken t JOIN otp_static_staticdevice d ON d.id = t.device_id "
        "WHERE d.user_id = %s",
        alice.pk,
    )
    assert len(tokens) == 10
    assert not any(code in token or token in code for code in codes for token in tokens)

    # And the codes shown still work, once each.
    assert otp.code_check(alice, codes[0]).ok
    assert not otp.code_check(alice, codes[0]).ok
    assert otp.backup_codes_left(alice) == 9


def test_a_seed_is_refused_under_another_key_and_opens_after_a_rotation(alice, settings):
    device = enrol(alice)
    code = code_now(device)
    old_key = settings.OTP_ENCRYPTION_KEY
    settings.OTP_ENCRYPTION_KEY = otp_secrets.new_key()
    with pytest.raises(otp_secrets.SeedError):
        assert AuthenticatorApp.objects.get(pk=device.pk).bin_key
    assert not otp.code_check(alice, BACKUP_CODES[0]).ok  # hashed under the old key
    StaticDevice.objects.filter(user=alice).update(throttling_failure_count=0)  # not the point here

    settings.OTP_ENCRYPTION_KEY = f"{otp_secrets.new_key()},{old_key}"  # new key first, old still read
    assert otp.code_check(alice, code).ok
    assert otp.code_check(alice, BACKUP_CODES[0]).ok


def test_a_seed_written_in_clear_is_never_used(client, alice):
    device = enrol(alice)
    AuthenticatorApp.objects.filter(pk=device.pk).update(key="3132333435363738393031323334353637383930")
    with pytest.raises(otp_secrets.SeedError):
        assert AuthenticatorApp.objects.get(pk=device.pk).bin_key
    # At sign-in it is a code that does not work (and an error in the log), not a 500.
    client.post(reverse("login"), {"username": alice.email, "password": PASSWORD})
    response = client.post(reverse("login_verify"), {"code": "123456"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db(transaction=True)
def test_two_requests_racing_with_one_backup_code_succeed_once(alice):
    enrol(alice)
    barrier = threading.Barrier(4)
    results: list[bool] = []

    def use() -> None:
        try:
            barrier.wait()
            results.append(otp.code_check(alice, BACKUP_CODES[3]).ok)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert otp.backup_codes_left(alice) == 9


def test_the_migration_seals_secrets_stored_in_clear_before_it(alice):
    """Rows written before migration 0004 (clear seed, clear backup codes) keep working after it."""
    device = enrol(alice)
    clear_seed = "3132333435363738393031323334353637383930"
    AuthenticatorApp.objects.filter(pk=device.pk).update(key=clear_seed)
    static = StaticDevice.objects.get(user=alice)
    static.token_set.all().delete()
    static.token_set.create(token="abcde23456")

    migration = importlib.import_module("accounts.migrations.0004_second_factor_secrets")
    migration.seal(apps, None)

    device = AuthenticatorApp.objects.get(pk=device.pk)
    assert device.key.startswith("gcm1:") and device.bin_key == bytes.fromhex(clear_seed)
    assert _raw("SELECT token FROM otp_static_statictoken WHERE device_id = %s", static.pk) != ["abcde23456"]
    assert otp.code_check(alice, "ABCDE-23456").ok


def test_it_refuses_to_start_without_a_key_when_debug_is_off(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "OTP_ENCRYPTION_KEY"}
    env.update({"DEBUG": "0", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "bank.example"})
    env["VAR_DIR"] = str(tmp_path / "var")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "OTP_ENCRYPTION_KEY must be set when DEBUG is off" in result.stderr
