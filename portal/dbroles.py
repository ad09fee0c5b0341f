"""The runtime database role's privileges: what the portal and the Celery workers may do to each table.

Two PostgreSQL roles (README, "Database roles"): the owner (`DATABASE_OWNER_URL`) owns every table and runs
the migrations and the loaders; the runtime role (`DATABASE_URL`, the web processes and the workers) holds
only what the code uses. It owns nothing, so it cannot TRUNCATE, ALTER, DROP or disable a trigger, and it
is not a superuser, so it cannot set `session_replication_role`. The ledger and the audit trail are
append-only to it: no DELETE anywhere, no UPDATE of entries or transactions (the triggers refuse those as
well), UPDATE of accounts (balances, under the ledger's own checks) and of audit events (sealing only, the
trigger refuses anything else). DELETE is granted where the code deletes: sessions, lockout records,
second-factor devices and used backup codes, the sign-in registry's pruning, the admin's group edits.

`grant_runtime` (run by `manage.py db_roles` after every migrate) brings the grants to exactly this, and
sets default privileges so that a table a later migration creates is readable and writable (never
deletable) before its policy is written here.
"""

from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

READ = ("SELECT",)
APPEND = ("SELECT", "INSERT")
WRITE = ("SELECT", "INSERT", "UPDATE")
ALL_ROWS = ("SELECT", "INSERT", "UPDATE", "DELETE")

# Ledger and audit tables: never DELETE, and UPDATE only where a trigger keeps the rules.
PROTECTED_TABLES = {
    "transactions_transaction": APPEND,
    "transactions_entry": APPEND,
    "accounts_account": WRITE,  # balances and ledger versions move with every posting; status, limits
    "portal_auditevent": WRITE,  # the sealing step writes the chain's hashes; the trigger allows nothing else
}

TABLE_PRIVILEGES = {
    **PROTECTED_TABLES,
    "transactions_category": WRITE,
    # A customer's limits (their row is also the lock their transfers to payees take), and outward
    # payments' status as the clearing system reports it: updated, never deleted.
    "transactions_transferlimits": WRITE,
    "transactions_outwardpayment": WRITE,
    # Scheduled transfers change status and advance; their runs are history, written once.
    "transactions_scheduledtransfer": WRITE,
    "transactions_scheduledrun": APPEND,
    # The posting alerts' outbox: written by every posting, its status moved by the senders; never deleted
    # (the record that each alert was sent).
    "transactions_postingalert": WRITE,
    # Users are deactivated, never deleted (their history refers to them).
    "accounts_user": WRITE,
    "accounts_user_groups": ALL_ROWS,  # the admin's user form sets groups and permissions
    "accounts_user_user_permissions": ALL_ROWS,
    "auth_group": ALL_ROWS,
    "auth_group_permissions": ALL_ROWS,
    "auth_permission": READ,  # written by migrate's post_migrate, as the owner
    "django_content_type": READ,
    "django_migrations": READ,
    "django_admin_log": APPEND,
    "django_session": ALL_ROWS,  # the database session backend (embedded defaults): sign-out, expiry
    "accounts_usersession": ALL_ROWS,  # the sign-in registry, pruned after 180 days
    "accounts_payee": WRITE,  # removing a payee sets removed_at: transfers made to it still name it
    # django-axes: lockouts expire and staff clear them by deleting (audited).
    "axes_accessattempt": ALL_ROWS,
    "axes_accessattemptexpiration": ALL_ROWS,
    "axes_accessfailurelog": ALL_ROWS,
    "axes_accesslog": ALL_ROWS,
    # django-otp: turning 2FA off or replacing a device deletes it; a backup code is deleted when used.
    "otp_totp_totpdevice": ALL_ROWS,
    "otp_static_staticdevice": ALL_ROWS,
    "otp_static_statictoken": ALL_ROWS,
    # Spending insights (transactions/insights): a customer's rules and budgets are theirs to delete; the
    # daily sums are rewritten day by day (deleted, then inserted); annotations made by rules go when the
    # rules no longer match (a backfill); budget alerts are the record that each was sent.
    "insights_categoryrule": ALL_ROWS,
    "insights_entrycategory": ALL_ROWS,
    "insights_rollupstate": WRITE,
    "insights_daybalance": ALL_ROWS,
    "insights_daycategory": ALL_ROWS,
    "insights_daymerchant": ALL_ROWS,
    "insights_rulebackfill": WRITE,
    "insights_budget": ALL_ROWS,
    "insights_budgetalert": APPEND,
    # Account statements (transactions/statements): rows stay for ever (their checksums verify old files);
    # the task updates status, progress and files.
    "statements_statement": WRITE,
    # Receipts' checksums (transactions/statements/receipts.py): inserted at a first download and never
    # deleted (they verify receipts printed long ago); UPDATE only where a later rendering differs (a new
    # format or library: the row follows what the customer now holds).
    "statements_receipt": WRITE,
    # portal/seeding's marks of loader-made users (where the app is installed): written by the loaders, which
    # run as the owner.
    "seeding_seededuser": READ,
}

