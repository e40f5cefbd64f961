/*
 * catalogue.h - the official SKS question catalogue in memory.
 *
 * The catalogue is immutable between deploys. `easysks-migrate seed` reads
 * the source files (../shared/data/sks locally, share/sks in a release),
 * cleans the texts (lib/core/text) and writes the catalogue tables; each
 * worker loads those tables and answers card content from memory, so SQL
 * only ever joins per-user state. A worker reloads when catalogue_meta
 * changes (catalogue_db_version(), app_catalogue_refresh()). Both paths
 * build the same struct catalogue.
 *
 * Stable ids: card_id = "<topic>_<question number>" (navigation_12),
 * image_id = the figure's file name without extension, task_id =
 * "nav_<sheet>_<task>". An image's storage_key is the URL path nginx serves
 * it under, "/media/<file>", behind the /_auth check.
 *
 * Order: "catalogue order" is the topic order of GET /api/topics, then the
 * question number; an official exam sheet lists its 30 questions in that
 * order too (Navigation, Schifffahrtsrecht, Wetterkunde, Seemannschaft).
 *
 * Every card carries its CardOut JSON, rendered once at load, so a response
 * copies it instead of building it.
 */
#ifndef EASYSKS_CATALOGUE_H
#define EASYSKS_CATALOGUE_H

#include <stddef.h>

#include "core/arena.h"
#include "infra/db.h"
#include "core/err.h"

#define CATALOGUE_TOPICS 5
#define CATALOGUE_EXAM_SHEETS 15
#define CATALOGUE_SHEET_QUESTIONS 30
#define CATALOGUE_NAV_SHEETS 10

struct cat_topic {
    const char *value; /* "navigation" */
    const char *label; /* "Navigation" */
};

/* The five topics, in API order. */
extern const struct cat_topic catalogue_topics[CATALOGUE_TOPICS];

/* Index of a topic value (exact, case-sensitive), or -1. */
int catalogue_topic_index(const char *value);

struct cat_image {
    const char *image_id;    /* file name without extension */
    const char *storage_key; /* "/media/<file>" */
    const char *alt_text;
};

struct cat_card {
    const char *card_id;
    int topic;    /* index into catalogue_topics */
    int number;   /* official question number */
    int position; /* 0-based catalogue order */
    const char *front_text;
    const char *answer_text;
    const char **short_answer; /* condensed key points (not official) */
    int n_short;
    const int *sheets; /* official exam sheets 1..15 */
    int n_sheets;
    const struct cat_image *front_images, *answer_images;
    int n_front_images, n_answer_images;
    const char *json; /* CardOut, rendered at load */
    size_t json_len;
    const char *front_images_json, *answer_images_json; /* CardImageOut[], rendered at load */
    int new_rank;            /* place in the mixed order of new cards (sks/order.h) */
    const char *search_text; /* question and answer folded for search (sks/search.h) */
};

struct cat_subquestion {
    const char *text;
    int points;
};

struct cat_task {
    const char *task_id;
    int sheet;
    int number;
    int points;
    const char *context;
    const struct cat_subquestion *sub_questions;
    int n_sub;
    const char *solution_text;
    const char **key_answers;
    int n_keys;
};

struct catalogue {
    struct arena arena;     /* owns everything below */
    struct cat_card *cards; /* catalogue order */
    int ncards;
    int *by_hash; /* open addressing over cards, -1 = empty */
    int hash_size;
    int topic_first[CATALOGUE_TOPICS], topic_count[CATALOGUE_TOPICS];
    /* sheet n (1..15): sheet_cards[n][i] = card index, in official order */
    int sheet_cards[CATALOGUE_EXAM_SHEETS + 1][CATALOGUE_SHEET_QUESTIONS];
    int sheet_count[CATALOGUE_EXAM_SHEETS + 1];
    struct cat_task *tasks; /* by sheet, then task number */
    int ntasks;
    int nav_first[CATALOGUE_NAV_SHEETS + 1], nav_count[CATALOGUE_NAV_SHEETS + 1];
    /* chart sheet n: the allowed materials as its text lists them, one per
     * line ("Übungskarte 49 (INT 1463)\nKarte 1/INT 1\n…"), and the rule on
     * them ("Für die Prüfung darf …"); NULL when the text has none */
    const char *nav_materials[CATALOGUE_NAV_SHEETS + 1];
    const char *nav_material_rules[CATALOGUE_NAV_SHEETS + 1];
    char source_sha256[65]; /* of the source files, "" when unknown */
    int *new_order;         /* card indices by new_rank (lib/order.h) */
};

/* Read sks_catalog.json and sks_navigation_catalog.json from `dir`, clean
 * the texts and check the structure (known topics, unique numbers, every
 * exam sheet 1..15 with exactly 30 questions, chart-task sheets 1..10).
 * Returns a catalogue to free with catalogue_free, or NULL with e set
 * (500 catalogue_invalid naming the file and the problem). */
struct catalogue *catalogue_from_source(const char *dir, struct err *e);

/* Load the catalogue tables (cards not retired, tasks). NULL with e set:
 * 503 from the database, 503 catalogue_missing when the tables are empty
 * (the seed has not run), 500 catalogue_invalid for rows that do not parse. */
struct catalogue *catalogue_from_db(struct db *db, struct err *e);

/* What the last seed loaded, as one opaque string (its checksum and time)
 * into out (at least CATALOGUE_VERSION_MAX bytes; "" before any seed). A
 * worker reads it before loading the tables and again every second: a
 * different one means the catalogue changed under it. `timeout_ms` as for
 * db_query. 0, or -1 with e from the database. */
#define CATALOGUE_VERSION_MAX 128
int catalogue_db_version(struct db *db, int timeout_ms, char *out, struct err *e);

void catalogue_free(struct catalogue *c); /* NULL is a no-op */

/* Card by id, or NULL. */
const struct cat_card *catalogue_card(const struct catalogue *c, const char *card_id);

/* Chart task by id, or NULL. */
const struct cat_task *catalogue_task(const struct catalogue *c, const char *task_id);

#endif
