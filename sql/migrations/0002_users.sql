-- Users, keyed by the Cognito subject. Rows are created on the first
-- authenticated request (INSERT ... ON CONFLICT, so concurrent first requests
-- create exactly one row).
CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cognito_sub   text NOT NULL UNIQUE CHECK (length(cognito_sub) BETWEEN 1 AND 128),
    username      text CHECK (length(username) <= 256),
    email         text CHECK (length(email) <= 320),
    plan          text NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'premium')),
    premium_until timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now()
);
