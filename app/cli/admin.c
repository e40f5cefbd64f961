/*
 * easysks-admin - operator commands for support cases.
 *
 *   easysks-admin grant-premium (--sub SUB | --email EMAIL) --until DATE|TIME [--reason TEXT]
 *   easysks-admin revoke-premium (--sub SUB | --email EMAIL) [--reason TEXT]
 *   easysks-admin show (--sub SUB | --email EMAIL)
 *   easysks-admin export (--sub SUB | --email EMAIL)
 *   easysks-admin delete (--sub SUB | --email EMAIL) --confirm
 *   easysks-admin flags [--limit N]
 *
 * grant-premium gives a learner the premium plan until the end of DATE
 * (YYYY-MM-DD, Europe/Berlin) or until an RFC 3339 TIME; a --sub that never
 * signed in gets its user row now. revoke-premium ends a manual grant. A
 * Stripe subscription is separate: this is the manual override (every command
 * prints both: the manual plan and the newest subscription). Every change
 * is written to admin_audit in the same transaction, with who ran it
 * (EASYSKS_OPERATOR, else SUDO_USER, else USER), and printed as a JSON line.
 * flags lists the cards learners reported (a flag with a note, "this
 * answer looks wrong"), most reports first: one line per card, then its
 * notes newest first as JSON strings (learner text, never printed raw),
 * with the user id, not the e-mail. Reading it writes nothing.
 *
 * export and delete answer a learner's request that reached support
 * (docs/privacy.md), through the same code as GET /api/me/export and
 * DELETE /api/me (lib/privacy.c): export writes the JSON document to
 * stdout; delete cancels an open Stripe subscription at once (STRIPE_API_KEY
 * or _FILE, STRIPE_API_BASE, as the pool's), then erases every row in one
 * transaction with an audit row naming the operator, and prints what it
 * did. A sub that was erased already is reported, not an error. The
 * Cognito user is the operator's to delete (docs/privacy.md).
 *
 * Connects with ADMIN_DATABASE_URL, else MIGRATE_DATABASE_URL, else
 * DATABASE_URL (each also as _FILE). Exit codes: 0 done, 1 error, 2 usage,
 * 4 no such user.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "infra/config.h"
#include "infra/db.h"
#include "infra/http.h"
#include "infra/stripe.h"
#include "sks/billing.h"
#include "sks/privacy.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: easysks-admin grant-premium (--sub SUB | --email EMAIL) --until DATE|TIME "
            "[--reason TEXT]\n"
            "       easysks-admin revoke-premium (--sub SUB | --email EMAIL) [--reason TEXT]\n"
            "       easysks-admin show (--sub SUB | --email EMAIL)\n"
            "       easysks-admin export (--sub SUB | --email EMAIL)\n"
            "       easysks-admin delete (--sub SUB | --email EMAIL) --confirm\n"
            "       easysks-admin flags [--limit N]\n");
    return 2;
}

static const char *operator_name(void)
{
    const char *names[] = {"EASYSKS_OPERATOR", "SUDO_USER", "USER"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = getenv(names[i]);
        if (v != NULL && *v != '\0')
            return v;
    }
    return "unknown";
}

/* The user's row: by sub ($1) or by e-mail ($2, case-insensitive). */
#define WHO                                                                                        \
    "(($1::text IS NOT NULL AND u.cognito_sub = $1::text) OR"                                      \
    " ($2::text IS NOT NULL AND lower(u.email) = lower($2::text)))"

#define RFC3339 "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'"

/* The manual grant (plan, premium_until), then the newest Stripe
 * subscription: support sees both sources of premium (lib/sks/users.c). */
