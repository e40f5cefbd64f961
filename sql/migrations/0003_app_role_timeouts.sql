-- Timeouts for the application's login role, set on the role instead of per
-- session. A session-level SET pins the server connection under RDS Proxy
-- and leaks into the next client under a transaction pooler (PgBouncer);
-- role settings apply at login and need no round trip.
--
-- easysks_web is the pool's login role. It is created here (without LOGIN)
-- when missing so that the settings can be attached; the operator grants
-- LOGIN and a password (see docs/runbook.md; `make run` does it locally).
-- Settings are not inherited through role membership: a second login role
-- (e.g. during a password rotation) needs the same ALTER ROLE lines.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'easysks_web') THEN
        CREATE ROLE easysks_web NOLOGIN IN ROLE easysks_app;
    END IF;
END
$$;

-- The client waits EASYSKS_DB_STATEMENT_TIMEOUT_MS (default 5000, the same
-- value) plus one second, then drops the connection.
ALTER ROLE easysks_web SET statement_timeout = '5s';
-- Row and table locks: fail a request instead of queueing behind a long one.
ALTER ROLE easysks_web SET lock_timeout = '3s';
-- A worker killed mid-transaction must not hold locks until TCP gives up.
ALTER ROLE easysks_web SET idle_in_transaction_session_timeout = '15s';
-- A query whose client went away (deadline passed, worker killed) is ended
-- within seconds rather than running to its statement_timeout.
ALTER ROLE easysks_web SET client_connection_check_interval = '2s';
