#!/usr/bin/env python
import os
import sys

# Owner work: these connect as DATABASE_OWNER_URL when it is set (the portal and the workers connect as
# DATABASE_URL, the runtime role, which owns nothing; portal/dbroles.py). `db_roles` grants to the role of
# the DATABASE_URL it replaces.
# `staff_grant` and `createsuperuser` turn staff flags on, which only the owner may (accounts/0006).
OWNER_COMMANDS = {
    "migrate",
    "db_roles",
    "seed_scale",
    "seed_demo",
    "flush",
    "createcachetable",
    "staff_grant",
    "createsuperuser",
}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    owner_url = os.environ.get("DATABASE_OWNER_URL")
    if owner_url and len(sys.argv) > 1 and sys.argv[1] in OWNER_COMMANDS:
        os.environ["DATABASE_RUNTIME_URL"] = os.environ.get("DATABASE_URL", "")
        os.environ["DATABASE_URL"] = owner_url
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
