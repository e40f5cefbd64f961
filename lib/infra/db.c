#include "infra/db.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/log.h"

#define DB_BACKOFF_MIN_MS 100
#define DB_BACKOFF_MAX_MS 2000

struct db {
    PGconn *conn;
    char *conninfo;
    int timeout_ms;            /* default deadline of a call */
    long long next_attempt_ms; /* monotonic; no connect before this */
    int backoff_ms;
    const char **prepared; /* names prepared on `conn` (static storage) */
    int nprepared, cap_prepared;
    char sqlstate[6];
    const char *application_name; /* static storage */
    char listen_channel[64];      /* "" unless db_listen() */
    int notified;                 /* a notification (or a reconnect) not yet reported */
    int soft;                     /* the call now running has a short deadline of its own */
    int pending;                  /* a statement left running by a soft deadline */
    const char *pending_prepare;  /* ... and it was this PREPARE (static storage) */
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct db *db_new(const char *conninfo, int timeout_ms)
{
    struct db *db = calloc(1, sizeof(*db));
    if (db == NULL || (db->conninfo = strdup(conninfo)) == NULL)
        abort();
    db->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000 + DB_DEADLINE_MARGIN_MS;
    db->application_name = "easysks";
    return db;
}

void db_set_application_name(struct db *db, const char *name)
{
    db->application_name = name;
}

static void db_disconnect(struct db *db)
{
    if (db->conn != NULL)
        PQfinish(db->conn);
    db->conn = NULL;
    db->nprepared = 0;
    db->pending = 0;
    db->pending_prepare = NULL;
}

void db_free(struct db *db)
{
    if (db == NULL)
        return;
    db_disconnect(db);
    free(db->prepared);
    explicit_bzero(db->conninfo, strlen(db->conninfo)); /* it may hold a password */
    free(db->conninfo);
    free(db);
}

/* Mark the connection dead and schedule the next attempt. */
static void connection_failed(struct db *db, const char *why)
{
    char ms[16];

    db_disconnect(db);
    db->backoff_ms = db->backoff_ms == 0 ? DB_BACKOFF_MIN_MS : db->backoff_ms * 2;
    if (db->backoff_ms > DB_BACKOFF_MAX_MS)
        db->backoff_ms = DB_BACKOFF_MAX_MS;
    db->next_attempt_ms = now_ms() + db->backoff_ms;
    snprintf(ms, sizeof(ms), "%d", db->backoff_ms);
    log_warn("database unavailable", "reason", why, "retry_in_ms", ms, NULL);
}

static void first_line(const char *in, char *out, size_t outlen)
{
    size_t n = strcspn(in, "\n");
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, in, n);
    out[n] = '\0';
}

static int unavailable(struct db *db, struct err *e)
{
    char msg[256];
    first_line(db->conn != NULL ? PQerrorMessage(db->conn) : "no connection", msg, sizeof(msg));
    connection_failed(db, msg);
    return err_set(e, 503, "db_unavailable", "the database is unavailable");
}

static int timed_out(struct db *db, const char *what, struct err *e)
{
    log_warn("database call exceeded its deadline; dropping the connection", "statement", what,
             NULL);
    connection_failed(db, "deadline exceeded");
    return err_set(e, 503, "db_timeout", "the database did not answer in time");
}

/* A call with a short deadline of its own (the readiness check) ran out
 * of time: the statement is only slow, the connection is not known to be
 * broken. It stays, with the statement's answer collected before the next
 * one (settle()); dropping it here would cost every request of this worker
 * a reconnect, the backoff's 503s and re-preparing every statement. */
static int abandoned(struct db *db, const char *what, struct err *e)
{
    log_info("database call passed its short deadline; its answer is collected later", "statement",
             what, NULL);
    db->pending = 1;
    return err_set(e, 503, "db_timeout", "the database did not answer in time");
}

