#include "infra/migrate.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "core/file.h"

#define MIGRATION_MAX_BYTES (8 * 1024 * 1024)

static const char create_table_sql[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                       " version integer PRIMARY KEY,"
                                       " name text NOT NULL,"
                                       " checksum text NOT NULL,"
                                       " applied_at timestamptz NOT NULL DEFAULT now(),"
                                       " duration_ms integer NOT NULL)";

void migrate_sha256_hex(const void *buf, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;

    if (EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        abort();
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0xf];
    }
    out[64] = '\0';
}

static int by_version(const void *a, const void *b)
{
    const struct migration *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

int migrate_scan(const char *dir, struct migration_set *set, struct err *e)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int cap = 0;

    set->items = NULL;
    set->count = 0;
    if (d == NULL)
        return err_set(e, 500, "migrations_missing", "cannot open %s: %s", dir, strerror(errno));
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        size_t len = strlen(n);
        struct migration *m;
        char *body;
        size_t blen;

        if (len < 10 || !isdigit((unsigned char)n[0]) || !isdigit((unsigned char)n[1]) ||
            !isdigit((unsigned char)n[2]) || !isdigit((unsigned char)n[3]) || n[4] != '_' ||
            strcmp(n + len - 4, ".sql") != 0)
            continue;
        if (len >= sizeof(m->name)) {
            closedir(d);
            migrate_set_cleanup(set);
            return err_set(e, 500, "migration_name", "migration file name too long: %s", n);
        }
        if (set->count == cap) {
            cap = cap == 0 ? 16 : cap * 2;
            set->items = realloc(set->items, (size_t)cap * sizeof(*set->items));
            if (set->items == NULL)
                abort();
        }
        m = &set->items[set->count];
        memset(m, 0, sizeof(*m));
        m->version = atoi(n);
        memcpy(m->name, n, len + 1); /* len < sizeof(m->name), checked above */
        if ((size_t)snprintf(m->path, sizeof(m->path), "%s/%s", dir, n) >= sizeof(m->path)) {
            closedir(d);
            migrate_set_cleanup(set);
            return err_set(e, 500, "migration_name", "migration path too long: %s/%s", dir, n);
        }
        body = file_read(m->path, MIGRATION_MAX_BYTES, &blen, e);
        if (body == NULL) {
            closedir(d);
            migrate_set_cleanup(set);
            return -1;
        }
        migrate_sha256_hex(body, blen, m->checksum);
        m->no_transaction = strncmp(body, "-- migrate:no-transaction", 25) == 0;
        free(body);
        set->count++;
    }
    closedir(d);
    if (set->count > 1)
        qsort(set->items, (size_t)set->count, sizeof(*set->items), by_version);
    for (int i = 1; i < set->count; i++) {
        if (set->items[i].version == set->items[i - 1].version) {
            err_set(e, 500, "migration_duplicate", "two migrations share version %04d: %s and %s",
                    set->items[i].version, set->items[i - 1].name, set->items[i].name);
            migrate_set_cleanup(set);
            return -1;
        }
    }
    return 0;
}

void migrate_set_cleanup(struct migration_set *set)
{
    free(set->items);
    set->items = NULL;
    set->count = 0;
}

static int ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

/* Index just past the quote that closes the one at sql[i] (q is ' or "),
 * or 0 when unterminated. `backslash`: E'' strings, where \ escapes. */
static size_t skip_quoted(const char *sql, size_t len, size_t i, char q, int backslash)
{
    for (size_t j = i + 1; j < len; j++) {
        if (backslash && sql[j] == '\\') {
            j++;
            continue;
        }
        if (sql[j] == q) {
            if (j + 1 < len && sql[j + 1] == q) {
                j++; /* doubled quote */
                continue;
            }
            return j + 1;
        }
    }
    return 0;
}

/* At sql[i] == '$': the length of a dollar-quote tag ($$ or $name$), or 0. */
static size_t dollar_tag(const char *sql, size_t len, size_t i)
{
    size_t j = i + 1;

    if (i > 0 && ident_char(sql[i - 1]))
        return 0; /* part of an identifier such as a$b */
    if (j < len && (isdigit((unsigned char)sql[j])))
        return 0; /* $1: a parameter */
    while (j < len && sql[j] != '$' &&
           (isalnum((unsigned char)sql[j]) || sql[j] == '_' || (unsigned char)sql[j] >= 0x80))
        j++;
    return j < len && sql[j] == '$' ? j - i + 1 : 0;
}

