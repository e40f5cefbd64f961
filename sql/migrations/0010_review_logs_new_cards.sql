-- migrate:no-transaction
-- "New cards introduced today" (the daily new-card limit of the study queue)
-- counts the learner's review log rows of today that took a card out of NEW
-- and moved it. review_logs_user_time reads every row of today and filters:
-- for a learner with 300 reviews today that was half the queue's execution
-- time. This partial index holds at most one row per card a learner ever
-- started (638 per learner) and answers the count index-only
-- (0.26 -> 0.14 ms at 10 000 learners, `make bench-explain`).
--
-- CONCURRENTLY: review_logs takes every review; a plain CREATE INDEX would
-- block them for the build. Re-runnable: a failed concurrent build leaves an
-- invalid index, dropped first.
DROP INDEX CONCURRENTLY IF EXISTS review_logs_user_new_cards;
CREATE INDEX CONCURRENTLY review_logs_user_new_cards ON review_logs (user_id, reviewed_at)
    WHERE state = 0 AND applied;
