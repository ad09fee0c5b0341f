"""PostgreSQL refuses to make staff or superusers for anyone but the owner of `accounts_user` (or a member
of it, or a superuser): the runtime role (portal/dbroles.py), which may UPDATE and INSERT users, would
otherwise turn the flags on for a customer whose authenticator app it enrolled and open the admin. For a
role that is not the owner, the trigger refuses

- an INSERT of a user with `is_staff` or `is_superuser` true;
- an UPDATE that turns either on (turning them off, deactivating and every other column stay allowed);
- an UPDATE of `id` (second-factor seeds and backup codes are bound to the user id: a staff row moved onto
  a customer's id would take over the customer's app). Nothing in the portal changes a user's id.

Staff are made with `manage.py staff_grant`, which connects as the owner. The function names its catalogue
objects in full and runs with `search_path = pg_catalog, pg_temp`: a temporary table of the caller's
(searched first by default) cannot stand in for `pg_class`. Other databases get nothing.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION accounts_user_guard_staff() RETURNS trigger LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF pg_catalog.pg_has_role(
        current_user, (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID), 'MEMBER'
    ) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.is_staff OR NEW.is_superuser THEN
            RAISE EXCEPTION 'accounts: % may not create staff or superusers (manage.py staff_grant)',
                current_user USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSE
        IF NEW.id <> OLD.id THEN
            RAISE EXCEPTION 'accounts: % may not change the id of user %', current_user, OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF (NEW.is_staff AND NOT OLD.is_staff) OR (NEW.is_superuser AND NOT OLD.is_superuser) THEN
            RAISE EXCEPTION 'accounts: % may not make user % staff or a superuser (manage.py staff_grant)',
                current_user, OLD.id USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER user_staff_flags_owner_only BEFORE INSERT OR UPDATE ON accounts_user
    FOR EACH ROW EXECUTE FUNCTION accounts_user_guard_staff();
"""

REVERSE = """
DROP TRIGGER IF EXISTS user_staff_flags_owner_only ON accounts_user;
DROP FUNCTION IF EXISTS accounts_user_guard_staff();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_bind_second_factor_secrets")]
    operations = [migrations.RunPython(forward, reverse)]
