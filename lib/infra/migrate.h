/*
 * migrate.h - schema migrations from sql/migrations/NNNN_name.sql.
 *
 * Files are applied in version order, each in its own transaction, while
 * the runner holds a session-level PostgreSQL advisory lock (two hosts
 * deploying at once: one applies, the other waits, then finds nothing to
 * do). Each applied file is recorded in schema_migrations with its SHA-256;
 * a recorded file whose checksum changed (drift), or a recorded version whose
 * file is gone, stops every command with a clear error.
 *
 * The runner talks to PostgreSQL with the *owner* role; the app role never
 * runs DDL.
 *
 * A file whose first line is "-- migrate:no-transaction" (for CREATE INDEX
 * CONCURRENTLY and friends) runs outside a transaction, one statement at a
 * time, and is recorded after its last statement succeeded. It cannot be
 * atomic: if statement 3 of 4 fails, 1 and 2 stay applied and the file is
 * not recorded, so the next run executes all of it again. Such files must be
 * re-runnable: IF NOT EXISTS, and DROP INDEX CONCURRENTLY IF EXISTS before
 * a CREATE INDEX CONCURRENTLY (a failed one leaves an INVALID index behind).
 */
#ifndef EASYSKS_MIGRATE_H
#define EASYSKS_MIGRATE_H

#include <stdio.h>
#include <libpq-fe.h>

#include "core/err.h"

#define MIGRATE_LOCK_KEY 7301885173520931LL /* advisory lock key, fixed */
#define MIGRATE_LOCK_POLL_MS 200            /* a waiting runner tries again this often */

struct migration {
    int version;
    char name[128]; /* file name without directory */
    char path[4096];
    char checksum[65];  /* hex SHA-256 of the file bytes */
    int no_transaction; /* first line "-- migrate:no-transaction" */
};

struct migration_set {
    struct migration *items;
    int count;
};

/* Read and checksum every NNNN_*.sql file in `dir`, sorted by version.
 * Duplicate versions or unreadable files are errors. */
int migrate_scan(const char *dir, struct migration_set *set, struct err *e);
void migrate_set_cleanup(struct migration_set *set);

/* Hex SHA-256 of a buffer into out[65]. */
void migrate_sha256_hex(const void *buf, size_t len, char out[65]);

/* Print applied/pending state to `out` (may be NULL). 0 when in sync (nothing pending, no
 * drift), 1 when migrations are pending, -1 on drift or error. */
int migrate_status(PGconn *conn, const struct migration_set *set, FILE *out, struct err *e);

/* Verify only: -1 on drift, a missing file, or error; 0 otherwise. */
int migrate_verify(PGconn *conn, const struct migration_set *set, FILE *out, struct err *e);

/* Apply pending migrations under the advisory lock, waiting at most
 * `lock_timeout_s` seconds for a runner that holds it (then -1 with
 * e = migration_locked naming the holder). `dry_run` lists what would run
 * without applying. Returns the number applied, or -1. */
int migrate_up(PGconn *conn, const struct migration_set *set, int dry_run, int lock_timeout_s,
               FILE *out, struct err *e);

/* One statement of a SQL text: `len` bytes at `off`. */
struct sql_span {
    size_t off;
    size_t len;
};

/* Split `len` bytes of SQL into statements at top-level semicolons,
 * understanding quoted strings ('' and E'\'' escapes), quoted identifiers,
 * dollar quotes ($$, $tag$), -- comments and nested block comments.
 * Statements that hold only whitespace and comments are dropped; the span
 * excludes the semicolon. Returns the number of statements (up to `max`
 * are stored), or -1 for an unterminated quote or comment. */
int migrate_split_sql(const char *sql, size_t len, struct sql_span *out, int max);

/* The highest applied version, 0 when none, -1 on error. */
int migrate_current_version(PGconn *conn, struct err *e);

#endif
