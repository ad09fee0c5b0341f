"""`manage.py check --deploy` is clean with production settings (DEBUG off, HTTPS, a strong secret key,
ALLOWED_HOSTS), and fails when one of them is weak: the test can tell the difference."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"BEHIND_PROXY", "CSRF_TRUSTED_ORIGINS"}}
    env.update(
        {
            "DEBUG": "0",
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
