-- Exam simulations: the question sheet (15 official sheets, 30 questions,
-- 0/1/2 points each) and the chart task (10 official sheets, 30 points).
-- One table for both; answers are written as they are saved.
CREATE TABLE exam_sessions (
    id                 uuid PRIMARY KEY,
    user_id            bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    kind               text NOT NULL CHECK (kind IN ('sheet', 'chart')),
    sheet_number       integer NOT NULL CHECK (sheet_number BETWEEN 1 AND 15),
    status             text NOT NULL DEFAULT 'in_progress'
                       CHECK (status IN ('in_progress', 'evaluated', 'abandoned', 'expired')),
    idempotency_key    text CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    time_limit_minutes integer NOT NULL CHECK (time_limit_minutes BETWEEN 1 AND 240),
    started_at         timestamptz NOT NULL DEFAULT now(),
    deadline_at        timestamptz NOT NULL,
    submitted_at       timestamptz,
    time_over          boolean NOT NULL DEFAULT false,  -- fixed at submission
    total_score        double precision,
    max_score          double precision,
    passed             boolean,
    outcome            text CHECK (outcome IN ('passed', 'oral_exam', 'failed')),
    grader             text,
    UNIQUE (user_id, kind, idempotency_key)
);
-- At most one session in progress per learner and sheet: a second start
-- returns it (and two concurrent starts cannot both insert).
CREATE UNIQUE INDEX exam_sessions_one_in_progress ON exam_sessions (user_id, kind, sheet_number)
    WHERE status = 'in_progress';
-- History, newest first.
CREATE INDEX exam_sessions_user_history ON exam_sessions (user_id, kind, started_at DESC);

CREATE TABLE exam_answers (
    session_id            uuid NOT NULL REFERENCES exam_sessions ON DELETE CASCADE,
    item_id               text NOT NULL,     -- card_id or task_id
    position              integer NOT NULL,  -- question or task number on the sheet
    answer                text NOT NULL DEFAULT '' CHECK (length(answer) <= 10000),
    answered_at           timestamptz,
    score                 double precision,
    is_correct            boolean,
    feedback              text,
    errors                jsonb,
    needs_self_assessment boolean,
    PRIMARY KEY (session_id, item_id)
);

-- What operators did by hand (easysks-admin): append-only for the app role.
CREATE TABLE admin_audit (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    operator text NOT NULL,
    action   text NOT NULL,
    user_id  bigint REFERENCES users ON DELETE SET NULL,
    detail   jsonb NOT NULL
);
REVOKE UPDATE, DELETE, TRUNCATE ON admin_audit FROM easysks_app;