#define SHOW_COLS                                                                                  \
    "u.id AS id, u.cognito_sub, coalesce(u.email, ''), u.plan,"                                    \
    " coalesce(to_char(u.premium_until AT TIME ZONE 'UTC', " RFC3339 "), ''),"                     \
    " coalesce((SELECT s.subscription_id || ' status=' || s.status || ' until='"                   \
    "   || coalesce(to_char((" BILLING_SQL_GRANT_END ") AT TIME ZONE 'UTC', " RFC3339 "), '-')"    \
    "   || ' grants=' || CASE WHEN " BILLING_SQL_GRANTS " THEN 'yes' ELSE 'no' END"                \
    "  FROM stripe_customers c JOIN stripe_subscriptions s ON s.customer_id = c.customer_id"       \
    "  WHERE c.user_id = u.id ORDER BY s.status_since DESC LIMIT 1), '-')"

/* A --sub that never signed in is created (a grant ahead of the first
 * login; the output says so); an --email must already be known and name
 * exactly one account (e-mail addresses are not unique: two sign-ups with
 * one unverified address). $3 until, $4 operator, $5 reason. */
static const char grant_sql[] =
    "WITH target AS (SELECT u.id FROM users u WHERE " WHO "),"
    " created AS (INSERT INTO users AS u (cognito_sub, plan, premium_until)"
    "  SELECT $1::text, 'premium', $3::timestamptz"
    "  WHERE $1::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM target)"
    "  AND NOT EXISTS (SELECT 1 FROM erased_ids"
    "   WHERE id_sha256 = sha256(convert_to($1::text, 'UTF8'))) RETURNING " SHOW_COLS "),"
    " up AS (UPDATE users u SET plan = 'premium', premium_until = $3::timestamptz"
    "  FROM target WHERE u.id = target.id AND (SELECT count(*) FROM target) = 1"
    "  RETURNING " SHOW_COLS "),"
    " res AS (SELECT * FROM up UNION ALL SELECT * FROM created),"
    " audit AS (INSERT INTO admin_audit (operator, action, user_id, detail)"
    "  SELECT $4::text, 'grant-premium', res.id, jsonb_build_object('until', $3::timestamptz,"
    "   'reason', $5::text, 'created_user', EXISTS (SELECT 1 FROM created)) FROM res)"
    " SELECT res.*, EXISTS (SELECT 1 FROM created), (SELECT count(*) FROM target) FROM res"
    " UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, false, (SELECT count(*) FROM target)"
    " WHERE (SELECT count(*) FROM target) > 1";

static const char revoke_sql[] =
    "WITH target AS (SELECT u.id FROM users u WHERE " WHO "),"
    " up AS (UPDATE users u SET plan = 'free', premium_until = NULL"
    "  FROM target WHERE u.id = target.id AND (SELECT count(*) FROM target) = 1"
    "  RETURNING " SHOW_COLS "),"
    " audit AS (INSERT INTO admin_audit (operator, action, user_id, detail)"
    "  SELECT $3::text, 'revoke-premium', up.id, jsonb_build_object('reason', $4::text) FROM up)"
    " SELECT up.*, false, (SELECT count(*) FROM target) FROM up"
    " UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, false, (SELECT count(*) FROM target)"
    " WHERE (SELECT count(*) FROM target) > 1";

static const char show_sql[] = "SELECT " SHOW_COLS " FROM users u WHERE " WHO;

/* --- export and delete (lib/privacy.c) ----------------------------------- */

static const struct db_stmt find_sql = {
    "admin_find", "SELECT u.id, count(*) OVER () FROM users u WHERE " WHO " ORDER BY u.id LIMIT 1"};

