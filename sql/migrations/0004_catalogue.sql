-- The official SKS catalogue: topics, questions (cards) and chart tasks.
-- Loaded by `easysks-migrate seed` from the source files, read by workers
-- once at start. The application role may only read these tables.
CREATE TABLE topics (
    topic    text PRIMARY KEY,
    label    text NOT NULL,
    position smallint NOT NULL UNIQUE
);
-- Fixed by the API contract (GET /api/topics).
INSERT INTO topics (topic, label, position) VALUES
    ('navigation', 'Navigation', 0),
    ('schifffahrtsrecht', 'Schifffahrtsrecht', 1),
    ('wetterkunde', 'Wetterkunde', 2),
    ('seemannschaft_i', 'Seemannschaft I', 3),
    ('seemannschaft_ii', 'Seemannschaft II', 4);

CREATE TABLE cards (
    card_id         text PRIMARY KEY CHECK (card_id ~ '^[a-z_]+_[0-9]+$'),
    topic           text NOT NULL REFERENCES topics,
    question_number integer NOT NULL CHECK (question_number > 0),
    position        integer NOT NULL,          -- catalogue order: topic * 10000 + number
    front_text      text NOT NULL,
    answer_text     text NOT NULL,
    front_images    jsonb NOT NULL DEFAULT '[]',
    answer_images   jsonb NOT NULL DEFAULT '[]',
    short_answer    jsonb NOT NULL DEFAULT '[]',  -- condensed key points, not official
    exam_sheets     integer[] NOT NULL DEFAULT '{}',
    -- A question no longer in the source files: kept (learners' progress
    -- refers to it) but offered nowhere.
    retired         boolean NOT NULL DEFAULT false,
    UNIQUE (topic, question_number)
);

-- New cards in catalogue order: an ordered index-only scan that stops at the
-- queue's limit, probing each learner's card_states by primary key.
CREATE INDEX cards_order ON cards (position) INCLUDE (card_id, topic) WHERE NOT retired;

CREATE TABLE navigation_tasks (
    task_id       text PRIMARY KEY CHECK (task_id ~ '^nav_[0-9]+_[0-9]+$'),
    sheet_number  integer NOT NULL CHECK (sheet_number BETWEEN 1 AND 10),
    task_number   integer NOT NULL CHECK (task_number > 0),
    points        integer NOT NULL CHECK (points >= 0),
    context       text NOT NULL,
    sub_questions jsonb NOT NULL,
    solution_text text NOT NULL,
    key_answers   jsonb NOT NULL,
    retired       boolean NOT NULL DEFAULT false,
    UNIQUE (sheet_number, task_number)
);

-- What the last seed loaded (one row).
CREATE TABLE catalogue_meta (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    source_sha256 text NOT NULL,
    cards         integer NOT NULL,
    tasks         integer NOT NULL,
    loaded_at     timestamptz NOT NULL DEFAULT now()
);

REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON topics, cards, navigation_tasks, catalogue_meta
    FROM easysks_app;
