-- Exam results a learner can correct, and chart tasks by sub-question
-- (docs/grading.md, docs/api.md "Self-assessment").
--
-- exam_answers.score stays the grader's points (heuristic or model);
-- self_points are the learner's and count instead when set: on a question
-- sheet the learner's points for the question, on a chart task the sum over
-- its sub-questions of the learner's points where given and the grader's
-- elsewhere. The session's total_score is what counts, recomputed in the
-- transaction that changes any of them.
--
-- Chart tasks keep one row per task; the sub-question columns are arrays in
-- sub-question order (NULL for question sheets and for sessions graded
-- before this migration): the learner's answers (NULL when the client sent
-- one answer for the whole task), the grader's points, whether the grader
-- could judge the sub-question (no key values: it cannot), and the learner's
-- points (NULL elements where the learner has not assessed).
--
-- Expand-only: nullable columns, no rewrite, no new lock beyond the ALTER's.
SET LOCAL lock_timeout = '10s';

ALTER TABLE exam_answers
    ADD COLUMN sub_answers      text[] CHECK (cardinality(sub_answers) BETWEEN 1 AND 8),
    ADD COLUMN sub_scores       double precision[] CHECK (cardinality(sub_scores) BETWEEN 1 AND 8),
    ADD COLUMN sub_needs_self   boolean[] CHECK (cardinality(sub_needs_self) BETWEEN 1 AND 8),
    ADD COLUMN sub_self_points  double precision[] CHECK (cardinality(sub_self_points) BETWEEN 1 AND 8),
    ADD COLUMN self_points      double precision CHECK (self_points >= 0),
    ADD COLUMN self_assessed_at timestamptz;

-- Per chart sheet, what its text says about the exam (the seed writes it,
-- lib/sks/seed.c): the allowed materials, one per line, and the rule on
-- them. The client shows them before a chart sheet starts.
CREATE TABLE navigation_sheets (
    sheet_number      integer PRIMARY KEY CHECK (sheet_number BETWEEN 1 AND 10),
    allowed_materials text,
    material_rules    text
);
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON navigation_sheets FROM easysks_app;
