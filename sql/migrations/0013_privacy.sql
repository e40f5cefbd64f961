-- Privacy (docs/privacy.md): a learner's export and the erasure of their
-- account (GET /api/me/export, DELETE /api/me, easysks-admin export/delete).
--
-- Expand-only: two new tables and a function. The foreign key to users takes
-- a short lock on users; do not wait behind a long transaction for it.
SET LOCAL lock_timeout = '10s';

-- What must never come back after an erasure: the SHA-256 of the learner's
-- Cognito subject (the user-row-on-first-sight logic in lib/users.c refuses
-- to create a user for it: 410 account_deleted) and of their Stripe
-- customer and subscription ids (a late webhook for them is acknowledged
-- and dropped, lib/billing.c). A hash of a random identifier whose other
-- copies (Cognito, our rows) are deleted links to nobody; it only answers
-- "was this id erased?" for someone who holds the id.
CREATE TABLE erased_ids (
    id_sha256 bytea PRIMARY KEY CHECK (length(id_sha256) = 32),
    kind      text NOT NULL CHECK (kind IN ('cognito_sub', 'stripe_customer', 'stripe_subscription')),
    erased_at date NOT NULL DEFAULT current_date
);
-- Tombstones are forever for the app role.
REVOKE UPDATE, DELETE, TRUNCATE ON erased_ids FROM easysks_app;

-- The export's rate limit, per learner, shared by every worker and host: a
-- fixed one-hour window (lib/privacy.c, PRIVACY_EXPORTS_PER_HOUR).
CREATE TABLE data_exports (
    user_id      bigint PRIMARY KEY REFERENCES users ON DELETE CASCADE,
    window_start timestamptz NOT NULL DEFAULT now(),
    requests     integer NOT NULL DEFAULT 0 CHECK (requests >= 0),
    last_at      timestamptz NOT NULL DEFAULT now()
);

-- admin_audit is append-only for the app role, and its user_id is unlinked
-- by ON DELETE SET NULL when a learner is erased. An operator's free-text
-- reason may name the person, so the erasure drops it from that learner's
-- rows through this one narrow function (the app role may not UPDATE the
-- table itself). Returns the rows redacted.
CREATE FUNCTION privacy_redact_audit(uid bigint) RETURNS bigint
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH r AS (
        UPDATE public.admin_audit SET detail = (detail - 'reason') || '{"reason_erased": true}'
        WHERE user_id = uid RETURNING 1)
    SELECT count(*) FROM r
$$;
REVOKE ALL ON FUNCTION privacy_redact_audit(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_redact_audit(bigint) TO easysks_app;