static int write_stdout(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

/* The Stripe API as the pool is configured for it, or NULL without a key
 * (an erasure that needs it then fails with nothing removed). */
static struct stripe_api *stripe_from_env(struct stripe_api *api, char **key, char *errbuf,
                                          size_t len)
{
    const char *base = getenv("STRIPE_API_BASE"), *timeout = getenv("STRIPE_TIMEOUT_MS");
    const char *env = getenv("EASYSKS_ENV");
    struct err e = {0};

    if (config_get_secret("STRIPE_API_KEY", key, errbuf, len) < 0 || *key == NULL)
        return NULL;
    memset(api, 0, sizeof(*api));
    if ((api->http = http_client_new(&e)) == NULL)
        return NULL;
    api->key = *key;
    api->base = base != NULL && *base != '\0' ? base : "https://api.stripe.com";
    api->timeout_ms = timeout != NULL && atoi(timeout) > 0 ? atoi(timeout) : 10000;
    api->allow_http = env != NULL && strcmp(env, "dev") == 0;
    return api;
}

static int privacy_command(const char *cmd, const char *url, const char *sub, const char *email)
{
    const char *params[2] = {sub, email};
    struct db *db = db_new(url, 60000);
    struct stripe_api api, *apip = NULL;
    enum privacy_erase_outcome outcome;
    struct arena a;
    struct buf b = {0};
    struct err e = {0};
    char *key = NULL, errbuf[256] = "", id[32];
    PGresult *r = NULL;
    int rc = 1, started;

    arena_init(&a, 4096);
    db_set_application_name(db, "easysks-admin");
    if ((r = db_query(db, &find_sql, 2, params, 0, &e)) == NULL) {
        fprintf(stderr, "easysks-admin: %s (%s)\n", e.msg, e.code);
        goto out;
    }
    if (PQntuples(r) == 0) {
        int erased = sub != NULL ? privacy_sub_erased(db, sub, &e) : 0;
        if (erased == 1) {
            fprintf(stderr, "easysks-admin: sub %s was erased already\n", sub);
            if (strcmp(cmd, "delete") == 0)
                printf("{\"deleted\":true,\"status\":\"already_deleted\"}\n");
            rc = strcmp(cmd, "delete") == 0 ? 0 : 4;
        } else {
            fprintf(stderr, "easysks-admin: no user with %s %s\n", sub ? "sub" : "e-mail",
                    sub ? sub : email);
            rc = 4;
        }
        goto out;
    }
    if (atoi(PQgetvalue(r, 0, 1)) > 1) {
        fprintf(stderr,
                "easysks-admin: %s accounts have the e-mail %s; nothing done. Pick one with "
                "--sub (easysks-admin show --email %s lists them)\n",
                PQgetvalue(r, 0, 1), email, email);
        rc = 4;
        goto out;
    }
    snprintf(id, sizeof(id), "%s", PQgetvalue(r, 0, 0));
    if (strcmp(cmd, "export") == 0) {
        if (privacy_export(db, id, &b, write_stdout, NULL, &started, &e) < 0 ||
            fflush(stdout) != 0) {
            fprintf(stderr, "easysks-admin: export failed: %s (%s)\n", e.msg,
                    e.code != NULL ? e.code : "stdout");
            goto out;
        }
        log_info("data export by an operator", "operator", operator_name(), "user_id", id, NULL);
        rc = 0;
        goto out;
    }
    apip = stripe_from_env(&api, &key, errbuf, sizeof(errbuf));
    if (apip == NULL && errbuf[0] != '\0') {
        fprintf(stderr, "easysks-admin: %s\n", errbuf);
        goto out;
    }
    if (privacy_erase(db, apip, id, operator_name(), "admin", &a, &b, &outcome, &e) < 0) {
        fprintf(stderr, "easysks-admin: nothing was deleted: %s (%s)\n", e.msg, e.code);
        goto out;
    }
    log_info(outcome == PRIVACY_ERASED ? "account erased by an operator" : "account erased already",
             "operator", operator_name(), "user_id", id, NULL);
    printf("{\"deleted\":true,\"status\":\"%s\",\"details\":%s}\n",
           outcome == PRIVACY_ERASED ? "deleted" : "already_deleted", buf_str(&b));
    fprintf(stderr, "easysks-admin: now delete the Cognito user too (docs/privacy.md)\n");
    rc = 0;
out:
    PQclear(r);
    if (apip != NULL)
        http_client_free(apip->http);
    config_free_secret(key);
    buf_cleanup(&b);
    arena_cleanup(&a);
    db_free(db);
    return rc;
}

/* Reported cards (flags with a note), the $1 most reported, each with its
 * notes newest first. */
static const char flags_sql[] =
    "WITH top AS (SELECT card_id, count(*) AS n, max(updated_at) AS latest FROM card_flags"
    "  WHERE note IS NOT NULL GROUP BY card_id ORDER BY n DESC, latest DESC, card_id LIMIT $1::int)"
    " SELECT top.card_id, top.n, to_char(f.updated_at AT TIME ZONE 'UTC', " RFC3339 "),"
    "  f.user_id, f.note FROM top JOIN card_flags f ON f.card_id = top.card_id"
    "  AND f.note IS NOT NULL ORDER BY top.n DESC, top.latest DESC, top.card_id, f.updated_at DESC";

/* A string as a JSON string literal on stdout: notes are learners' text. */
static void print_json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static int list_flags(PGconn *conn, const char *limit)
{
    const char *params[1] = {limit};
    PGresult *r = PQexecParams(conn, flags_sql, 1, NULL, params, NULL, NULL, 0);
    const char *last = "";
    int rc = 1;

    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "easysks-admin: %s", PQresultErrorMessage(r));
        goto out;
    }
    if (PQntuples(r) == 0)
        printf("no reported cards\n");
    for (int i = 0; i < PQntuples(r); i++) {
        if (strcmp(last, PQgetvalue(r, i, 0)) != 0) {
            last = PQgetvalue(r, i, 0);
            printf("card %s reports=%s\n", last, PQgetvalue(r, i, 1));
        }
        printf("  %s user=%s ", PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
        print_json_string(PQgetvalue(r, i, 4));
        putchar('\n');
    }
    rc = 0;
out:
    PQclear(r);
    return rc;
}