# A table with no line above (a migration newer than this policy) gets the default privileges.
DEFAULT_TABLE_PRIVILEGES = WRITE


class RoleError(Exception):
    """The runtime role cannot be given least privilege as configured (missing, the owner, a superuser)."""


@dataclass
class GrantReport:
    role: str
    owner: str
    tables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unlisted: list[str] = field(default_factory=list)


def grant_runtime(cursor: Any, role: str, schema: str = "public") -> GrantReport:
    """Give `role` exactly the privileges above on every table of `schema`, as the current (owner) user.
    Idempotent: everything is revoked and granted again in one transaction."""
    cursor.execute(
        "SELECT rolsuper, rolbypassrls, pg_has_role(%s, current_user, 'MEMBER'), current_user "
        "FROM pg_roles WHERE rolname = %s",
        [role, role],
    )
    row = cursor.fetchone()
    if row is None:
        raise RoleError(f"the runtime role {role!r} does not exist: create it first (CREATE ROLE ... LOGIN)")
    superuser, bypass_rls, member_of_owner, owner = row
    if role == owner or member_of_owner:
        raise RoleError(
            f"the runtime role {role!r} is (or inherits) the owner {owner!r}: run db_roles with "
            "DATABASE_OWNER_URL set to the owner and DATABASE_URL to the runtime role"
        )
    if superuser or bypass_rls:
        raise RoleError(f"the runtime role {role!r} is a superuser or bypasses row security")
    cursor.execute(
        "SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY c.relname",
        [schema],
    )
    tables = cursor.fetchall()
    owned = [name for name, table_owner in tables if table_owner == role]
    if owned:
        raise RoleError(f"the runtime role {role!r} owns {', '.join(owned)}: reassign them to the owner")

    ident, schema_ident = sql.Identifier(role), sql.Identifier(schema)
    cursor.execute(
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(_database(cursor)), ident)
    )
    # No temporary tables: a session's pg_temp comes first in its search path, so a temporary
    # `transactions_entry` would be what an unqualified name in a trigger function reads (PUBLIC holds
    # TEMPORARY on every new database by default).
    database = sql.Identifier(_database(cursor))
    for grantee in (ident, sql.SQL("PUBLIC")):
        cursor.execute(sql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM {}").format(database, grantee))
    cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema_ident, ident))
    # PostgreSQL before 15 let PUBLIC create objects in the public schema (a function or table the portal
    # might pick up); revoking it is a no-op warning where the owner of the schema is someone else.
    for grantee in (ident, sql.SQL("PUBLIC")):
        cursor.execute(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(schema_ident, grantee))
    cursor.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(schema_ident, ident))
    cursor.execute(sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {}").format(schema_ident, ident))
    report = GrantReport(role=role, owner=owner)
    for name, _ in tables:
        privileges = TABLE_PRIVILEGES.get(name)
        if privileges is None:
            privileges = DEFAULT_TABLE_PRIVILEGES
            report.unlisted.append(name)
        cursor.execute(
            sql.SQL("GRANT {} ON TABLE {} TO {}").format(
                sql.SQL(", ").join(sql.SQL(p) for p in privileges), sql.Identifier(schema, name), ident
            )
        )
        report.tables[name] = privileges
    # nextval() for inserts; not UPDATE, which would allow setval() to rewind a sequence.
    cursor.execute(sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema_ident, ident))
    default = sql.SQL(", ").join(sql.SQL(p) for p in DEFAULT_TABLE_PRIVILEGES)
    cursor.execute(
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT {} ON TABLES TO {}").format(
            schema_ident, default, ident
        )
    )
    cursor.execute(
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT USAGE ON SEQUENCES TO {}").format(
            schema_ident, ident
        )
    )
    return report


def _database(cursor: Any) -> str:
    cursor.execute("SELECT current_database()")
    return cursor.fetchone()[0]
