/*
 * db.h - the libpq wrapper: one connection per worker process.
 *
 * - Connects lazily and reconnects after failures with capped exponential
 *   backoff; while backing off, calls fail fast with 503 db_unavailable
 *   instead of stalling every request on a dead server.
 * - Every call has one client-side deadline that covers all of it: the
 *   (non-blocking) connect, preparing the statement and running it. A hung
 *   server or network costs one bounded wait; then the connection is
 *   dropped (never PQcancel: that opens a second, blocking connection to the
 *   same unresponsive server). The server ends the abandoned query itself
 *   through the role's statement_timeout and client_connection_check_interval
 *   (set per role by migration 0003, not per session, so that a transaction
 *   pooler such as PgBouncer or RDS Proxy does not pin or leak them).
 * - TCP connections use keepalives and tcp_user_timeout, so a peer that
 *   vanished is noticed between requests too.
 * - Statements are named (`struct db_stmt`) and prepared once per
 *   connection, any number of them.
 * - db_request_done() runs after every request: an open or failed
 *   transaction is rolled back and a broken connection is discarded, so the
 *   next request always starts clean.
 * - SQLSTATE and server messages go to the log, never into struct err.
 */
#ifndef EASYSKS_DB_H
#define EASYSKS_DB_H

#include <libpq-fe.h>

#include "core/err.h"

/* A statement prepared once per connection under `name`. Define as static
 * const at file scope; `sql` uses $1.. placeholders only. */
struct db_stmt {
    const char *name;
    const char *sql;
};

struct db;

/* A new connection (TCP, TLS, startup) must be up within this, whatever the
 * call's deadline: a healthy server takes milliseconds, and during a
 * failover a worker should answer 503 quickly rather than wait on a dead
 * address for the whole statement deadline. */
#define DB_CONNECT_TIMEOUT_MS 1500
#define DB_DEADLINE_MARGIN_MS 1000

/* `conninfo` is copied. Does not connect. Never returns NULL. `timeout_ms`
 * is the default client-side deadline of a call (the server's
 * statement_timeout plus DB_DEADLINE_MARGIN_MS is a good value). */
struct db *db_new(const char *conninfo, int timeout_ms);
void db_free(struct db *db); /* NULL is a no-op */

/* The application_name of the next connections (default "easysks", what
 * pg_stat_activity shows; a URL's own application_name still wins).
 * `name` must be static storage. */
void db_set_application_name(struct db *db, const char *name);

/* Make sure there is a usable connection (connect now if needed), within
 * `timeout_ms` (0: DB_CONNECT_TIMEOUT_MS). 0, or -1 with e = 503
 * db_unavailable (or db_timeout when the deadline passed). */
int db_ensure(struct db *db, int timeout_ms, struct err *e);

/* Run a prepared statement. Returns a result the caller PQclear()s
 * (PGRES_TUPLES_OK or PGRES_COMMAND_OK), or NULL with e set: 503
 * db_unavailable for connection loss, 503 db_timeout when the deadline
 * passed (connection dropped) or the server cancelled the statement, 409
 * db_conflict for a serialization failure or deadlock (retry the request),
 * 409 db_duplicate for a unique violation, 410 account_deleted for a
 * write that names an erased learner (a foreign key "<table>_user_id_fkey"
 * to users broken), 500 db_error otherwise. `timeout_ms` bounds the whole
 * call including a reconnect; 0 means the default given to db_new(). params may contain NULLs.
 * A `timeout_ms` shorter than the default, outside a transaction, is soft: when it passes the
 * answer is 503 db_timeout but the connection stays (no backoff, statements stay prepared);
 * the late answer is collected at the start of the next call, and only a statement still
 * running after that call's own deadline drops the connection. */
PGresult *db_query(struct db *db, const struct db_stmt *stmt, int nparams,
                   const char *const *params, int timeout_ms, struct err *e);

/* SQLSTATE of the last failed query ("" if none or not a server error). */
const char *db_last_sqlstate(const struct db *db);

/* Transactions (simple statements, no parameters). */
int db_begin(struct db *db, struct err *e);
int db_commit(struct db *db, struct err *e);
int db_rollback(struct db *db);

/* Notifications (the job process): LISTEN on `channel` (1..63 of
 * [a-z0-9_], a constant of the caller's) now, and again on every new
 * connection. While listening, bytes waiting on an idle connection are
 * notifications to collect, not the server's goodbye. 0, or -1 with e. */
int db_listen(struct db *db, const char *channel, struct err *e);

/* Wait up to `timeout_ms` for a notification on the listened channel.
 * Returns 1 when one or more arrived (all pending are consumed; also after
 * a reconnect, since notifications sent meanwhile are lost), 0 when the
 * time passed or a signal interrupted the wait, -1 with e when the
 * connection failed (dropped; the next call reconnects and listens again). */
int db_wait_notify(struct db *db, int timeout_ms, struct err *e);

/* Cleanup after a request: roll back any open transaction; drop a broken one. */
void db_request_done(struct db *db);

/* Result helpers: NULL for SQL NULL. */
const char *db_value(const PGresult *res, int row, int col);

#endif