/* End of a calendar day in Berlin, or an RFC 3339 instant as given. */
static int parse_until(const char *s, char *out, size_t len)
{
    long long us;
    int y, m, d;

    if (timefmt_parse_date(s, &y, &m, &d) == 0) {
        snprintf(out, len, "%04d-%02d-%02d 24:00:00 Europe/Berlin", y, m, d);
        return 0;
    }
    if (timefmt_parse(s, &us) == 0) {
        snprintf(out, len, "%s", s);
        return 0;
    }
    return -1;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL, *sub = NULL, *email = NULL, *until = NULL;
    const char *reason = NULL, *limit = "50", *params[5];
    char *url = NULL, errbuf[512], until_ts[64], redacted[512];
    PGconn *conn = NULL;
    PGresult *r = NULL;
    int rc = 1, n = 0, confirm = 0;

    if (cmd == NULL)
        return usage();
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--confirm") == 0) {
            confirm = 1;
            continue;
        }
        if (i + 1 >= argc)
            return usage();
        if (strcmp(argv[i], "--sub") == 0)
            sub = argv[++i];
        else if (strcmp(argv[i], "--email") == 0)
            email = argv[++i];
        else if (strcmp(argv[i], "--until") == 0)
            until = argv[++i];
        else if (strcmp(argv[i], "--reason") == 0)
            reason = argv[++i];
        else if (strcmp(argv[i], "--limit") == 0 && strcmp(cmd, "flags") == 0)
            limit = argv[++i];
        else
            return usage();
    }
    if (strcmp(cmd, "flags") == 0) {
        char *end;
        long v = strtol(limit, &end, 10);
        if (sub != NULL || email != NULL || *limit == '\0' || *end != '\0' || v < 1 || v > 10000)
            return usage();
    } else if ((sub == NULL) == (email == NULL)) {
        return usage();
    }
    if (strcmp(cmd, "grant-premium") == 0) {
        if (until == NULL || parse_until(until, until_ts, sizeof(until_ts)) < 0) {
            fprintf(stderr, "easysks-admin: --until needs YYYY-MM-DD or an RFC 3339 time\n");
            return 2;
        }
    } else if (strcmp(cmd, "revoke-premium") != 0 && strcmp(cmd, "show") != 0 &&
               strcmp(cmd, "export") != 0 && strcmp(cmd, "delete") != 0 &&
               strcmp(cmd, "flags") != 0) {
        return usage();
    }
    if (strcmp(cmd, "delete") == 0 && !confirm) {
        fprintf(stderr, "easysks-admin: delete erases the account for good; add --confirm\n");
        return 2;
    }

    log_set_process("admin");
    if (config_get_secret("ADMIN_DATABASE_URL", &url, errbuf, sizeof(errbuf)) < 0 ||
        (url == NULL &&
         config_get_secret("MIGRATE_DATABASE_URL", &url, errbuf, sizeof(errbuf)) < 0) ||
        (url == NULL && config_get_secret("DATABASE_URL", &url, errbuf, sizeof(errbuf)) < 0)) {
        fprintf(stderr, "easysks-admin: %s\n", errbuf);
        return 1;
    }
    if (url == NULL) {
        fprintf(stderr, "easysks-admin: ADMIN_DATABASE_URL, MIGRATE_DATABASE_URL or DATABASE_URL "
                        "is required\n");
        return 1;
    }
    if (strcmp(cmd, "export") == 0 || strcmp(cmd, "delete") == 0) {
        rc = privacy_command(cmd, url, sub, email);
        config_free_secret(url);
        return rc;
    }
    {
        const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
        const char *vals[] = {"10", "easysks-admin", url, NULL};
        conn = PQconnectdbParams(keys, vals, 1);
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        log_redact_url(url, redacted, sizeof(redacted));
        fprintf(stderr, "easysks-admin: cannot connect to %s: %s", redacted, PQerrorMessage(conn));
        goto out;
    }

    if (strcmp(cmd, "flags") == 0) {
        rc = list_flags(conn, limit);
        goto out;
    }
    params[0] = sub;
    params[1] = email;
    if (strcmp(cmd, "grant-premium") == 0) {
        params[2] = until_ts;
        params[3] = operator_name();
        params[4] = reason;
        r = PQexecParams(conn, grant_sql, 5, NULL, params, NULL, NULL, 0);
    } else if (strcmp(cmd, "revoke-premium") == 0) {
        params[2] = operator_name();
        params[3] = reason;
        r = PQexecParams(conn, revoke_sql, 4, NULL, params, NULL, NULL, 0);
    } else {
        r = PQexecParams(conn, show_sql, 2, NULL, params, NULL, NULL, 0);
    }
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "easysks-admin: %s", PQresultErrorMessage(r));
        goto out;
    }
    n = PQntuples(r);
    if (n == 1 && strcmp(cmd, "show") != 0 && atoi(PQgetvalue(r, 0, 7)) > 1) {
        fprintf(stderr,
                "easysks-admin: %s accounts have the e-mail %s; nothing changed. Pick one with "
                "--sub (easysks-admin show --email %s lists them)\n",
                PQgetvalue(r, 0, 7), email, email);
        rc = 4;
        goto out;
    }
    if (n == 0) {
        fprintf(stderr, "easysks-admin: no user with %s %s%s\n", sub ? "sub" : "e-mail",
                sub ? sub : email,
                sub ? ""
                    : " (e-mail is known once the learner signed in with an id token; use --sub)");
        rc = 4;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        if (strcmp(cmd, "show") != 0)
            log_info(strcmp(cmd, "grant-premium") == 0 ? "premium granted" : "premium revoked",
                     "operator", operator_name(), "user_id", PQgetvalue(r, i, 0), "sub",
                     PQgetvalue(r, i, 1), "premium_until", PQgetvalue(r, i, 4), "reason",
                     reason != NULL ? reason : "", NULL);
        printf("user %s sub=%s email=%s plan=%s premium_until=%s subscription=%s\n",
               PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
               *PQgetvalue(r, i, 4) ? PQgetvalue(r, i, 4) : "-", PQgetvalue(r, i, 5));
        if (strcmp(cmd, "grant-premium") == 0 && strcmp(PQgetvalue(r, i, 6), "t") == 0)
            fprintf(stderr,
                    "easysks-admin: note: sub %s has never signed in; its user row was "
                    "created now (check the sub if that is unexpected)\n",
                    PQgetvalue(r, i, 1));
    }
    rc = 0;
out:
    PQclear(r);
    PQfinish(conn);
    config_free_secret(url);
    return rc;
}
