/*
 * cards.h - the catalogue as a learner browses it: each card with the
 * learner's state (new / learning / review, due, flagged), filters (topic,
 * official sheet, flagged, mistakes, a word-prefix search), pages in
 * catalogue order; and the learner's flags on cards, with an optional note
 * operators read (easysks-admin flags).
 *
 * Card content comes from the in-memory catalogue; the learner's state is
 * one statement (cards_learner_load), the selection pure C (cards_select).
 * Only the learner's licence variant is listed (sks/order.h).
 */
#ifndef EASYSKS_CARDS_H
#define EASYSKS_CARDS_H

#include "core/arena.h"
#include "core/err.h"
#include "infra/db.h"
#include "sks/catalogue.h"
#include "sks/search.h"

#define CARDS_LIMIT_DEFAULT 50
#define CARDS_LIMIT_MAX 100
#define CARDS_NOTE_MAX_CHARS 500

/* A card as the learner stands with it. */
struct cards_state {
    signed char state; /* -1 never studied, else enum fsrs_state */
    unsigned char flagged;
    unsigned char mistake; /* lapsed, or last rated Again (only when asked for) */
    long long due_us;      /* when state >= 0 */
    const char *note;      /* the flag's note, or NULL */
};

struct cards_learner {
    int variant;               /* enum order_variant */
    struct cards_state *cards; /* by catalogue index, cat->ncards entries (arena) */
};

/* The learner's variant, states and flags in one statement; `mistakes`:
 * also work out which cards are mistakes (a probe per studied card, so
 * only when a filter needs it). 0, or -1 with e (503). */
int cards_learner_load(struct db *db, const struct catalogue *cat, const char *user_id,
                       int mistakes, struct arena *a, struct cards_learner *out, struct err *e);

struct cards_filter {
    int topic;                    /* topic index or -1 */
    int sheet;                    /* 1..15, 0 = any */
    int flagged;                  /* only flagged cards */
    int mistakes;                 /* only mistakes */
    const struct search_query *q; /* NULL or no words: any */
};

/* The cards of the learner's variant that pass f, in catalogue order,
 * after catalogue index `after` (-1: from the start): up to `limit` indices
 * into out[]. Returns how many; *total = every match (also before `after`),
 * *more = 1 when matches follow the last one returned. */
int cards_select(const struct catalogue *cat, const struct cards_learner *l,
                 const struct cards_filter *f, int after, int limit, int *out, int *total,
                 int *more);

struct cards_flag {
    long long created_us, updated_us;
    const char *note; /* NULL: none (arena) */
};

/* Flag `card_id` with `note` (NULL: none; the caller checked its length).
 * The same call again changes nothing (updated_us moves only when the note
 * changes). 0, or -1 with e (503). */
int cards_flag_put(struct db *db, const char *user_id, const char *card_id, const char *note,
                   struct arena *a, struct cards_flag *out, struct err *e);

/* Remove the flag; 0 whether or not there was one, -1 with e (503). */
int cards_flag_delete(struct db *db, const char *user_id, const char *card_id, struct err *e);

#endif
