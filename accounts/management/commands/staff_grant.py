"""`manage.py staff_grant staff@example.com [--superuser] [--revoke]`: make someone staff, or stop.

Only the database owner may turn `is_staff` or `is_superuser` on (a trigger refuses the runtime role:
accounts/migrations/0006), so this command connects as DATABASE_OWNER_URL (manage.py) and the admin shows
the flags read-only. A customer made staff loses the authenticator app and backup codes they enrolled
themselves (every session of theirs ends; they are emailed) and enters the admin once given a second factor
out of band: `manage.py enrol_totp EMAIL`, or a colleague's provisioning page. Every change is audited
(`staff.grant`, `staff.revoke`, by "manage.py staff_grant").

`--revoke` takes both flags away; `--revoke --superuser` only superuser status.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import services
from accounts.models import User


class Command(BaseCommand):
    help = "Make a person staff (--superuser: and a superuser), or take it away (--revoke)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--superuser", action="store_true", help="Superuser status as well (or only).")
        parser.add_argument("--revoke", action="store_true", help="Take the access away instead.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["email"].strip()).first()
        if user is None:
            raise CommandError(f"No user with the email {options['email']!r}.")
        if options["revoke"]:
            changed = services.staff_revoke(user=user, superuser_only=options["superuser"])
        else:
            changed = services.staff_grant(user=user, superuser=options["superuser"])
        state = "a superuser" if user.is_superuser else "staff" if user.is_staff else "not staff"
        if not changed:
            self.stdout.write(f"Nothing to change: {user.email} is {state}.")
            return
        self.stdout.write(f"{user.email} is now {state} (audited).")
        if changed.get("is_staff"):
            self.stdout.write(
                "Any authenticator app and backup codes they set up themselves were removed. Next, give them "
                f"a second factor for the admin: manage.py enrol_totp {user.email}"
            )
