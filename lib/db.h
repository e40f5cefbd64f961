/*
 * db.h - the libpq wrapper: one connection per worker process.
 *
 * - Connects lazily and reconnects after failures with capped exponential
 *   backoff; while backing off, calls fail fast with 503 db_unavailable
 *   instead of stalling every request on a dead server.
 * - Every query is sent asynchronously and waited for with a client-side
 *   deadline (the statement timeout plus a margin, or a per-call value): a
 *   hung server or network costs one bounded wait, then the query is
 *   cancelled and the connection is dropped.
 * - Statements are named (`struct db_stmt`) and prepared once per connection.
 * - db_request_done() runs after every request: an open or failed
 *   transaction is rolled back and a broken connection is discarded, so the
 *   next request always starts clean.
 * - SQLSTATE and server messages go to the log, never into struct err.
 */
#ifndef EASYSKS_DB_H
#define EASYSKS_DB_H

#include <libpq-fe.h>

#include "err.h"

/* A statement prepared once per connection under `name`. Define as static
 * const at file scope; `sql` uses $1.. placeholders only. */
struct db_stmt {
    const char *name;
    const char *sql;
};

struct db;

/* `conninfo` is copied. Does not connect. Never returns NULL. */
struct db *db_new(const char *conninfo, int statement_timeout_ms);
void db_free(struct db *db); /* NULL is a no-op */

/* Make sure there is a usable connection (connect now if needed).
 * 0 or -1 with e = 503 db_unavailable. */
int db_ensure(struct db *db, struct err *e);

/* Run a prepared statement. Returns a result the caller PQclear()s
 * (PGRES_TUPLES_OK or PGRES_COMMAND_OK), or NULL with e set: 503
 * db_unavailable for connection loss/timeouts, 500 db_error otherwise.
 * `timeout_ms` 0 means the connection default. params may contain NULLs. */
PGresult *db_query(struct db *db, const struct db_stmt *stmt, int nparams,
                   const char *const *params, int timeout_ms, struct err *e);

/* SQLSTATE of the last failed query ("" if none or not a server error). */
const char *db_last_sqlstate(const struct db *db);

/* Transactions (simple statements, no parameters). */
int db_begin(struct db *db, struct err *e);
int db_commit(struct db *db, struct err *e);
int db_rollback(struct db *db);

/* Cleanup after a request: roll back any open transaction; drop a broken one. */
void db_request_done(struct db *db);

/* Result helpers: NULL for SQL NULL. */
const char *db_value(const PGresult *res, int row, int col);

#endif