/* Wait for the socket until `deadline`. 0 ready (or EINTR), -2 timed out, -1 error. */
static int wait_socket(struct db *db, short events, long long deadline)
{
    long long left = deadline - now_ms();
    struct pollfd p = {.fd = PQsocket(db->conn), .events = events};
    int r;

    if (left <= 0)
        return -2;
    if (p.fd < 0)
        return -1;
    r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
    if (r < 0)
        return errno == EINTR ? 0 : -1;
    return r == 0 && now_ms() >= deadline ? -2 : 0;
}

/* Non-blocking connect: libpq's connect_timeout is only honoured by the
 * blocking PQconnectdb, and only per host, so the deadline is ours. (Host
 * name resolution inside PQconnectStartParams still blocks; RDS endpoints
 * resolve from the VPC resolver, and hostaddr avoids it entirely.) */
static int connect_by(struct db *db, long long deadline, struct err *e)
{
    /* Keywords before "dbname" are defaults the URL may override; those
     * after it are ours. Keepalives and tcp_user_timeout apply to TCP only. */
    static const char *const keys[] = {
        "application_name", "keepalives",       "keepalives_idle", "keepalives_interval",
        "keepalives_count", "tcp_user_timeout", "dbname",          NULL};
    const char *vals[] = {db->application_name, "1", "30", "10", "3", "15000", db->conninfo, NULL};
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;

    db->conn = PQconnectStartParams(keys, vals, 1);
    if (db->conn == NULL)
        abort(); /* libpq returns NULL only when out of memory */
    if (PQstatus(db->conn) == CONNECTION_BAD)
        return unavailable(db, e);
    for (;;) {
        int w;
        if (st == PGRES_POLLING_OK)
            break;
        if (st == PGRES_POLLING_FAILED)
            return unavailable(db, e);
        w = wait_socket(db, st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
        if (w == -2) {
            connection_failed(db, "connect deadline exceeded");
            return err_set(e, 503, "db_timeout", "the database did not answer in time");
        }
        if (w < 0)
            return unavailable(db, e);
        st = PQconnectPoll(db->conn);
    }
    if (PQsetnonblocking(db->conn, 1) != 0)
        return unavailable(db, e);
    if (db->backoff_ms != 0)
        log_info("database connected", NULL);
    db->backoff_ms = 0;
    return 0;
}

/* An idle connection has nothing to read: the pool never LISTENs, so bytes
 * (the server's FATAL goodbye) or end-of-file mean the server closed it. */
static int idle_socket_clean(struct db *db)
{
    char c;
    int fd = PQsocket(db->conn);
    ssize_t n;

    if (fd < 0)
        return 0;
    n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static PGresult *finish_query(struct db *db, const char *what, long long deadline, struct err *e);
static PGresult *collect(struct db *db, long long deadline, int *why);
static void remember_prepared(struct db *db, const char *name);

/* Collect the notifications libpq has read. */
static void drain_notifies(struct db *db)
{
    PGnotify *n;

    while ((n = PQnotifies(db->conn)) != NULL) {
        db->notified = 1;
        PQfreemem(n);
    }
}

/* LISTEN on a fresh connection (the channel was checked by db_listen). */
static int listen_now(struct db *db, long long deadline, struct err *e)
{
    char sql[96];
    PGresult *res;

    snprintf(sql, sizeof(sql), "LISTEN %s", db->listen_channel);
    if (PQsendQuery(db->conn, sql) == 0)
        return unavailable(db, e);
    if ((res = finish_query(db, "LISTEN", deadline, e)) == NULL)
        return -1;
    PQclear(res);
    /* Anything sent while we were not listening is lost: report a wakeup. */
    db->notified = 1;
    return 0;
}

/* Collect the answer of a statement a soft deadline left running, by
 * `deadline`. Not in time either: a soft call gives up again (the
 * connection stays), any other call drops it as for every deadline. */
static int settle(struct db *db, long long deadline, struct err *e)
{
    int why = 0;
    PGresult *res = collect(db, deadline, &why);

    if (res == NULL && why == -2)
        return db->soft ? err_set(e, 503, "db_timeout", "the database did not answer in time")
                        : timed_out(db, "an abandoned statement", e);
    if (res == NULL || PQstatus(db->conn) != CONNECTION_OK) {
        PQclear(res);
        return unavailable(db, e);
    }
    if (db->pending_prepare != NULL && PQresultStatus(res) == PGRES_COMMAND_OK)
        remember_prepared(db, db->pending_prepare);
    PQclear(res);
    db->pending = 0;
    db->pending_prepare = NULL;
    return 0;
}

static int ensure_by(struct db *db, long long deadline, struct err *e)
{
    int idle;

    if (db->pending && db->conn != NULL && settle(db, deadline, e) < 0)
        return -1;
    idle = db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK &&
           PQtransactionStatus(db->conn) == PQTRANS_IDLE;

    if (idle && db->listen_channel[0] != '\0') {
        /* A listening connection: what waits are notifications; reading
         * them also notices a connection the server closed. */
        if (PQconsumeInput(db->conn) == 0 || PQstatus(db->conn) != CONNECTION_OK) {
            log_info("listening database connection lost; reconnecting", NULL);
            db_disconnect(db);
        } else {
            drain_notifies(db);
        }
    } else if (idle && !idle_socket_clean(db)) {
        /* An idle connection the server closed meanwhile (a restart, a
         * failover, an idle timeout) has its goodbye waiting in the socket:
         * reading it (non-blocking) marks the connection bad, and it is
         * replaced now instead of failing the request that would use it. */
        log_info("database connection closed by the server while idle; reconnecting", NULL);
        db_disconnect(db);
    }
    if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
        return 0;
    if (db->conn != NULL)
        db_disconnect(db);
    if (now_ms() < db->next_attempt_ms)
        return err_set(e, 503, "db_unavailable", "the database is unavailable");
    {
        long long connect_deadline = now_ms() + DB_CONNECT_TIMEOUT_MS;
        if (connect_by(db, connect_deadline < deadline ? connect_deadline : deadline, e) < 0)
            return -1;
    }
    return db->listen_channel[0] != '\0' ? listen_now(db, deadline, e) : 0;
}

int db_ensure(struct db *db, int timeout_ms, struct err *e)
{
    return ensure_by(db, now_ms() + (timeout_ms > 0 ? timeout_ms : DB_CONNECT_TIMEOUT_MS), e);
}

/* Flush the query and collect all its results (keeping the last) by
 * `deadline`. On NULL, *why is -2 for the deadline, -1 for a broken
 * connection. */
static PGresult *collect(struct db *db, long long deadline, int *why)
{
    PGresult *last = NULL, *r;
    int f, w;

    while ((f = PQflush(db->conn)) == 1) {
        if ((w = wait_socket(db, POLLIN | POLLOUT, deadline)) < 0)
            return *why = w, NULL;
        if (PQconsumeInput(db->conn) == 0)
            return *why = -1, NULL;
    }
    if (f < 0)
        return *why = -1, NULL;
    for (;;) {
        if (PQconsumeInput(db->conn) == 0) {
            PQclear(last);
            return *why = -1, NULL;
        }
        if (PQisBusy(db->conn)) {
            if ((w = wait_socket(db, POLLIN, deadline)) < 0) {
                PQclear(last);
                return *why = w, NULL;
            }
            continue;
        }
        r = PQgetResult(db->conn);
        if (r == NULL)
            return last;
        PQclear(last);
        last = r;
    }
}

/* Errors a statement may end with by design, and what the client hears;
 * any other SQLSTATE is a 500 db_error, logged with the server's message. */
static const struct sqlstate_answer {
    const char *sqlstate;
    enum log_level level;
    const char *log_msg;
    int status;
    const char *code, *detail;
} expected[] = {
    /* query_canceled: the role's statement_timeout */
    {"57014", LOG_WARN, "database statement timeout", 503, "db_timeout",
     "the database did not answer in time"},
    /* unique_violation: callers that race on purpose (idempotent inserts)
     * look for this code and retry or read the winner's row */
    {"23505", LOG_DEBUG, "database unique violation", 409, "db_duplicate", "this already exists"},
    /* lock_not_available: the role's lock_timeout ran out waiting for a row
     * another request holds (a stuck transaction); retryable */
    {"55P03", LOG_WARN, "database lock timeout", 503, "db_busy",
     "the data is in use by another request; retry"},
    /* character_not_in_repertoire: text that is not UTF-8 can only have
     * come from the client (bodies and paths are not re-encoded) */
    {"22021", LOG_INFO, "text that is not UTF-8 refused", 400, "invalid_utf8",
     "the request contains text that is not UTF-8"},
    /* serialization_failure, deadlock_detected: safe to retry */
    {"40001", LOG_WARN, "database conflict", 409, "db_conflict",
     "a concurrent change conflicted; retry"},
    {"40P01", LOG_WARN, "database conflict", 409, "db_conflict",
     "a concurrent change conflicted; retry"},
};

/* Is this the foreign key from a per-learner table to users
 * ("<table>_user_id_fkey", PostgreSQL's default name)? */
static int erased_owner(const char *constraint)
{
    static const char suffix[] = "_user_id_fkey";
    size_t n = strlen(constraint), k = sizeof(suffix) - 1;
    return n > k && strcmp(constraint + n - k, suffix) == 0;
}

/* Wait for the command just sent and map failures to err. */
static PGresult *finish_query(struct db *db, const char *what, long long deadline, struct err *e)
{
    int why = 0;
    PGresult *res = collect(db, deadline, &why);
    char msg[256];

    if (res == NULL) {
        if (why == -2 && db->soft)
            abandoned(db, what, e);
        else if (why == -2)
            timed_out(db, what, e);
        else
            unavailable(db, e);
        return NULL;
    }
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return res;

    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
    char res_constraint[64];
    snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state != NULL ? state : "");
    snprintf(res_constraint, sizeof(res_constraint), "%s", constraint != NULL ? constraint : "");
    first_line(PQresultErrorMessage(res), msg, sizeof(msg));
    PQclear(res);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        connection_failed(db, msg);
        return err_set(e, 503, "db_unavailable", "the database is unavailable"), NULL;
    }
    if (strcmp(db->sqlstate, "23503") == 0 && erased_owner(res_constraint)) {
        /* foreign_key_violation on a per-learner table's user_id: the
         * learner was erased while this worker still had their id cached
         * (lib/users.h); nothing can be written for them again. */
        log_info("write for an erased learner refused", "statement", what, NULL);
        return err_set(e, 410, "account_deleted", "this account has been deleted"), NULL;
    }
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        const struct sqlstate_answer *x = &expected[i];
        if (strcmp(db->sqlstate, x->sqlstate) == 0) {
            log_write(x->level, x->log_msg, "statement", what, "sqlstate", db->sqlstate, NULL);
            return err_set(e, x->status, x->code, "%s", x->detail), NULL;
        }
    }
    log_error("database error", "statement", what, "sqlstate", db->sqlstate, "error", msg, NULL);
    return err_set(e, 500, "db_error", "internal database error"), NULL;
}

