"""`manage.py check --deploy` is clean with production settings (DEBUG off, HTTPS, a strong secret key,
ALLOWED_HOSTS), and fails when one of them is weak: the test can tell the difference. Production is the
default: DEBUG is not set at all here, and the fast defaults (persistent connections) need no variable."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    unset = {"BEHIND_PROXY", "CSRF_TRUSTED_ORIGINS", "DEBUG", "CONN_MAX_AGE", "SESSION_REDIS_URL"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(
        {
            "HTTPS": "1",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "bank.example",
            "VAR_DIR": str(tmp_path / "var"),
        }
    )
    return env


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_the_deploy_check_with_production_settings(production_env):
    assert len(production_env["SECRET_KEY"]) >= 50
    result = _check_deploy(production_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


SETTINGS_SCRIPT = """
from django.conf import settings
db = settings.DATABASES["default"]
print("DEBUG", settings.DEBUG)
print("CONN", db["CONN_MAX_AGE"], db["CONN_HEALTH_CHECKS"])
print("SESSIONS", settings.SESSION_ENGINE, settings.SESSION_CACHE_ALIAS)
print("PREFIXES", settings.CACHES["default"]["KEY_PREFIX"], settings.CACHES["sessions"]["KEY_PREFIX"])
"""


def test_it_defaults_to_persistent_checked_connections_and_sessions_apart_from_the_cache(production_env):
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-c", SETTINGS_SCRIPT],
        cwd=ROOT,
        env={**production_env, "CACHE_KEY_PREFIX": "portal"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "DEBUG False" in result.stdout
    assert "CONN 600 True" in result.stdout
    assert "SESSIONS django.contrib.sessions.backends.cache sessions" in result.stdout
    assert "PREFIXES portal portal-sessions" in result.stdout


@pytest.mark.parametrize(
    ("override", "warning"),
    [
        ({"SECRET_KEY": "short-but-not-empty"}, "security.W009"),
        ({"HTTPS": "0"}, "security.W004"),  # no HSTS, no HTTPS redirect, cookies not Secure
    ],
)
def test_it_fails_the_deploy_check_when_a_production_setting_is_weak(production_env, override, warning):
    result = _check_deploy({**production_env, **override})
    assert result.returncode != 0
    assert warning in result.stderr + result.stdout
