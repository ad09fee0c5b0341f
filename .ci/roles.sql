-- The two database roles (portal/dbroles.py), created when missing and never altered once they exist.
-- psql -v owner=securebank_owner -v runtime=securebank_app -f .ci/roles.sql, as a superuser.
SELECT format('CREATE ROLE %I LOGIN CREATEDB NOSUPERUSER NOCREATEROLE', :'owner')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT', :'runtime')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'runtime') \gexec