static int is_prepared(const struct db *db, const char *name)
{
    /* Statement names are string literals: the pointer usually matches. */
    for (int i = 0; i < db->nprepared; i++)
        if (db->prepared[i] == name)
            return 1;
    for (int i = 0; i < db->nprepared; i++)
        if (strcmp(db->prepared[i], name) == 0)
            return 1;
    return 0;
}

static void remember_prepared(struct db *db, const char *name)
{
    if (db->nprepared == db->cap_prepared) {
        db->cap_prepared = db->cap_prepared == 0 ? 64 : db->cap_prepared * 2;
        db->prepared = realloc(db->prepared, (size_t)db->cap_prepared * sizeof(*db->prepared));
        if (db->prepared == NULL)
            abort();
    }
    db->prepared[db->nprepared++] = name;
}

static PGresult *query_by(struct db *db, const struct db_stmt *stmt, int nparams,
                          const char *const *params, long long deadline, struct err *e)
{
    PGresult *res;

    db->sqlstate[0] = '\0';
    if (ensure_by(db, deadline, e) < 0)
        return NULL;
    if (!is_prepared(db, stmt->name)) {
        if (PQsendPrepare(db->conn, stmt->name, stmt->sql, nparams, NULL) == 0)
            return unavailable(db, e), NULL;
        res = finish_query(db, stmt->name, deadline, e);
        if (res == NULL) {
            if (db->pending)
                db->pending_prepare = stmt->name;
            return NULL;
        }
        PQclear(res);
        remember_prepared(db, stmt->name);
    }
    if (PQsendQueryPrepared(db->conn, stmt->name, nparams, params, NULL, NULL, 0) == 0)
        return unavailable(db, e), NULL;
    return finish_query(db, stmt->name, deadline, e);
}

