/*
 * test_db.c - lib/db against a real PostgreSQL (needs EASYSKS_TEST_DATABASE_URL
 * and EASYSKS_TEST_ADMIN_URL; the integration suite runs it against its
 * throwaway cluster, the plain unit run skips it).
 *
 * Covers: prepared statements with parameters and NULLs, a failed
 * transaction repaired before the next request, an open transaction rolled
 * back, a killed backend answered with 503 then reconnected, the server-side
 * statement timeout, and the client-side deadline on a hung query.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "tap.h"

static const struct db_stmt echo = {"t_echo", "SELECT $1::text, $2::text IS NULL"};
static const struct db_stmt pid = {"t_pid", "SELECT pg_backend_pid()"};
static const struct db_stmt bad = {"t_bad", "SELECT 1 / $1::int"};
static const struct db_stmt sleep_s = {"t_sleep", "SELECT pg_sleep($1::float8)"};
static const struct db_stmt set_local = {"t_set_local",
                                         "SELECT set_config('easysks.test', 'inside', true)"};
static const struct db_stmt get_local = {
    "t_get_local", "SELECT coalesce(current_setting('easysks.test', true), '')"};

static int backend_pid(struct db *db)
{
    struct err e;
    PGresult *r = db_query(db, &pid, 0, NULL, 0, &e);
    int p = r != NULL ? atoi(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return p;
}

static void admin(const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    PQclear(PQexec(c, sql));
    PQfinish(c);
}

int main(void)
{
    const char *url = getenv("EASYSKS_TEST_DATABASE_URL");
    const char *admin_url = getenv("EASYSKS_TEST_ADMIN_URL");
    struct db *db;
    struct err e;
    PGresult *r;
    char sql[128];
    const char *params[2];

    if (url == NULL || admin_url == NULL) {
        printf("1..0 # SKIP EASYSKS_TEST_DATABASE_URL/EASYSKS_TEST_ADMIN_URL not set\n");
        return 0;
    }
    log_set_level(LOG_ERROR);
    db = db_new(url, 300);

    params[0] = "it's; DROP TABLE users; --";
    params[1] = NULL;
    r = db_query(db, &echo, 2, params, 0, &e);
    ok(r != NULL && strcmp(PQgetvalue(r, 0, 0), params[0]) == 0 &&
           strcmp(PQgetvalue(r, 0, 1), "t") == 0,
       "parameters travel as data, NULL as NULL");
    PQclear(r);
    r = db_query(db, &echo, 2, params, 0, &e);
    ok(r != NULL, "the prepared statement is reused");
    PQclear(r);

    /* A failed statement inside a transaction poisons it until rollback. */
    ok(db_begin(db, &e) == 0, "begin");
    params[0] = "0";
    r = db_query(db, &bad, 1, params, 0, &e);
    ok(r == NULL && e.status == 500 && strcmp(e.code, "db_error") == 0 &&
           strcmp(db_last_sqlstate(db), "22012") == 0,
       "division by zero -> 500 db_error, SQLSTATE kept for the log (%s)", db_last_sqlstate(db));
    ok(strstr(e.msg, "division") == NULL, "the server message does not reach the client error");
    db_request_done(db);
    r = db_query(db, &echo, 2, (const char *[]){"after", NULL}, 0, &e);
    ok(r != NULL, "the next request works after the failed transaction was rolled back");
    PQclear(r);

    /* An open transaction is rolled back at the end of the request. */
    ok(db_begin(db, &e) == 0, "begin again");
    r = db_query(db, &set_local, 0, NULL, 0, &e); /* a transaction-scoped setting */
    PQclear(r);
    db_request_done(db);
    r = db_query(db, &get_local, 0, NULL, 0, &e);
    ok(r != NULL && strcmp(PQgetvalue(r, 0, 0), "") == 0,
       "the open transaction was rolled back (setting gone)");
    PQclear(r);

    ok(db_begin(db, &e) == 0 && db_commit(db, &e) == 0, "begin and commit");

    /* A killed backend: one 503, then a fresh connection after the backoff. */
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", backend_pid(db));
    admin(admin_url, sql);
    r = db_query(db, &echo, 2, (const char *[]){"x", NULL}, 0, &e);
    ok(r == NULL && e.status == 503, "query on a killed backend -> 503 (%s)", e.code);
    r = db_query(db, &echo, 2, (const char *[]){"x", NULL}, 0, &e);
    ok(r == NULL && e.status == 503 && strcmp(e.code, "db_unavailable") == 0,
       "during the backoff: fail fast");
    usleep(250000);
    r = db_query(db, &echo, 2, (const char *[]){"back", NULL}, 0, &e);
    ok(r != NULL && strcmp(PQgetvalue(r, 0, 0), "back") == 0, "reconnected after the backoff");
    PQclear(r);

    /* Server-side statement_timeout (300 ms here). */
    params[0] = "1";
    r = db_query(db, &sleep_s, 1, params, 0, &e);
    ok(r == NULL && e.status == 503 && strcmp(e.code, "db_timeout") == 0,
       "statement_timeout -> 503 db_timeout (%s)", e.code);
    r = db_query(db, &echo, 2, (const char *[]){"ok", NULL}, 0, &e);
    ok(r != NULL, "connection still usable after a statement timeout");
    PQclear(r);

    /* Client-side deadline shorter than the server's: cancel and drop. */
    params[0] = "0.25";
    r = db_query(db, &sleep_s, 1, params, 100, &e);
    ok(r == NULL && e.status == 503 && strcmp(e.code, "db_timeout") == 0,
       "client deadline -> cancelled, 503 db_timeout");
    usleep(250000);
    r = db_query(db, &echo, 2, (const char *[]){"again", NULL}, 0, &e);
    ok(r != NULL, "a new connection after the cancelled query");
    PQclear(r);

    db_free(db);
    db_free(NULL);
    return tap_done();
}
