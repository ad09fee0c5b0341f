"""gunicorn settings for several workers with Prometheus metrics: `gunicorn -c python:portal.gunicorn_conf`.

With PROMETHEUS_MULTIPROC_DIR set, each worker writes its metrics to files in that folder; when a worker
exits, its live gauges must be dropped (counters and histograms stay, summed into the totals).
"""

import os
from typing import Any


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
