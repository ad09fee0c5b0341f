"""Threads for concurrency tests on real PostgreSQL connections (one per thread): a worker that keeps what
its work returned or raised, a posting held open with its row locks, and waiting until another connection
waits for those locks."""

import threading
import time
from collections.abc import Callable

from django.db import connection, transaction

WAIT = 30  # seconds a step may take before the test gives up (never an assertion about speed)


class Worker(threading.Thread):
    """`work()` on its own thread and database connection; what it returned or raised is kept."""

    def __init__(self, work: Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self.work = work
        self.result: object = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.work()
        except BaseException as exc:  # reported to the test thread
            self.error = exc
        finally:
            connection.close()

    def outcome(self) -> object:
        self.join(WAIT)
        assert not self.is_alive(), "the thread did not finish"
        if self.error is not None:
            raise self.error
        return self.result


class HeldOpen(Worker):
    """Runs `write()` in a database transaction that stays open, its row locks held, until `release()`."""

    def __init__(self, write: Callable[[], object]) -> None:
        self.written = threading.Event()
        self._release = threading.Event()
        self.pid = 0

        def work() -> object:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    self.pid = cursor.fetchone()[0]
                result = write()
                self.written.set()
                assert self._release.wait(WAIT), "never released"
            return result

        super().__init__(work)

    def start_and_wait(self) -> None:
        self.start()
        assert self.written.wait(WAIT), "the held write did not happen"

    def release(self) -> None:
        self._release.set()


def blocked_by(pid: int) -> bool:
    """Whether another connection waits for a lock that connection `pid` holds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [pid])
        return bool(cursor.fetchone()[0])


def wait_until_blocked_by(pid: int, what: str = "the other connection") -> None:
    """Until another connection waits for a lock that connection `pid` holds."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if blocked_by(pid):
            return
        time.sleep(0.01)
    raise AssertionError(f"{what} never waited for the held transaction")
