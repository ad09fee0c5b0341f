"""Production runs under gunicorn with portal/gunicorn_conf.py: every value from the environment, the
defaults the bench measured fastest, and the portal on it as the runtime database role, with persistent
database connections by default."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connections

from tests.portal.test_db_roles import runtime_role  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
APP = ["-c", "python:portal.gunicorn_conf", "portal.wsgi:application"]


def _config(env: dict[str, str]) -> dict[str, str]:
    out = subprocess.run(  # noqa: S603
        [GUNICORN, "--print-config", *APP], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return {
        name.strip(): value.strip()
        for name, _, value in (line.partition("=") for line in out.stdout.splitlines())
        if value
    }


def test_it_configures_gunicorn_from_the_environment():
    env = {k: v for k, v in os.environ.items() if k not in {"PORT", "GUNICORN_BIND", "TRUSTED_PROXIES"}}
    defaults = _config(env)
    assert defaults["workers"] == "2"
    assert defaults["worker_class"] == "gthread"
    assert defaults["threads"] == "1"
    assert defaults["bind"] == "['127.0.0.1:8000']"
    assert defaults["timeout"] == "30"
    assert defaults["forwarded_allow_ips"] == "['127.0.0.1', '::1']"
    assert "child_exit" in defaults  # the Prometheus multiprocess hook

    told = _config(
        {
            **env,
            "PORT": "9000",
            "WEB_CONCURRENCY": "3",
            "GUNICORN_TIMEOUT": "10",
            "TRUSTED_PROXIES": "10.0.0.0/8,192.0.2.7",
        }
    )
    assert told["bind"] == "['0.0.0.0:9000']"
    assert (told["workers"], told["timeout"]) == ("3", "10")
    assert told["forwarded_allow_ips"] == "['10.0.0.0/8', '192.0.2.7']"


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("bank.example", timeout=10)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(self._path)


def _get(path: str, url: str) -> tuple[int, bytes]:
    conn = _UnixHTTPConnection(path)
    try:
        conn.request("GET", url, headers={"Host": "bank.example"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _runtime_backends(role: str, dbname: str) -> int:
    params = connections["default"].settings_dict
    with psycopg.connect(
        host=params["HOST"] or None, port=params["PORT"] or None, dbname=params["NAME"], user=params["USER"]
    ) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = %s AND datname = %s", [role, dbname]
        ).fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_it_serves_production_settings_as_the_runtime_role_with_persistent_connections(
    runtime_role,  # noqa: F811
    tmp_path,
):
    params = connections["default"].settings_dict
    where = f"{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"
    sock = str(tmp_path / "gunicorn.sock")
    drop = {"DEBUG", "CONN_MAX_AGE", "HTTPS", "DATABASE_RUNTIME_ROLE", "PORT", "TRUSTED_PROXIES"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        {
            "DATABASE_URL": f"postgres://{runtime_role}@{where}",
            "SECRET_KEY": "s" * 60,
            "ALLOWED_HOSTS": "bank.example",
            "CACHE_KEY_PREFIX": "test-gunicorn",
            "GUNICORN_BIND": f"unix:{sock}",
            "VAR_DIR": str(tmp_path / "var"),
            "LOG_LEVEL": "WARNING",
        }
    )
    server = subprocess.Popen(  # noqa: S603
        [GUNICORN, *APP], cwd=ROOT, env=env, start_new_session=True, stderr=subprocess.PIPE, text=True
    )
    try:
        for _ in range(150):
            if os.path.exists(sock):
                break
            assert server.poll() is None, server.stderr.read()
            time.sleep(0.2)
        status, body = _get(sock, "/ready/")
        assert status == 200, body
        assert json.loads(body) == {"database": "ok", "cache": "ok", "broker": "ok"}
        # Production settings (DEBUG off, HTTPS on): the login page over plain http is redirected to https.
        status, _ = _get(sock, "/login/")
        assert status == 301
        # The request is over and its database connection stays open for the next one (CONN_MAX_AGE).
        assert _runtime_backends(runtime_role, params["NAME"]) >= 1
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