int migrate_split_sql(const char *sql, size_t len, struct sql_span *out, int max)
{
    size_t i = 0, start = 0, next;
    int n = 0, content = 0;

    while (i < len) {
        char c = sql[i];
        if (c == '-' && i + 1 < len && sql[i + 1] == '-') {
            while (i < len && sql[i] != '\n')
                i++;
            continue;
        }
        if (c == '/' && i + 1 < len && sql[i + 1] == '*') {
            int depth = 0;
            do {
                if (i + 1 < len && sql[i] == '/' && sql[i + 1] == '*')
                    depth++, i += 2;
                else if (i + 1 < len && sql[i] == '*' && sql[i + 1] == '/')
                    depth--, i += 2;
                else
                    i++;
            } while (depth > 0 && i < len);
            if (depth > 0)
                return -1;
            continue;
        }
        if (c == ';') {
            if (content) {
                if (n < max)
                    out[n] = (struct sql_span){start, i - start};
                n++;
            }
            start = ++i;
            content = 0;
            continue;
        }
        if (!isspace((unsigned char)c))
            content = 1;
        if (c == '\'' || c == '"') {
            int e_string = c == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                           (i < 2 || !ident_char(sql[i - 2]));
            if ((next = skip_quoted(sql, len, i, c, e_string)) == 0)
                return -1;
            i = next;
            continue;
        }
        if (c == '$') {
            size_t tag = dollar_tag(sql, len, i);
            if (tag > 0) {
                const char *end = memmem(sql + i + tag, len - i - tag, sql + i, tag);
                if (end == NULL)
                    return -1;
                i = (size_t)(end - sql) + tag;
                continue;
            }
        }
        i++;
    }
    if (content) {
        if (n < max)
            out[n] = (struct sql_span){start, len - start};
        n++;
    }
    return n;
}

