-- A learner's path to passing (docs/api.md): the licence variant, the
-- mixed order of new cards, and flags on cards.

-- "sail" (Antriebsmaschine und unter Segel: Seemannschaft I) or "motor"
-- (Antriebsmaschine: Seemannschaft II). Switching keeps every card state.
ALTER TABLE user_settings
    ADD COLUMN variant text NOT NULL DEFAULT 'sail' CHECK (variant IN ('sail', 'motor'));

-- The mixed, exam-weighted order in which a learner meets new cards
-- (lib/order.c computes it; `easysks-migrate seed` writes it). One order
-- for both variants: a card's place depends on its own topic alone, so
-- leaving out the other variant's topic leaves the rest in the same order.
-- NULL until the next seed, which every deploy runs after the migrations.
ALTER TABLE cards ADD COLUMN new_rank integer;
CREATE INDEX cards_new_order ON cards (new_rank) INCLUDE (card_id, topic) WHERE NOT retired;

-- A learner's flag on a card, with an optional note ("this answer looks
-- wrong") that operators list with `easysks-admin flags`.
CREATE TABLE card_flags (
    user_id    bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    card_id    text NOT NULL REFERENCES cards,
    note       text CHECK (char_length(note) BETWEEN 1 AND 500),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, card_id)
);
-- The operators' list of reported cards (flags with a note), newest first.
CREATE INDEX card_flags_reported ON card_flags (updated_at) WHERE note IS NOT NULL;
REVOKE TRUNCATE ON card_flags FROM easysks_app;
