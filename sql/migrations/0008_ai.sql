-- AI grading and spoken answers (docs/ai.md): per-learner usage for the
-- daily quota and the rate limit, the queue of exam answers the job process
-- (easysks-jobs) grades with the model, and where an answer's grade came
-- from.
--
-- Expand-only: two new tables, nullable or defaulted columns (no table
-- rewrite on PostgreSQL 11+). The new foreign keys take short locks on
-- users and exam_answers; do not wait behind a long transaction for them.
SET LOCAL lock_timeout = '10s';

-- One row per learner and UTC day. `requests` counts model calls against
-- AI_DAILY_QUOTA (study checks, transcriptions, exam answers queued);
-- window_start/window_requests are a fixed one-minute window for
-- AI_RATE_PER_MINUTE. Tokens are what the API reported, for cost
-- accounting. Written by one upsert per call (lib/aiusage.c).
CREATE TABLE ai_usage (
    user_id           bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    day               date NOT NULL,
    requests          integer NOT NULL DEFAULT 0 CHECK (requests >= 0),
    window_start      timestamptz NOT NULL DEFAULT date_trunc('minute', now()),
    window_requests   integer NOT NULL DEFAULT 0 CHECK (window_requests >= 0),
    prompt_tokens     bigint NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
    completion_tokens bigint NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
    PRIMARY KEY (user_id, day)
);
-- Usage is accounting: the app adds to it and never removes it.
REVOKE DELETE, TRUNCATE ON ai_usage FROM easysks_app;

-- Where each graded answer's points came from. grader: 'heuristic' (lib/grade)
-- or 'ai' (the model's verdict replaced the heuristic one); NULL before
-- grading. heuristic_score keeps the heuristic points when the model's
-- replace them (audit, comparison); ai_* record the model's reply or, in
-- ai_error, why the model did not grade (the heuristic grade then stands).
ALTER TABLE exam_answers
    ADD COLUMN grader            text CHECK (grader IN ('heuristic', 'ai')),
    ADD COLUMN grader_model      text CHECK (length(grader_model) <= 128),
    ADD COLUMN prompt_version    text CHECK (length(prompt_version) <= 32),
    ADD COLUMN heuristic_score   double precision,
    ADD COLUMN ai_raw_score      double precision,
    ADD COLUMN ai_error          text CHECK (length(ai_error) <= 64),
    ADD COLUMN graded_at         timestamptz;

-- grading: 'complete' once every answer has its final grade, 'pending'
-- while grading jobs are open. grading_note: why AI grading was not used
-- although the learner asked for it (ai_unavailable, ai_quota_exceeded).
ALTER TABLE exam_sessions
    ADD COLUMN grading      text NOT NULL DEFAULT 'complete' CHECK (grading IN ('pending', 'complete')),
    ADD COLUMN grading_note text CHECK (length(grading_note) <= 64);

-- One job per exam answer to grade with the model, inserted in the submit's
-- transaction (unique per answer: a retried or concurrent submit cannot
-- queue it twice) and worked by easysks-jobs: claimed with FOR UPDATE SKIP
-- LOCKED (state running, attempts + 1, a lease until locked_until; a job
-- whose process died is claimed again after its lease), the model called
-- outside any transaction, the verdict written in another short transaction
-- that checks the claim (state running and the same attempt), so a late or
-- duplicate writer changes nothing. Retryable failures (429, 5xx, timeouts)
-- go back to queued with next_attempt_at backed off; after AI_JOB_MAX_ATTEMPTS,
-- or on a reply that cannot be used, the job is failed and the heuristic
-- grade stands (last_error says why).
CREATE TABLE grading_jobs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id      uuid NOT NULL,
    item_id         text NOT NULL,
    user_id         bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    state           text NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    locked_until    timestamptz,
    last_error      text CHECK (length(last_error) <= 64),
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    UNIQUE (session_id, item_id),
    FOREIGN KEY (session_id, item_id) REFERENCES exam_answers ON DELETE CASCADE
);
-- The claim's scan and the backlog gauge: open jobs only.
CREATE INDEX grading_jobs_open ON grading_jobs (next_attempt_at) WHERE state IN ('queued', 'running');
-- Deleting a learner (ON DELETE CASCADE from users).
CREATE INDEX grading_jobs_user ON grading_jobs (user_id);
