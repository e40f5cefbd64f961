-- Billing: Stripe customers linked to learners, one row per Stripe
-- subscription with the state the webhooks last applied, and every event
-- id processed (docs/billing.md). Premium is computed from these rows
-- together with the operator's manual grant in users.plan/premium_until
-- (lib/users.c); nothing here is copied into users.
--
-- Expand-only: three new tables. The foreign keys to users take a short
-- lock on users; do not wait behind a long transaction for it.
SET LOCAL lock_timeout = '10s';

-- Which learner a Stripe customer belongs to: written when
-- checkout.session.completed arrives (client_reference_id = the learner's
-- Cognito sub). A learner can end up with more than one customer (two
-- Checkout tabs before either completed); a customer has one learner.
CREATE TABLE stripe_customers (
    customer_id text PRIMARY KEY CHECK (length(customer_id) BETWEEN 1 AND 255),
    user_id     bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stripe_customers_user ON stripe_customers (user_id, created_at);

-- One row per subscription, as the newest event applied left it. No
-- foreign key to stripe_customers: subscription events may arrive before
-- the checkout event that links their customer.
CREATE TABLE stripe_subscriptions (
    subscription_id      text PRIMARY KEY CHECK (length(subscription_id) BETWEEN 1 AND 255),
    customer_id          text NOT NULL CHECK (length(customer_id) BETWEEN 1 AND 255),
    -- Stripe's status: active, trialing, past_due, canceled, unpaid,
    -- incomplete, incomplete_expired, paused (or a value added later)
    status               text NOT NULL CHECK (length(status) BETWEEN 1 AND 32),
    price_id             text CHECK (length(price_id) <= 255),
    current_period_end   timestamptz,
    cancel_at_period_end boolean NOT NULL DEFAULT false,
    -- when the subscription entered its current status (the event's created)
    status_since         timestamptz NOT NULL,
    -- past_due only: premium is kept until then (STRIPE_PAST_DUE_GRACE_HOURS)
    grace_until          timestamptz,
    -- the last event applied: an event ordered before it changes nothing
    -- (created, then rank: created 1 < updated/invoice 2 < deleted 3)
    event_created        timestamptz NOT NULL,
    event_rank           smallint NOT NULL CHECK (event_rank BETWEEN 1 AND 3),
    event_id             text NOT NULL,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stripe_subscriptions_customer ON stripe_subscriptions (customer_id);

-- Every event processed, recorded in the same transaction as its effect:
-- a redelivery finds its id here and changes nothing.
CREATE TABLE stripe_events (
    event_id    text PRIMARY KEY CHECK (length(event_id) BETWEEN 1 AND 255),
    type        text NOT NULL CHECK (length(type) BETWEEN 1 AND 128),
    object_id   text CHECK (length(object_id) <= 255),
    created     timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
