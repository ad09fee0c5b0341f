"""gunicorn settings for production: `gunicorn -c python:portal.gunicorn_conf portal.wsgi:application`.

Every value comes from the environment, with the defaults `make bench` measured fastest on a 2-core host:
two gthread workers with one thread each (two sync workers serve as fast, but a sync worker closes the
connection after every response, which over TLS costs a handshake per request), persistent database
connections (settings' CONN_MAX_AGE, 600 s by default, checked before reuse).

- GUNICORN_BIND (default 127.0.0.1:8000, or 0.0.0.0:$PORT when PORT is set): where to listen; several
  addresses separated by commas (e.g. unix:/run/securebank.sock). A unix socket gives the portal no client
  address (REMOTE_ADDR is empty): set TRUSTED_PROXY_COUNT or TRUSTED_PROXIES as well, so that the proxy on
  this machine (nginx) counts as the nearest proxy and its X-Forwarded-For names the client
  (portal/client_address.py). Without either, every request is of unknown address (one shared rate-limit
  bucket; logged as an error). gunicorn itself believes a unix-socket peer's X-Forwarded-Proto whatever
  FORWARDED_ALLOW_IPS says: only processes allowed to open the socket should be able to.
- WEB_CONCURRENCY (2), GUNICORN_THREADS (1), GUNICORN_TIMEOUT (30 s: a request stuck longer is killed and
  logged), GUNICORN_GRACEFUL_TIMEOUT (30 s), GUNICORN_KEEPALIVE (5 s, behind a load balancer keep it above
  the balancer's idle timeout), GUNICORN_MAX_REQUESTS (0: never recycle).
- FORWARDED_ALLOW_IPS: the proxies whose X-Forwarded-* gunicorn believes for the request's scheme; by
  default the settings' TRUSTED_PROXIES (the same networks portal/client_address.py trusts for the client's
  address), else only this host. Django itself decides HTTPS from SECURE_PROXY_SSL_HEADER (BEHIND_PROXY).

With PROMETHEUS_MULTIPROC_DIR set, each worker writes its metrics to files in that folder; when a worker
exits, its live gauges must be dropped (counters and histograms stay, summed into the totals).
"""

import os
from typing import Any


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


_port = os.environ.get("PORT")
bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{_port}" if _port else "127.0.0.1:8000").split(",")
workers = _int("WEB_CONCURRENCY", 2)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 1)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
forwarded_allow_ips = (
    os.environ.get("FORWARDED_ALLOW_IPS") or os.environ.get("TRUSTED_PROXIES") or "127.0.0.1,::1"
)
accesslog = None  # requests are logged and counted by the portal (portal/middleware.py, portal/metrics.py)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
