/*
 * easysks-admin - operator commands for support cases.
 *
 *   easysks-admin grant-premium (--sub SUB | --email EMAIL) --until DATE|TIME [--reason TEXT]
 *   easysks-admin revoke-premium (--sub SUB | --email EMAIL) [--reason TEXT]
 *   easysks-admin show (--sub SUB | --email EMAIL)
 *
 * grant-premium gives a learner the premium plan until the end of DATE
 * (YYYY-MM-DD, Europe/Berlin) or until an RFC 3339 TIME; a --sub that never
 * signed in gets its user row now. revoke-premium ends a manual grant. A
 * Stripe subscription is separate: this is the manual override (every command
 * prints both: the manual plan and the newest subscription). Every change
 * is written to admin_audit in the same transaction, with who ran it
 * (EASYSKS_OPERATOR, else SUDO_USER, else USER), and printed as a JSON line.
 *
 * Connects with ADMIN_DATABASE_URL, else MIGRATE_DATABASE_URL, else
 * DATABASE_URL (each also as _FILE). Exit codes: 0 done, 1 error, 2 usage,
 * 4 no such user.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>

#include "sks/billing.h"
#include "infra/config.h"
#include "core/log.h"
#include "core/timefmt.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: easysks-admin grant-premium (--sub SUB | --email EMAIL) --until DATE|TIME "
            "[--reason TEXT]\n"
            "       easysks-admin revoke-premium (--sub SUB | --email EMAIL) [--reason TEXT]\n"
            "       easysks-admin show (--sub SUB | --email EMAIL)\n");
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
    "  WHERE $1::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM target) RETURNING " SHOW_COLS "),"
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
    const char *reason = NULL, *params[5];
    char *url = NULL, errbuf[512], until_ts[64], redacted[512];
    PGconn *conn = NULL;
    PGresult *r = NULL;
    int rc = 1, n = 0;

    if (cmd == NULL)
        return usage();
    for (int i = 2; i < argc; i++) {
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
        else
            return usage();
    }
    if ((sub == NULL) == (email == NULL))
        return usage();
    if (strcmp(cmd, "grant-premium") == 0) {
        if (until == NULL || parse_until(until, until_ts, sizeof(until_ts)) < 0) {
            fprintf(stderr, "easysks-admin: --until needs YYYY-MM-DD or an RFC 3339 time\n");
            return 2;
        }
    } else if (strcmp(cmd, "revoke-premium") != 0 && strcmp(cmd, "show") != 0) {
        return usage();
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
