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

from accounts import otp, otp_secrets, services
from accounts.models import AuthenticatorApp
from tests.factories import PASSWORD, UserFactory
from tests.twofactor import BACKUP_CODES, code_now, enrol, step_up_with_password

ROOT = Path(__file__).resolve().parents[2]


def _raw(sql: str, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _execute(sql: str, *params) -> int:
    """What the runtime database role can do without OTP_ENCRYPTION_KEY: rewrite rows by hand."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


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
    assert stored_key.startswith("gcm2:")
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


# The attack of the security review (finding 1): someone with the runtime database role's credentials but not
# OTP_ENCRYPTION_KEY enrols two-factor auth on their own account, then moves their device, its sealed seed or
# their backup codes to a member of staff (whose password hash they can set as well). Each secret is bound to
# the user it was made for: it works for nobody else, and for its maker no longer once moved.


def test_an_authenticator_app_moved_to_another_user_works_for_nobody(alice, caplog):
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    device = enrol(alice)
    code = code_now(device)
    assert _execute("UPDATE otp_totp_totpdevice SET user_id = %s WHERE id = %s", staff.pk, device.pk) == 1

    assert otp.has_two_factor(staff)
    assert not otp.code_check(staff, code).ok
    assert not otp.code_check(alice, code).ok
    assert f"Authenticator seed of user {staff.pk} cannot be opened" in caplog.text


def test_a_sealed_seed_copied_onto_another_users_device_does_not_open_for_them(client, alice, caplog):
    staff = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    theirs = enrol(staff)
    mine = enrol(alice)
    code = code_now(mine)
    copied = _execute(
        "UPDATE otp_totp_totpdevice SET key = (SELECT key FROM otp_totp_totpdevice WHERE id = %s) "
        "WHERE id = %s",
        mine.pk,
        theirs.pk,
    )
    assert copied == 1
    with pytest.raises(otp_secrets.SeedError):
        assert AuthenticatorApp.objects.get(pk=theirs.pk).bin_key

    # At sign-in: a code that does not work (and an error in the log), not a 500 and not the admin.
    client.post(reverse("login"), {"username": staff.email, "password": PASSWORD})
    response = client.post(reverse("login_verify"), {"code": code})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert f"Authenticator seed of user {staff.pk} cannot be opened" in caplog.text
    assert otp.code_check(alice, code_now(mine)).ok  # the maker's own device still works for the maker


def test_backup_codes_moved_to_another_user_work_for_nobody(alice, bob):
    enrol(alice)
    mine = StaticDevice.objects.get(user=alice)
    theirs = StaticDevice.objects.create(user=bob, name="Backup codes", confirmed=True)
    otp.backup_codes_store(theirs, ["bobsown001"])
    moved = _execute(
        "UPDATE otp_static_statictoken SET device_id = %s WHERE device_id = %s", theirs.pk, mine.pk
    )
    assert moved == len(BACKUP_CODES)

    assert otp.backup_codes_left(bob) == 11
    assert otp.code_check(bob, "bobsown001").ok  # his own (first: a wrong code holds the next back)
    assert not otp.code_check(bob, BACKUP_CODES[0]).ok
    assert not otp.code_check(alice, BACKUP_CODES[0]).ok


def test_a_backup_code_device_moved_to_another_user_works_for_nobody(alice, bob):
    enrol(alice)
    static = StaticDevice.objects.get(user=alice)
    assert _execute("UPDATE otp_static_staticdevice SET user_id = %s WHERE id = %s", bob.pk, static.pk) == 1

    assert otp.backup_codes_left(bob) == len(BACKUP_CODES)
    assert not otp.code_check(bob, BACKUP_CODES[0]).ok
    assert not otp.code_check(alice, BACKUP_CODES[0]).ok


def test_an_app_being_enrolled_moved_to_another_customer_is_replaced_on_their_page(
    client, alice, bob, caplog
):
    pending = services.two_factor_enrolment_device(user=alice)
    assert _execute("UPDATE otp_totp_totpdevice SET user_id = %s WHERE id = %s", bob.pk, pending.pk) == 1
    client.force_login(bob)
    step_up_with_password(client)

    page = client.get(reverse("two_factor"))  # the QR code of a seed that opens for him, not a 500
    assert page.status_code == 200
    assert not AuthenticatorApp.objects.filter(pk=pending.pk).exists()
    fresh = AuthenticatorApp.objects.get(user=bob, confirmed=False)
    assert otp.secret_display(fresh) in page.content.decode()
    assert f"Authenticator seed of user {bob.pk} cannot be opened" in caplog.text
    assert client.post(reverse("two_factor"), {"code": code_now(fresh)}).status_code == 302
    assert otp.has_two_factor(bob)


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


MIGRATION_0004 = "accounts.migrations.0004_second_factor_secrets"
MIGRATION_0005 = "accounts.migrations.0005_bind_second_factor_secrets"


def test_the_migrations_seal_secrets_stored_in_clear_and_bind_the_seed_to_its_user(alice):
    """Rows written before migration 0004 (clear seed, clear backup codes): 0004 seals the seed and hashes the
    codes the first way, unbound; 0005 binds the seed to its user, and deletes the backup codes, whose
    hashes cannot be bound without the codes."""
    device = enrol(alice)
    clear_seed = "3132333435363738393031323334353637383930"
    AuthenticatorApp.objects.filter(pk=device.pk).update(key=clear_seed)
    static = StaticDevice.objects.get(user=alice)
    static.token_set.all().delete()
    static.token_set.create(token="abcde23456")

    importlib.import_module(MIGRATION_0004).seal(apps, None)
    device = AuthenticatorApp.objects.get(pk=device.pk)
    assert device.key.startswith("gcm1:")
    with pytest.raises(otp_secrets.SeedError):  # unbound: refused by the portal
        assert device.bin_key
    assert _raw("SELECT token FROM otp_static_statictoken WHERE device_id = %s", static.pk) != ["abcde23456"]

    importlib.import_module(MIGRATION_0005).bind(apps, None)
    device = AuthenticatorApp.objects.get(pk=device.pk)
    assert device.key.startswith("gcm2:") and device.bin_key == bytes.fromhex(clear_seed)
    assert otp.code_check(alice, code_now(device)).ok
    assert otp.backup_codes_left(alice) == 0
    assert not otp.code_check(alice, "ABCDE-23456").ok


def test_migration_0005_binds_each_seed_to_its_rows_user_keeps_bound_codes_and_reverses(alice, bob):
    m4, m5 = importlib.import_module(MIGRATION_0004), importlib.import_module(MIGRATION_0005)
    mine, theirs = enrol(alice), enrol(bob)
    seeds = {mine.pk: mine.bin_key, theirs.pk: theirs.bin_key}
    for pk, seed in seeds.items():
        AuthenticatorApp.objects.filter(pk=pk).update(key=m4.seed_seal_v1(seed.hex()))

    m5.bind(apps, None)
    m5.bind(apps, None)  # a second run changes nothing
    for device in (mine, theirs):
        device = AuthenticatorApp.objects.get(pk=device.pk)
        assert device.key.startswith("gcm2:") and device.bin_key == seeds[device.pk]
        assert otp_secrets.seed_open(device.key, user_id=device.user_id) == seeds[device.pk]
    assert otp.code_check(alice, code_now(mine)).ok and otp.code_check(bob, code_now(theirs)).ok
    assert otp.backup_codes_left(alice) == otp.backup_codes_left(bob) == len(BACKUP_CODES)
    assert otp.code_check(alice, BACKUP_CODES[0]).ok

    m5.unbind(apps, None)
    assert AuthenticatorApp.objects.get(pk=mine.pk).key.startswith("gcm1:")
    assert otp.backup_codes_left(alice) == 0
    m4.unseal(apps, None)
    assert AuthenticatorApp.objects.get(pk=mine.pk).key == seeds[mine.pk].hex()


def test_migration_0005_stops_at_a_seed_no_key_opens(alice, settings):
    m4, m5 = importlib.import_module(MIGRATION_0004), importlib.import_module(MIGRATION_0005)
    device = enrol(alice)
    AuthenticatorApp.objects.filter(pk=device.pk).update(key=m4.seed_seal_v1(device.bin_key.hex()))
    settings.OTP_ENCRYPTION_KEY = otp_secrets.new_key()
    with pytest.raises(RuntimeError, match=f"device {device.pk} "):
        m5.bind(apps, None)


def test_it_refuses_to_start_without_a_key_when_debug_is_off(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "OTP_ENCRYPTION_KEY"}
    env.update({"DEBUG": "0", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "bank.example"})
    env["VAR_DIR"] = str(tmp_path / "var")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "OTP_ENCRYPTION_KEY must be set when DEBUG is off" in result.stderr
