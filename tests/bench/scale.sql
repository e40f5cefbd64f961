-- Generated study data for EXPLAIN at a realistic volume (make bench-explain):
-- :users learners who have every card of the catalogue scheduled (638 each),
-- :logs review log rows per scheduled card over the last 90 days (the newest
-- at the card's last review, a few of them today; one learner in a hundred
-- has 300 reviews today), a review day per active day, settings for a third. Deterministic (setseed), run by
-- tests/bench/explain.sh in a scratch database after the migrations and the
-- catalogue seed.
\set ON_ERROR_STOP 1
SET synchronous_commit = off;
SET maintenance_work_mem = '512MB';
SELECT setseed(0.42);

INSERT INTO users (cognito_sub, username, email, created_at, last_seen_at)
SELECT 'scale-' || g, 'scale-' || g, 'scale-' || g || '@bench.local',
       now() - interval '120 days', now() - (g % 600) * interval '1 second'
FROM generate_series(1, :users) g;

INSERT INTO user_settings (user_id, timezone, new_cards_per_day, exam_date)
SELECT id, CASE WHEN id % 7 = 0 THEN 'Europe/Vienna' ELSE 'Europe/Berlin' END, 20,
       current_date + (id % 60)::int
FROM users WHERE cognito_sub LIKE 'scale-%' AND id % 3 = 0;

-- Some 10-15 % of the cards are due now: the queue's limit decides, not
-- the due count. States: mostly review, some learning and relearning.
-- A card was last reviewed `ago` days back and scheduled `sched` days on:
-- due when ago >= sched (overdue by up to 5 days).
INSERT INTO card_states (user_id, card_id, state, stability, difficulty, elapsed_days,
                         scheduled_days, reps, lapses, due, last_review)
SELECT u.id, c.card_id, s.state, s.stab, 1 + 9 * random(), s.sched, s.sched, s.reps, s.lapses,
       now() + ((s.sched - s.ago) * interval '1 day'), now() - (s.ago * interval '1 day')
FROM users u CROSS JOIN cards c
CROSS JOIN LATERAL (SELECT CASE WHEN r < 0.85 THEN 2 WHEN r < 0.95 THEN 1 ELSE 3 END AS state,
                           0.5 + 200 * random() ^ 2 AS stab, sched,
                           (1 + 15 * random())::int AS reps, (3 * random() ^ 4)::int AS lapses,
                           (sched + 5) * random() AS ago
                    FROM (SELECT random() AS r, (1 + 60 * random())::int AS sched,
                                 u.id + c.position AS dep) x) s
WHERE u.cognito_sub LIKE 'scale-%' AND NOT c.retired;

-- Review logs: :logs per card, the last one at last_review; 0.3 % of them today.
INSERT INTO review_logs (user_id, review_id, card_id, rating, reviewed_at, applied, state,
                         elapsed_days, scheduled_days, new_state, new_stability, new_difficulty,
                         new_reps, new_lapses, new_due, new_last_review)
SELECT cs.user_id, gen_random_uuid(), cs.card_id, 1 + (random() * 3)::int,
       least(now(), CASE WHEN n = :logs AND random() < 0.003 THEN now() - random() * interval '2 hours'
            WHEN n = :logs THEN coalesce(cs.last_review, now() - interval '1 day')
            ELSE now() - (90 * random()) * interval '1 day' END),
       true, CASE WHEN n = 1 THEN 0 ELSE 2 END, cs.elapsed_days, cs.scheduled_days,
       cs.state, cs.stability, cs.difficulty, cs.reps, cs.lapses, cs.due, cs.last_review
FROM card_states cs CROSS JOIN generate_series(1, :logs) n
JOIN users u ON u.id = cs.user_id AND u.cognito_sub LIKE 'scale-%';

-- One learner in a hundred studies hard today: 300 reviews so far, 20 of
-- them new cards (what the "new cards today" count has to sift through).
INSERT INTO review_logs (user_id, review_id, card_id, rating, reviewed_at, applied, state,
                         elapsed_days, scheduled_days, new_state, new_stability, new_difficulty,
                         new_reps, new_lapses, new_due, new_last_review)
SELECT u.id, gen_random_uuid(), c.card_id, 3, now() - random() * interval '3 hours', true,
       CASE WHEN n <= 20 THEN 0 ELSE 2 END, 3, 7, 2, 20.0, 5.0, 4, 0,
       now() + interval '7 days', now()
FROM users u CROSS JOIN generate_series(1, 300) n
JOIN cards c ON c.position = (SELECT position FROM cards ORDER BY position OFFSET (n % 638) LIMIT 1)
WHERE u.cognito_sub LIKE 'scale-%' AND u.id % 100 = 0;

INSERT INTO review_days (user_id, day, reviews)
SELECT user_id, (reviewed_at AT TIME ZONE 'Europe/Berlin')::date, count(*)
FROM review_logs GROUP BY 1, 2
ON CONFLICT (user_id, day) DO UPDATE SET reviews = EXCLUDED.reviews;

VACUUM ANALYZE;
SELECT 'users', count(*) FROM users
UNION ALL SELECT 'card_states', count(*) FROM card_states
UNION ALL SELECT 'review_logs', count(*) FROM review_logs
UNION ALL SELECT 'review_days', count(*) FROM review_days
UNION ALL SELECT 'database MB', pg_database_size(current_database()) / 1048576;
