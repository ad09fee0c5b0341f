"""Which database a loader may touch, and what it may make there.

A loader writes only where it is alone with its own kind: every user a loader makes is marked
(`SeededUser`), and a *foreign* customer is a user who is neither staff nor marked, that is one the bank
made. `seed_scale` refuses any database holding one, with no escape: it locks the ledger, turns its
triggers off and rewrites balances. `seed_demo` refuses one, and refuses to run with `DEBUG` off, unless
told explicitly (`--allow-production`); even then it never touches a user it did not make.

The published demo password goes to a staff user only on the embedded default (`DEBUG` on, SQLite: `make
run` on a bare machine). Anywhere else the staff user gets a random password, printed once.
"""

from collections.abc import Iterable

from django.conf import settings
from django.db import connection

from accounts.models import User
from portal.seeding.models import SeededUser


def foreign_customers() -> int:
    """Customers (users who are not staff) that no loader made."""
    customers = User.objects.filter(is_staff=False, is_superuser=False)
    return customers.exclude(pk__in=SeededUser.objects.values("user_id")).count()


def seeded_by(loader: str) -> int:
    """Users the given loader made."""
    return SeededUser.objects.filter(loader=loader).count()


def is_seeded(user: User) -> bool:
    return SeededUser.objects.filter(user_id=user.pk).exists()


def mark_seeded(users: Iterable[User], loader: str) -> None:
    SeededUser.objects.bulk_create(
        [SeededUser(user_id=user.pk, loader=loader) for user in users], ignore_conflicts=True
    )


def embedded_default() -> bool:
    """`make run` on a bare machine: DEBUG on and the SQLite file under var/, nobody's data but the
    developer's. The only place where a staff user may have the published password."""
    return bool(settings.DEBUG) and connection.vendor == "sqlite"
