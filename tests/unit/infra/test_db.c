/*
 * test_db.c - lib/infra/db against a real PostgreSQL (needs EASYSKS_TEST_DATABASE_URL
 * for the app role and EASYSKS_TEST_ADMIN_URL for the owner; the integration
 * suite runs it against its throwaway cluster, the plain unit run skips it).
 *
 * Covers: parameters and NULLs, more prepared statements than any fixed
 * table, a failed transaction repaired before the next request, an open
 * transaction rolled back, a killed backend answered with 503 then
 * reconnected, the role's server-side timeouts (set per role, not per
 * session), the client deadline on a hung query (connection dropped, the
 * server ends the query), and a server that stops answering altogether: a
 * TCP relay in front of PostgreSQL is frozen, and calls must still come back
 * at their deadline, for queries and for reconnects.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "infra/db.h"
#include "core/log.h"
#include "tap.h"

static const struct db_stmt echo = {"t_echo", "SELECT $1::text, $2::text IS NULL"};
static const struct db_stmt pid = {"t_pid", "SELECT pg_backend_pid()"};
static const struct db_stmt bad = {"t_bad", "SELECT 1 / $1::int"};
static const struct db_stmt sleep_s = {"t_sleep", "SELECT pg_sleep($1::float8)"};
static const struct db_stmt set_local = {"t_set_local",
                                         "SELECT set_config('easysks.test', 'inside', true)"};
static const struct db_stmt get_local = {
    "t_get_local", "SELECT coalesce(current_setting('easysks.test', true), '')"};
static const struct db_stmt role_timeout = {
    "t_role_timeout", "SELECT setting, source FROM pg_settings WHERE name = 'statement_timeout'"};
static const struct db_stmt lock_hold = {"t_lock_hold", "SELECT pg_advisory_lock(4242)"};
static const struct db_stmt lock_wait = {"t_lock_wait", "SELECT pg_advisory_xact_lock(4242)"};
static const struct db_stmt short_lock = {"t_short_lock",
                                          "SELECT set_config('lock_timeout', '100', true)"};
static const struct db_stmt short_timeout = {"t_short_timeout",
                                             "SELECT set_config('statement_timeout', '200', true)"};

#define MANY 70
static char many_names[MANY][24]; /* "t_many_" and any int */
static char many_sql[MANY][32];
static struct db_stmt many[MANY];

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int backend_pid(struct db *db)
{
    struct err e;
    PGresult *r = db_query(db, &pid, 0, NULL, 0, &e);
    int p = r != NULL ? atoi(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return p;
}

/* One value from the admin connection ("" on error). */
static void admin(const char *url, const char *sql, char *out, size_t outlen)
{
    PGconn *c = PQconnectdb(url);
    PGresult *r = PQexec(c, sql);
    if (out != NULL)
        snprintf(out, outlen, "%s",
                 PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0)
                                                                          : "");
    PQclear(r);
    PQfinish(c);
}

/*
 * A TCP relay to the server's unix socket, in a child process. SIGUSR1
 * freezes it: existing connections stop moving bytes in either direction
 * and new ones are accepted and then ignored, which is what an unreachable
 * server behind a black-holing network looks like to libpq.
 */
static volatile sig_atomic_t frozen;
static void on_freeze(int sig)
{
    (void)sig;
    frozen = 1;
}

static void relay(int lfd, const char *unix_path)
{
    struct pollfd p[64];
    int peer[64], n = 1;
    char buf[16384];

    signal(SIGUSR1, on_freeze);
    p[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
    for (;;) {
        if (poll(p, (nfds_t)n, 100) < 0 && errno != EINTR)
            _exit(1);
        if (p[0].revents & POLLIN) {
            int c = accept(lfd, NULL, NULL);
            if (c >= 0 && frozen)
                continue; /* keep it open, never answer */
            if (c >= 0 && n + 2 <= 64) {
                struct sockaddr_un su = {.sun_family = AF_UNIX};
                int s = socket(AF_UNIX, SOCK_STREAM, 0);
                snprintf(su.sun_path, sizeof(su.sun_path), "%s", unix_path);
                if (s < 0 || connect(s, (struct sockaddr *)&su, sizeof(su)) < 0)
                    _exit(1);
                p[n] = (struct pollfd){.fd = c, .events = POLLIN};
                peer[n++] = s;
                p[n] = (struct pollfd){.fd = s, .events = POLLIN};
                peer[n++] = c;
            }
        }
        for (int i = 1; i < n && !frozen; i++) {
            if (p[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP))) {
                ssize_t got = read(p[i].fd, buf, sizeof(buf));
                if (got <= 0 || write(peer[i], buf, (size_t)got) != got) {
                    close(p[i].fd);
                    close(peer[i]);
                    p[i].fd = -1;
                }
            }
        }
    }
}

