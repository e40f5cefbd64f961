#include "db.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define DB_MAX_PREPARED 64
#define DB_BACKOFF_MIN_MS 100
#define DB_BACKOFF_MAX_MS 2000
#define DB_CONNECT_TIMEOUT_S "3"
#define DB_DEADLINE_MARGIN_MS 1000

struct db {
    PGconn *conn;
    char *conninfo;
    int statement_timeout_ms;
    long long next_attempt_ms; /* monotonic; no connect before this */
    int backoff_ms;
    const char *prepared[DB_MAX_PREPARED]; /* names prepared on `conn` */
    int nprepared;
    char sqlstate[6];
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct db *db_new(const char *conninfo, int statement_timeout_ms)
{
    struct db *db = calloc(1, sizeof(*db));
    if (db == NULL || (db->conninfo = strdup(conninfo)) == NULL)
        abort();
    db->statement_timeout_ms = statement_timeout_ms;
    return db;
}

static void db_disconnect(struct db *db)
{
    if (db->conn != NULL)
        PQfinish(db->conn);
    db->conn = NULL;
    db->nprepared = 0;
}

void db_free(struct db *db)
{
    if (db == NULL)
        return;
    db_disconnect(db);
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

/* Wait until the pending query has completed or the deadline passes. */
static int wait_ready(struct db *db, long long deadline)
{
    int fd = PQsocket(db->conn);

    for (;;) {
        if (PQconsumeInput(db->conn) == 0)
            return -1;
        if (!PQisBusy(db->conn))
            return 0;
        long long left = deadline - now_ms();
        if (left <= 0)
            return -2;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

static int flush_all(struct db *db, long long deadline)
{
    int fd = PQsocket(db->conn);
    for (;;) {
        int r = PQflush(db->conn);
        if (r == 0)
            return 0;
        if (r < 0)
            return -1;
        long long left = deadline - now_ms();
        if (left <= 0)
            return -2;
        struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
        if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
            return -1;
        if ((p.revents & POLLIN) && PQconsumeInput(db->conn) == 0)
            return -1;
    }
}

/* Collect all results of the pending command; keep the last one. */
static PGresult *collect(struct db *db, long long deadline, int *timed_out)
{
    PGresult *last = NULL, *r;

    *timed_out = 0;
    for (;;) {
        int w = wait_ready(db, deadline);
        if (w < 0) {
            *timed_out = w == -2;
            PQclear(last);
            return NULL;
        }
        r = PQgetResult(db->conn);
        if (r == NULL)
            return last;
        PQclear(last);
        last = r;
    }
}

static void cancel_query(struct db *db)
{
    char errbuf[256];
    PGcancel *c = PQgetCancel(db->conn);
    if (c != NULL) {
        PQcancel(c, errbuf, sizeof(errbuf));
        PQfreeCancel(c);
    }
}

/* Send (with PQsendQuery* already called) and wait. Maps failures to err. */
static PGresult *finish_query(struct db *db, const char *what, int timeout_ms, struct err *e)
{
    long long deadline = now_ms() + timeout_ms;
    int timed_out = 0, f;
    PGresult *res;
    char msg[256];

    f = flush_all(db, deadline);
    res = f == 0 ? collect(db, deadline, &timed_out) : NULL;
    if (f == -2)
        timed_out = 1;
    if (res == NULL) {
        if (timed_out) {
            cancel_query(db);
            connection_failed(db, "query deadline exceeded");
            err_set(e, 503, "db_timeout", "the database did not answer in time");
        } else {
            first_line(PQerrorMessage(db->conn), msg, sizeof(msg));
            connection_failed(db, msg);
            err_set(e, 503, "db_unavailable", "the database is unavailable");
        }
        return NULL;
    }
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return res;

    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state != NULL ? state : "");
    first_line(PQresultErrorMessage(res), msg, sizeof(msg));
    PQclear(res);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        connection_failed(db, msg);
        return err_set(e, 503, "db_unavailable", "the database is unavailable"), NULL;
    }
    /* 57014 = query_canceled (statement_timeout) */
    if (strcmp(db->sqlstate, "57014") == 0) {
        log_warn("database statement timeout", "statement", what, NULL);
        return err_set(e, 503, "db_timeout", "the database did not answer in time"), NULL;
    }
    log_error("database error", "statement", what, "sqlstate", db->sqlstate, "error", msg, NULL);
    return err_set(e, 500, "db_error", "internal database error"), NULL;
}

int db_ensure(struct db *db, struct err *e)
{
    /* Keywords before "dbname" are defaults the URL may override; those
     * after it are ours. */
    static const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {DB_CONNECT_TIMEOUT_S, "easysks", db->conninfo, NULL};
    char msg[256], timeout[16];
    const char *params[1];
    PGresult *res;

    if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
        return 0;
    if (db->conn != NULL)
        db_disconnect(db);
    if (now_ms() < db->next_attempt_ms)
        return err_set(e, 503, "db_unavailable", "the database is unavailable");

    db->conn = PQconnectdbParams(keys, vals, 1);
    if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
        first_line(db->conn != NULL ? PQerrorMessage(db->conn) : "out of memory", msg, sizeof(msg));
        connection_failed(db, msg);
        return err_set(e, 503, "db_unavailable", "the database is unavailable");
    }
    if (PQsetnonblocking(db->conn, 1) != 0) {
        connection_failed(db, "cannot set non-blocking mode");
        return err_set(e, 503, "db_unavailable", "the database is unavailable");
    }

    /* Server-side statement timeout for this session (parametrised). */
    snprintf(timeout, sizeof(timeout), "%d", db->statement_timeout_ms);
    params[0] = timeout;
    if (PQsendQueryParams(db->conn, "SELECT set_config('statement_timeout', $1, false)", 1, NULL,
                          params, NULL, NULL, 0) == 0) {
        first_line(PQerrorMessage(db->conn), msg, sizeof(msg));
        connection_failed(db, msg);
        return err_set(e, 503, "db_unavailable", "the database is unavailable");
    }
    res = finish_query(db, "set statement_timeout",
                       db->statement_timeout_ms + DB_DEADLINE_MARGIN_MS, e);
    if (res == NULL)
        return -1;
    PQclear(res);
    if (db->backoff_ms != 0)
        log_info("database connected", NULL);
    db->backoff_ms = 0;
    return 0;
}

static int is_prepared(const struct db *db, const char *name)
{
    for (int i = 0; i < db->nprepared; i++)
        if (db->prepared[i] == name || strcmp(db->prepared[i], name) == 0)
            return 1;
    return 0;
}

PGresult *db_query(struct db *db, const struct db_stmt *stmt, int nparams,
                   const char *const *params, int timeout_ms, struct err *e)
{
    PGresult *res;
    char msg[256];

    db->sqlstate[0] = '\0';
    if (db_ensure(db, e) < 0)
        return NULL;
    if (timeout_ms <= 0)
        timeout_ms = db->statement_timeout_ms + DB_DEADLINE_MARGIN_MS;

    if (!is_prepared(db, stmt->name)) {
        if (PQsendPrepare(db->conn, stmt->name, stmt->sql, nparams, NULL) == 0)
            goto send_failed;
        res = finish_query(db, stmt->name, timeout_ms, e);
        if (res == NULL)
            return NULL;
        PQclear(res);
        if (db->nprepared < DB_MAX_PREPARED)
            db->prepared[db->nprepared++] = stmt->name;
    }
    if (PQsendQueryPrepared(db->conn, stmt->name, nparams, params, NULL, NULL, 0) == 0)
        goto send_failed;
    return finish_query(db, stmt->name, timeout_ms, e);

send_failed:
    first_line(PQerrorMessage(db->conn), msg, sizeof(msg));
    connection_failed(db, msg);
    err_set(e, 503, "db_unavailable", "the database is unavailable");
    return NULL;
}

const char *db_last_sqlstate(const struct db *db)
{
    return db->sqlstate;
}

static int simple(struct db *db, const char *sql, struct err *e)
{
    PGresult *res;
    char msg[256];

    if (db_ensure(db, e) < 0)
        return -1;
    if (PQsendQuery(db->conn, sql) == 0) {
        first_line(PQerrorMessage(db->conn), msg, sizeof(msg));
        connection_failed(db, msg);
        return err_set(e, 503, "db_unavailable", "the database is unavailable");
    }
    res = finish_query(db, sql, db->statement_timeout_ms + DB_DEADLINE_MARGIN_MS, e);
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

void db_request_done(struct db *db)
{
    if (db->conn == NULL)
        return;
    if (PQstatus(db->conn) != CONNECTION_OK) {
        db_disconnect(db);
        return;
    }
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