PGresult *db_query(struct db *db, const struct db_stmt *stmt, int nparams,
                   const char *const *params, int timeout_ms, struct err *e)
{
    PGresult *res;

    /* A deadline shorter than the connection's own is soft (abandoned()),
     * outside a transaction only: one left open must not outlive a request. */
    db->soft = timeout_ms > 0 && timeout_ms < db->timeout_ms &&
               (db->conn == NULL || db->pending || PQtransactionStatus(db->conn) == PQTRANS_IDLE);
    res = query_by(db, stmt, nparams, params,
                   now_ms() + (timeout_ms > 0 ? timeout_ms : db->timeout_ms), e);
    db->soft = 0;
    return res;
}

const char *db_last_sqlstate(const struct db *db)
{
    return db->sqlstate;
}

static int simple(struct db *db, const char *sql, struct err *e)
{
    long long deadline = now_ms() + db->timeout_ms;
    PGresult *res;

    if (ensure_by(db, deadline, e) < 0)
        return -1;
    if (PQsendQuery(db->conn, sql) == 0)
        return unavailable(db, e);
    res = finish_query(db, sql, deadline, e);
    if (res == NULL)
        return -1;
    PQclear(res);
    return 0;
}

int db_begin(struct db *db, struct err *e)
{
    return simple(db, "BEGIN", e);
}
int db_commit(struct db *db, struct err *e)
{
    return simple(db, "COMMIT", e);
}