static pid_t start_relay(const char *admin_url, int *port)
{
    char dir[512], pgport[16], path[600];
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    pid_t child;

    admin(admin_url,
          "SELECT split_part(setting, ',', 1) FROM pg_settings"
          " WHERE name = 'unix_socket_directories'",
          dir, sizeof(dir));
    admin(admin_url, "SELECT setting FROM pg_settings WHERE name = 'port'", pgport, sizeof(pgport));
    snprintf(path, sizeof(path), "%s/.s.PGSQL.%s", dir, pgport);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 16) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &len) < 0)
        return -1;
    *port = ntohs(sa.sin_port);
    child = fork();
    if (child == 0)
        relay(lfd, path);
    close(lfd);
    return child;
}

int main(void)
{
    const char *url = getenv("EASYSKS_TEST_DATABASE_URL");
    const char *admin_url = getenv("EASYSKS_TEST_ADMIN_URL");
    struct db *db, *far, *fresh, *listener, *holder, *hard;
    struct err e;
    PGresult *r;
    char sql[128], val[64], relay_url[256];
    const char *params[2];
    int all = 1, port = 0, old;
    long long t0, took;
    pid_t relay_pid;

    if (url == NULL || admin_url == NULL) {
        printf("1..0 # SKIP needs a database: the integration suite runs it "
               "(db_library_against_postgres)\n");
        return 0;
    }
    log_set_level(LOG_ERROR);
    db = db_new(url, 2000);

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

    /* No fixed table of prepared names: the 65th statement and beyond are
     * remembered too, so their second use does not re-prepare (42P05). */
    for (int i = 0; i < MANY; i++) {
        snprintf(many_names[i], sizeof(many_names[i]), "t_many_%d", i);
        snprintf(many_sql[i], sizeof(many_sql[i]), "SELECT %d", i);
        many[i] = (struct db_stmt){many_names[i], many_sql[i]};
    }
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < MANY; i++) {
            r = db_query(db, &many[i], 0, NULL, 0, &e);
            all &= r != NULL && atoi(PQgetvalue(r, 0, 0)) == i;
            PQclear(r);
        }
    ok(all, "%d prepared statements, each used twice on one connection", MANY);

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

    /* Text that is not UTF-8 is the client's: 400, not a server error. */
    r = db_query(db, &echo, 2, (const char *[]){"caf\xe9", NULL}, 0, &e);
    ok(r == NULL && e.status == 400 && strcmp(e.code, "invalid_utf8") == 0,
       "a Latin-1 byte in a text parameter -> 400 invalid_utf8 (%s)", r == NULL ? e.code : "ok");
    PQclear(r);

    /* A lock another session holds past lock_timeout: 503 db_busy (retry),
     * and the connection stays usable. */
    holder = db_new(url, 2000);
    r = db_query(holder, &lock_hold, 0, NULL, 0, &e);
    ok(r != NULL, "another session holds a lock");
    PQclear(r);
    ok(db_begin(db, &e) == 0, "begin for a short lock timeout");
    PQclear(db_query(db, &short_lock, 0, NULL, 0, &e));
    r = db_query(db, &lock_wait, 0, NULL, 0, &e);
    ok(r == NULL && e.status == 503 && strcmp(e.code, "db_busy") == 0,
       "waiting past lock_timeout -> 503 db_busy (%s)", r == NULL ? e.code : "locked");
    PQclear(r);
    db_request_done(db);
    r = db_query(db, &echo, 2, (const char *[]){"after the lock", NULL}, 0, &e);
    ok(r != NULL, "the connection is usable after the lock timeout");
    PQclear(r);
    db_free(holder);

    /* A backend killed while the connection is idle (a restart, a failover):
     * the next query notices before using it and runs on a new connection,
     * so no request fails for it. */
    old = backend_pid(db);
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", old);
    admin(admin_url, sql, NULL, 0);
    usleep(200000); /* the backend's goodbye reaches the socket */
    r = db_query(db, &echo, 2, (const char *[]){"fresh", NULL}, 0, &e);
    ok(r != NULL && strcmp(PQgetvalue(r, 0, 0), "fresh") == 0 && backend_pid(db) != old,
       "an idle connection closed by the server is replaced before use");
    PQclear(r);

    /* A backend killed in the middle of a query: that query fails (503),
     * calls during the backoff fail fast, then a fresh connection. */
    old = backend_pid(db);
    relay_pid = fork();
    if (relay_pid == 0) {
        usleep(200000);
        snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", old);
        admin(admin_url, sql, NULL, 0);
        _exit(0);
    }
    params[0] = "3";
    r = db_query(db, &sleep_s, 1, params, 0, &e);
    waitpid(relay_pid, NULL, 0);
    ok(r == NULL && e.status == 503, "query on a backend killed under it -> 503 (%s)", e.code);
    r = db_query(db, &echo, 2, (const char *[]){"x", NULL}, 0, &e);
    ok(r == NULL && e.status == 503 && strcmp(e.code, "db_unavailable") == 0,
       "during the backoff: fail fast (%s)", r == NULL ? e.code : "answered");
    PQclear(r);
    usleep(250000);
    r = db_query(db, &echo, 2, (const char *[]){"back", NULL}, 0, &e);
    ok(r != NULL && strcmp(PQgetvalue(r, 0, 0), "back") == 0, "reconnected after the backoff");
    PQclear(r);

    /* The statement timeout comes from the role (migration 0003), not from
     * a SET on the session. */
    r = db_query(db, &role_timeout, 0, NULL, 0, &e);
    ok(r != NULL && strcmp(PQgetvalue(r, 0, 0), "5000") == 0 &&
           strcmp(PQgetvalue(r, 0, 1), "user") == 0,
       "statement_timeout is 5 s from the role (got %s from %s)", r ? PQgetvalue(r, 0, 0) : "-",
       r ? PQgetvalue(r, 0, 1) : "-");
    PQclear(r);

    /* The server cancels a statement past statement_timeout (shortened for
     * one transaction here): 503, and the connection stays usable. */
    ok(db_begin(db, &e) == 0, "begin for a short server timeout");
    PQclear(db_query(db, &short_timeout, 0, NULL, 0, &e));
    params[0] = "2";
    r = db_query(db, &sleep_s, 1, params, 0, &e);
    ok(r == NULL && e.status == 503 && strcmp(e.code, "db_timeout") == 0 &&
           strcmp(db_last_sqlstate(db), "57014") == 0,
       "server statement_timeout -> 503 db_timeout (%s)", e.code);
    db_request_done(db);
    old = backend_pid(db);
    ok(old > 0, "the same connection is usable after a server-side timeout");

    /* A soft deadline (shorter than the connection's own, as the readiness
     * check's): 503, but the connection stays, and the next call collects
     * the late answer first and runs on the same backend. */
    params[0] = "1";
    t0 = mono_ms();
    r = db_query(db, &sleep_s, 1, params, 200, &e);
    took = mono_ms() - t0;
    ok(r == NULL && e.status == 503 && strcmp(e.code, "db_timeout") == 0 && took < 1000,
       "soft deadline -> 503 db_timeout after %lld ms", took);
    db_request_done(db);
    ok(backend_pid(db) == old, "the same connection after a soft deadline (no reconnect)");
    r = db_query(db, &echo, 2, (const char *[]){"after", NULL}, 0, &e);
    ok(r != NULL && strcmp(PQgetvalue(r, 0, 0), "after") == 0, "and it answers the next query");
    PQclear(r);

    /* The connection's own deadline: the call returns, the connection is
     * dropped, and the server ends the abandoned query by itself (client
     * connection check), without a cancel request. */
    hard = db_new(url, 500);
    old = backend_pid(hard);
    params[0] = "30";
    t0 = mono_ms();
    r = db_query(hard, &sleep_s, 1, params, 0, &e);
    took = mono_ms() - t0;
    ok(r == NULL && e.status == 503 && strcmp(e.code, "db_timeout") == 0 && took < 1500,
       "client deadline -> 503 db_timeout after %lld ms", took);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE pid = %d", old);
    for (int i = 0; i < 100; i++) {
        admin(admin_url, sql, val, sizeof(val));
        if (strcmp(val, "0") == 0)
            break;
        usleep(100000);
    }
    ok(strcmp(val, "0") == 0, "the server ended the abandoned query's backend");
    usleep(250000);
    r = db_query(hard, &echo, 2, (const char *[]){"again", NULL}, 0, &e);
    ok(r != NULL && backend_pid(hard) != old, "a new connection after the abandoned query");
    PQclear(r);

    /* A server that stops answering (frozen relay): nothing may block past
     * the deadline, neither the query nor a reconnect. */
    relay_pid = start_relay(admin_url, &port);
    ok(relay_pid > 0, "relay started on port %d", port);
    snprintf(relay_url, sizeof(relay_url),
             "host=127.0.0.1 port=%d dbname=easysks user=easysks_web sslmode=disable", port);
    far = db_new(relay_url, 2000);
    r = db_query(far, &echo, 2, (const char *[]){"via relay", NULL}, 0, &e);
    ok(r != NULL && strcmp(PQgetvalue(r, 0, 0), "via relay") == 0, "a query through the relay");
    PQclear(r);
    kill(relay_pid, SIGUSR1);
    usleep(100000);
    t0 = mono_ms();
    r = db_query(far, &echo, 2, (const char *[]){"frozen", NULL}, 300, &e);
    took = mono_ms() - t0;
    ok(r == NULL && strcmp(e.code, "db_timeout") == 0 && took < 1500,
       "unresponsive server: the query gives up at its deadline (%lld ms, %s)", took, e.code);
    fresh = db_new(relay_url, 2000);
    t0 = mono_ms();
    old = db_ensure(fresh, 300, &e);
    took = mono_ms() - t0;
    ok(old < 0 && took < 1500,
       "unresponsive server: connecting gives up at its deadline (%lld ms, %s)", took, e.code);
    t0 = mono_ms();
    db_free(fresh);
    fresh = db_new(relay_url, 2000);
    r = db_query(fresh, &echo, 2, (const char *[]){"x", NULL}, 400, &e);
    took = mono_ms() - t0;
    ok(r == NULL && took < 1500, "one deadline covers connect and query (%lld ms)", took);
    db_free(fresh);
    db_free(far);
    db_free(hard);
    kill(relay_pid, SIGKILL);
    waitpid(relay_pid, NULL, 0);

    /* Notifications (easysks-jobs): a listening connection reports a
     * NOTIFY, reports nothing while there is none, and listens again after
     * the server dropped it (reporting a wakeup for what it may have
     * missed), while queries on it keep working. */
    listener = db_new(url, 2000);
    ok(db_listen(listener, "easysks_test", &e) == 0, "LISTEN");
    ok(db_wait_notify(listener, 50, &e) == 1, "a fresh listen reports one wakeup");
    t0 = mono_ms();
    ok(db_wait_notify(listener, 200, &e) == 0 && mono_ms() - t0 >= 150,
       "nothing sent: the wait times out");
    admin(admin_url, "SELECT pg_notify('easysks_test', 'a'), pg_notify('easysks_test', 'b')", NULL,
          0);
    ok(db_wait_notify(listener, 2000, &e) == 1 && db_wait_notify(listener, 50, &e) == 0,
       "two notifications: one wakeup, both consumed");
    admin(admin_url, "SELECT pg_notify('easysks_test', 'c')", NULL, 0);
    usleep(100000);
    r = db_query(listener, &echo, 2, (const char *[]){"busy", NULL}, 0, &e);
    ok(r != NULL && db_wait_notify(listener, 50, &e) == 1,
       "a notification pending while a query runs is neither lost nor taken for a goodbye");
    PQclear(r);
    old = backend_pid(listener);
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", old);
    admin(admin_url, sql, NULL, 0);
    usleep(200000);
    /* The loss is reported (-1), the reconnect waits out its backoff. */
    all = 0;
    for (int i = 0; i < 40 && all != 1; i++)
        if ((all = db_wait_notify(listener, 100, &e)) < 0)
            usleep(50000);
    ok(all == 1, "the server drops the listener: a reconnect reports a wakeup");
    admin(admin_url, "SELECT pg_notify('easysks_test', 'd')", NULL, 0);
    all = db_wait_notify(listener, 2000, &e);
    ok(all == 1 && backend_pid(listener) != old, "after the reconnect it listens again");
    ok(db_listen(listener, "bad channel; DROP", &e) == -1, "a channel that is no identifier");
    db_free(listener);

    db_free(db);
    db_free(NULL);
    return tap_done();
}
