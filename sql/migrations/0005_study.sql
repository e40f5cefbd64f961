-- Per-learner study state: settings, FSRS scheduling per card, the review
-- log, and one row per day with reviews (streaks without reading the log).
CREATE TABLE user_settings (
    user_id           bigint PRIMARY KEY REFERENCES users ON DELETE CASCADE,
    timezone          text NOT NULL DEFAULT 'Europe/Berlin' CHECK (length(timezone) BETWEEN 1 AND 64),
    new_cards_per_day integer NOT NULL DEFAULT 20 CHECK (new_cards_per_day BETWEEN 0 AND 1000),
    exam_date         date,
    ai_enabled        boolean NOT NULL DEFAULT false,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- A card without a row is new; the row is created by its first review.
CREATE TABLE card_states (
    user_id        bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    card_id        text NOT NULL REFERENCES cards,
    state          smallint NOT NULL CHECK (state BETWEEN 0 AND 3),
    stability      double precision NOT NULL,
    difficulty     double precision NOT NULL,
    elapsed_days   integer NOT NULL,
    scheduled_days integer NOT NULL,
    reps           integer NOT NULL,
    lapses         integer NOT NULL,
    due            timestamptz NOT NULL,
    last_review    timestamptz,
    PRIMARY KEY (user_id, card_id)
);
-- The due queue: a learner's rows in due order.
CREATE INDEX card_states_user_due ON card_states (user_id, due);

CREATE TABLE review_logs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id          bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    review_id        uuid NOT NULL,             -- the client's (or ours): idempotency key
    card_id          text NOT NULL REFERENCES cards,
    rating           smallint NOT NULL CHECK (rating BETWEEN 1 AND 4),
    reviewed_at      timestamptz NOT NULL,
    -- false: older than the card's last review when it arrived (offline
    -- sync); logged, but the schedule did not move.
    applied          boolean NOT NULL,
    -- as FSRS's review log: the state before, elapsed and scheduled days
    state            smallint NOT NULL,
    elapsed_days     integer NOT NULL,
    scheduled_days   integer NOT NULL,
    -- the scheduling this review left (what a retry with the same id answers)
    new_state        smallint NOT NULL,
    new_stability    double precision NOT NULL,
    new_difficulty   double precision NOT NULL,
    new_reps         integer NOT NULL,
    new_lapses       integer NOT NULL,
    new_due          timestamptz NOT NULL,
    new_last_review  timestamptz,
    received_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, review_id)
);
-- Today's reviews and new cards introduced today.
CREATE INDEX review_logs_user_time ON review_logs (user_id, reviewed_at);

-- Days with at least one review, in the learner's time zone at the time.
CREATE TABLE review_days (
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    day     date NOT NULL,
    reviews integer NOT NULL,
    PRIMARY KEY (user_id, day)
);