static int exec_ok(PGconn *conn, const char *sql, struct err *e)
{
    PGresult *r = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        err_set(e, 500, "migration_sql", "%s", PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

struct applied {
    int version;
    char name[128];
    char checksum[65];
};

/* Load the recorded migrations. The table may not exist yet (fresh database). */
static int load_applied(PGconn *conn, struct applied **out, int *count, struct err *e)
{
    PGresult *r;
    int n;

    *out = NULL;
    *count = 0;
    r = PQexec(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        err_set(e, 500, "migration_sql", "%s", PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    n = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!n)
        return 0;
    r = PQexec(conn, "SELECT version, name, checksum FROM schema_migrations ORDER BY version");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        err_set(e, 500, "migration_sql", "%s", PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    n = PQntuples(r);
    *out = calloc((size_t)n + 1, sizeof(**out));
    if (*out == NULL)
        abort();
    for (int i = 0; i < n; i++) {
        (*out)[i].version = atoi(PQgetvalue(r, i, 0));
        snprintf((*out)[i].name, sizeof((*out)[i].name), "%s", PQgetvalue(r, i, 1));
        snprintf((*out)[i].checksum, sizeof((*out)[i].checksum), "%s", PQgetvalue(r, i, 2));
    }
    *count = n;
    PQclear(r);
    return 0;
}

static const struct migration *find_file(const struct migration_set *set, int version)
{
    for (int i = 0; i < set->count; i++)
        if (set->items[i].version == version)
            return &set->items[i];
    return NULL;
}

static int is_applied(const struct applied *a, int n, int version)
{
    for (int i = 0; i < n; i++)
        if (a[i].version == version)
            return 1;
    return 0;
}

/* Drift check: every recorded migration must still exist with its checksum. */
static int check_drift(const struct applied *a, int n, const struct migration_set *set, FILE *out,
                       struct err *e)
{
    for (int i = 0; i < n; i++) {
        const struct migration *m = find_file(set, a[i].version);
        if (m == NULL) {
            if (out != NULL)
                fprintf(out, "MISSING  %04d %s (applied, file not found)\n", a[i].version,
                        a[i].name);
            return err_set(e, 500, "migration_missing",
                           "migration %04d (%s) is applied but its file is missing", a[i].version,
                           a[i].name);
        }
        if (strcmp(m->checksum, a[i].checksum) != 0) {
            if (out != NULL)
                fprintf(out, "DRIFT    %04d %s (checksum changed after it was applied)\n",
                        m->version, m->name);
            return err_set(e, 500, "migration_drift",
                           "migration %s was changed after it was applied (recorded sha256 %.12s…, "
                           "file %.12s…); add a new migration instead of editing an applied one",
                           m->name, a[i].checksum, m->checksum);
        }
    }
    return 0;
}

int migrate_status(PGconn *conn, const struct migration_set *set, FILE *out, struct err *e)
{
    struct applied *a;
    int n, pending = 0, rc;

    if (load_applied(conn, &a, &n, e) < 0)
        return -1;
    for (int i = 0; i < set->count; i++) {
        const struct migration *m = &set->items[i];
        int done = is_applied(a, n, m->version);
        pending += !done;
        if (out != NULL)
            fprintf(out, "%-8s %04d %s\n", done ? "applied" : "pending", m->version, m->name);
    }
    rc = check_drift(a, n, set, out, e);
    free(a);
    if (rc < 0)
        return -1;
    return pending > 0 ? 1 : 0;
}

int migrate_verify(PGconn *conn, const struct migration_set *set, FILE *out, struct err *e)
{
    struct applied *a;
    int n, rc;

    if (load_applied(conn, &a, &n, e) < 0)
        return -1;
    rc = check_drift(a, n, set, out, e);
    free(a);
    if (rc == 0 && out != NULL)
        fprintf(out, "ok: %d applied migration(s) match their files\n", n);
    return rc;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A no-transaction file: one statement at a time, each in its own implicit
 * transaction (a multi-statement PQexec would be one transaction block, where
 * CREATE INDEX CONCURRENTLY is refused). */
static int exec_each(PGconn *conn, const struct migration *m, const char *body, size_t blen,
                     struct err *e)
{
    int n = migrate_split_sql(body, blen, NULL, 0), rc = 0;
    struct sql_span *spans;

    if (n < 0)
        return err_set(e, 500, "migration_sql", "unterminated quote or comment in %s", m->name);
    spans = calloc((size_t)n + 1, sizeof(*spans));
    if (spans == NULL)
        abort();
    migrate_split_sql(body, blen, spans, n);
    for (int i = 0; i < n && rc == 0; i++) {
        char *stmt = strndup(body + spans[i].off, spans[i].len);
        if (stmt == NULL)
            abort();
        if (exec_ok(conn, stmt, e) < 0) {
            char msg[sizeof(e->msg)];
            snprintf(msg, sizeof(msg), "%s", e->msg);
            /* Earlier statements stay applied; the file is not recorded and
             * runs again in full next time (see migrate.h). */
            err_set(e, 500, "migration_sql",
                    "statement %d of %d (earlier ones stay applied): %.160s", i + 1, n, msg);
            rc = -1;
        }
        free(stmt);
    }
    free(spans);
    return rc;
}

static int apply_one(PGconn *conn, const struct migration *m, FILE *out, struct err *e)
{
    static const char record_sql[] =
        "INSERT INTO schema_migrations (version, name, checksum, duration_ms) "
        "VALUES ($1::integer, $2, $3, $4::integer)";
    char version[16], duration[16], *body;
    size_t blen;
    long long t0 = mono_ms();
    const char *params[4];
    PGresult *r;

    body = file_read(m->path, MIGRATION_MAX_BYTES, &blen, e);
    if (body == NULL)
        return -1;
    /* Re-check the bytes we are about to run are the bytes we scanned. */
    char sum[65];
    migrate_sha256_hex(body, blen, sum);
    if (strcmp(sum, m->checksum) != 0) {
        free(body);
        return err_set(e, 500, "migration_changed", "%s changed while migrating", m->name);
    }

    if (!m->no_transaction && exec_ok(conn, "BEGIN", e) < 0)
        goto fail;
    /* DDL must not queue behind long transactions holding locks forever. */
    if (exec_ok(conn, "SET lock_timeout = '10s'", e) < 0)
        goto rollback;
    if (m->no_transaction ? exec_each(conn, m, body, blen, e) < 0 : exec_ok(conn, body, e) < 0) {
        char msg[300];
        snprintf(msg, sizeof(msg), "%s", e->msg);
        err_set(e, 500, "migration_failed", "%s failed: %s", m->name, msg);
        goto rollback;
    }
    snprintf(version, sizeof(version), "%d", m->version);
    snprintf(duration, sizeof(duration), "%lld", mono_ms() - t0);
    params[0] = version;
    params[1] = m->name;
    params[2] = m->checksum;
    params[3] = duration;
    r = PQexecParams(conn, record_sql, 4, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        err_set(e, 500, "migration_sql", "%s", PQresultErrorMessage(r));
        PQclear(r);
        goto rollback;
    }
    PQclear(r);
    if (!m->no_transaction && exec_ok(conn, "COMMIT", e) < 0)
        goto fail;
    exec_ok(conn, "RESET lock_timeout", e);
    free(body);
    fprintf(out, "applied  %04d %s (%s ms)\n", m->version, m->name, duration);
    return 0;

rollback:
    if (!m->no_transaction) {
        PGresult *rb = PQexec(conn, "ROLLBACK");
        PQclear(rb);
    }
fail:
    free(body);
    return -1;
}

/* Who holds the migration lock, for the error message. */
static void describe_holder(PGconn *conn, char *out, size_t outlen)
{
    char hi[16], lo[16];
    const char *params[2] = {hi, lo};
    PGresult *r;

    snprintf(hi, sizeof(hi), "%u", (unsigned)((unsigned long long)MIGRATE_LOCK_KEY >> 32));
    snprintf(lo, sizeof(lo), "%u", (unsigned)((unsigned long long)MIGRATE_LOCK_KEY & 0xffffffffu));
    r = PQexecParams(conn,
                     "SELECT a.pid, coalesce(nullif(a.application_name, ''), '?'),"
                     " coalesce(host(a.client_addr), 'local socket'),"
                     " to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
                     " FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                     " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid"
                     " AND l.objid = $2::oid AND l.objsubid = 1",
                     2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
        snprintf(out, outlen, "pid %s (%s from %s, connected %s UTC)", PQgetvalue(r, 0, 0),
                 PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3));
    else
        snprintf(out, outlen, "a session that has since ended");
    PQclear(r);
}

/* Take the session-level lock, held across the per-file transactions.
 * Another runner waits until we are done, then sees nothing pending; it
 * waits at most lock_timeout_s, never forever. It polls with
 * pg_try_advisory_lock and sleeps between tries, idle, instead of blocking
 * in pg_advisory_lock: a statement waiting for the lock holds a snapshot,
 * and CREATE INDEX CONCURRENTLY in our own run waits for every older
 * snapshot, so a blocked waiter and the index build would deadlock. */
static int take_lock(PGconn *conn, const char *const *params, int lock_timeout_s, struct err *e)
{
    struct timespec t0, t;
    char holder[256];

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        PGresult *r = PQexecParams(conn, "SELECT pg_try_advisory_lock($1::bigint)", 1, NULL, params,
                                   NULL, NULL, 0);
        int got;
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            err_set(e, 500, "migration_lock", "cannot take the migration lock: %s",
                    PQresultErrorMessage(r));
            PQclear(r);
            return -1;
        }
        got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        PQclear(r);
        if (got)
            return 0;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec >= (lock_timeout_s > 0 ? lock_timeout_s : 1)) {
            describe_holder(conn, holder, sizeof(holder));
            return err_set(e, 500, "migration_locked",
                           "another migration run holds the lock: %s; gave up after %d s", holder,
                           lock_timeout_s);
        }
        usleep(MIGRATE_LOCK_POLL_MS * 1000);
    }
}

int migrate_up(PGconn *conn, const struct migration_set *set, int dry_run, int lock_timeout_s,
               FILE *out, struct err *e)
{
    struct applied *a = NULL;
    int n = 0, applied = 0, rc = -1;
    char key[32];
    const char *params[1];
    PGresult *r;

    snprintf(key, sizeof(key), "%lld", MIGRATE_LOCK_KEY);
    params[0] = key;
    if (take_lock(conn, params, lock_timeout_s, e) < 0)
        return -1;

    /* A dry run writes nothing, not even the bookkeeping table (a missing
     * one reads as "nothing applied"). */
    if ((!dry_run && exec_ok(conn, create_table_sql, e) < 0) || load_applied(conn, &a, &n, e) < 0 ||
        check_drift(a, n, set, out, e) < 0)
        goto out;
    for (int i = 0; i < set->count; i++) {
        const struct migration *m = &set->items[i];
        if (is_applied(a, n, m->version))
            continue;
        if (dry_run) {
            fprintf(out, "would apply %04d %s\n", m->version, m->name);
            applied++;
            continue;
        }
        if (apply_one(conn, m, out, e) < 0)
            goto out;
        applied++;
    }
    if (applied == 0)
        fprintf(out, "nothing to do: %d migration(s) applied\n", n);
    rc = applied;
out:
    free(a);
    r = PQexecParams(conn, "SELECT pg_advisory_unlock($1::bigint)", 1, NULL, params, NULL, NULL, 0);
    PQclear(r);
    return rc;
}

int migrate_current_version(PGconn *conn, struct err *e)
{
    PGresult *r = PQexec(conn, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    int v;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        err_set(e, 500, "migration_sql", "%s", PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    v = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}
