-- One service's login role and schema; the role can use only its own schema.
-- Run with psql variables role, pw and db, by deploy/local/pg.sh (local
-- stack) and deploy/compose/initdb.sh (containers).  Idempotent.
SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN PASSWORD :'pw' NOSUPERUSER NOCREATEDB NOCREATEROLE;
GRANT CONNECT ON DATABASE :"db" TO :"role";
CREATE SCHEMA IF NOT EXISTS :"role" AUTHORIZATION :"role";
REVOKE ALL ON SCHEMA :"role" FROM PUBLIC;
ALTER ROLE :"role" IN DATABASE :"db" SET search_path = :"role";
-- temporary tables, private to a session: where hc-replay rebuilds a projection aside
GRANT TEMPORARY ON DATABASE :"db" TO :"role";
