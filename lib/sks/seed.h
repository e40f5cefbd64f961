/*
 * seed.h - write a catalogue (lib/sks/catalogue) into the catalogue tables.
 *
 * Idempotent and in place: one transaction under an advisory lock (two
 * hosts seeding at once serialise), every card and task upserted by its
 * stable id, and a row is only written when something in it changed, so a
 * second run changes nothing. Cards and tasks missing from the source are
 * marked retired, never deleted: learners' progress refers to them.
 * Learners' tables are not touched. Runs with the owner role (the app role
 * can only read the catalogue).
 */
#ifndef EASYSKS_SEED_H
#define EASYSKS_SEED_H

#include <libpq-fe.h>

#include "sks/catalogue.h"
#include "core/err.h"

#define SEED_LOCK_KEY 7301885173520932LL

struct seed_counts {
    int cards, cards_new, cards_changed, cards_retired;
    int tasks, tasks_new, tasks_changed, tasks_retired;
};

/* Returns 0 with *out filled, or -1 with e set (500 seed_failed with the
 * server's message: this runs in a command-line tool, not for clients). */
int seed_catalogue(PGconn *conn, const struct catalogue *c, struct seed_counts *out, struct err *e);

#endif
