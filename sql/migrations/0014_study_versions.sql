-- A version per learner of everything the study reads are computed from
-- (card_states, review_days, card_flags), so a worker can keep a learner's
-- study state in memory and know, with the one statement a request makes
-- anyway, whether it is still current (lib/sks/studycache.h,
-- docs/capacity.md).
--
-- Bumped by triggers, not by the statements that write: every writer is
-- covered, also one of an older release during a rolling deploy (whose
-- workers keep no such state, but whose writes must still invalidate the
-- state held by the new release's workers on other hosts).
--
-- No foreign key to users: deleting a learner cascades into card_states,
-- whose trigger then bumps this row; with a foreign key that bump would fail
-- the deletion. A row holds an id and a counter, nothing personal, and the
-- account deletion removes it in the same transaction.
CREATE TABLE study_versions (
    user_id bigint PRIMARY KEY,
    version bigint NOT NULL
);

CREATE FUNCTION study_version_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    uid bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END;
BEGIN
    INSERT INTO study_versions AS v (user_id, version) VALUES (uid, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = v.version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER card_states_bump AFTER INSERT OR UPDATE OR DELETE ON card_states
    FOR EACH ROW EXECUTE FUNCTION study_version_bump();
-- A review older than its card's last one moves no card_states row but
-- counts in review_days (today's reviews, the streak).
CREATE TRIGGER review_days_bump AFTER INSERT OR UPDATE OR DELETE ON review_days
    FOR EACH ROW EXECUTE FUNCTION study_version_bump();
-- Flags select what "study my flagged cards" offers.
CREATE TRIGGER card_flags_bump AFTER INSERT OR UPDATE OR DELETE ON card_flags
    FOR EACH ROW EXECUTE FUNCTION study_version_bump();