int db_rollback(struct db *db)
{
    struct err e;
    if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
        return 0;
    return simple(db, "ROLLBACK", &e);
}

int db_listen(struct db *db, const char *channel, struct err *e)
{
    size_t n = strlen(channel);

    /* An identifier, not a parameter: LISTEN takes none. */
    if (n == 0 || n >= sizeof(db->listen_channel) ||
        strspn(channel, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
        return err_set(e, 500, "db_error", "invalid notification channel");
    memcpy(db->listen_channel, channel, n + 1);
    if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
        return listen_now(db, now_ms() + db->timeout_ms, e);
    return ensure_by(db, now_ms() + DB_CONNECT_TIMEOUT_MS, e);
}

int db_wait_notify(struct db *db, int timeout_ms, struct err *e)
{
    struct pollfd p;
    int r;

    if (ensure_by(db, now_ms() + DB_CONNECT_TIMEOUT_MS, e) < 0)
        return -1;
    if (!db->notified) {
        p.fd = PQsocket(db->conn);
        p.events = POLLIN;
        p.revents = 0;
        r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno != EINTR)
            return unavailable(db, e);
        if (r <= 0)
            return 0;
        if (PQconsumeInput(db->conn) == 0 || PQstatus(db->conn) != CONNECTION_OK)
            return unavailable(db, e);
        drain_notifies(db);
    }
    r = db->notified;
    db->notified = 0;
    return r;
}

void db_request_done(struct db *db)
{
    if (db->conn == NULL)
        return;
    if (PQstatus(db->conn) != CONNECTION_OK) {
        db_disconnect(db);
        return;
    }
    if (db->pending)
        return; /* a slow statement, no transaction: its answer is collected next time */
    switch (PQtransactionStatus(db->conn)) {
    case PQTRANS_IDLE:
        return;
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR:
        log_warn("rolling back a transaction left open by a request", NULL);
        if (db_rollback(db) < 0)
            db_disconnect(db);
        return;
    default: /* active or unknown: the protocol state is not trustworthy */
        db_disconnect(db);
        return;
    }
}

const char *db_value(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return PQgetvalue(res, row, col);
}
