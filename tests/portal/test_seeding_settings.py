"""Production settings leave the loaders out: portal.seeding (seed_demo, seed_scale and their table) is an
app installed only when SEEDING_ENABLED is on (default: DEBUG)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SEEDING_ENABLED"}
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "bank.example",
            "VAR_DIR": str(tmp_path / "var"),
        }
    )
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("command", ["seed_demo", "seed_scale"])
def test_production_settings_have_no_seeding_command(production_env, command):
    listed = _manage(production_env, "help", "--commands")
    assert listed.returncode == 0, listed.stderr
    assert command not in listed.stdout.split()
    refused = _manage(production_env, command)
    assert refused.returncode != 0
    assert f"Unknown command: '{command}'" in refused.stderr


def test_seeding_enabled_brings_the_commands_back(production_env):
    listed = _manage({**production_env, "SEEDING_ENABLED": "1"}, "help", "--commands")
    assert {"seed_demo", "seed_scale"} <= set(listed.stdout.split())


def test_debug_brings_the_commands_by_default(production_env):
    listed = _manage({**production_env, "DEBUG": "1"}, "help", "--commands")
    assert {"seed_demo", "seed_scale"} <= set(listed.stdout.split())
