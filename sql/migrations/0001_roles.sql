-- Role split. The migration runner connects as the schema owner (locally the
-- cluster's owner role, on RDS the master user). The application connects as
-- a login role that is a member of easysks_app, which may read and write rows
-- but owns nothing and cannot create objects (PostgreSQL 15 no longer grants
-- CREATE on the public schema to everyone).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'easysks_app') THEN
        CREATE ROLE easysks_app NOLOGIN;
    END IF;
END
$$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO easysks_app;

-- Tables and sequences the owner creates from now on: DML only.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO easysks_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO easysks_app;

-- The readiness check compares the applied version with the one the binary
-- was built for.
GRANT SELECT ON schema_migrations TO easysks_app;
