#include "sks/aiusage.h"

#include <stdio.h>
#include <stdlib.h>

#define TODAY "(now() AT TIME ZONE 'UTC')::date"
#define MINUTE "date_trunc('minute', now())"

/* $1 user, $2 calls, $3 daily quota, $4 per minute (0: no window). `cur`
 * is the row as it was before (CTEs share one snapshot): when the upsert
 * refused, it tells which limit did and when that resets. */
static const struct db_stmt take_sql = {
    "aiusage_take",
    "WITH cur AS (SELECT requests, window_start, window_requests FROM ai_usage"
    "  WHERE user_id = $1::bigint AND day = " TODAY "),"
    " up AS (INSERT INTO ai_usage AS u (user_id, day, requests, window_start, window_requests)"
    "  SELECT $1::bigint, " TODAY ", $2::int, " MINUTE ","
    "   CASE WHEN $4::int > 0 THEN $2::int ELSE 0 END"
    "  WHERE $2::int <= $3::int AND ($4::int = 0 OR $2::int <= $4::int)"
    "  ON CONFLICT (user_id, day) DO UPDATE SET requests = u.requests + $2::int,"
    "   window_start = CASE WHEN $4::int = 0 THEN u.window_start ELSE " MINUTE " END,"
    "   window_requests = CASE WHEN $4::int = 0 THEN u.window_requests"
    "    WHEN u.window_start = " MINUTE " THEN u.window_requests + $2::int ELSE $2::int END"
    "  WHERE u.requests + $2::int <= $3::int AND ($4::int = 0"
    "   OR u.window_start <> " MINUTE " OR u.window_requests + $2::int <= $4::int)"
    "  RETURNING u.requests)"
    " SELECT (SELECT count(*) FROM up),"
    "  coalesce((SELECT requests FROM cur), 0) + $2::int > $3::int,"
    "  ceil(extract(epoch FROM (" TODAY " + 1)::timestamp AT TIME ZONE 'UTC' - now()))::int,"
    "  ceil(extract(epoch FROM " MINUTE " + interval '1 minute' - now()))::int"};

int aiusage_take(struct db *db, const char *user_id, int n, int daily_quota, int rate_per_minute,
                 int *retry_after_s, struct err *e)
{
    char n_s[16], quota_s[16], rate_s[16];
    const char *params[4] = {user_id, n_s, quota_s, rate_s};
    PGresult *r;
    int rc = 0;

    if (retry_after_s != NULL)
        *retry_after_s = 0;
    snprintf(n_s, sizeof(n_s), "%d", n);
    snprintf(quota_s, sizeof(quota_s), "%d", daily_quota);
    snprintf(rate_s, sizeof(rate_s), "%d", rate_per_minute);
    if ((r = db_query(db, &take_sql, 4, params, 0, e)) == NULL)
        return -1;
    if (atoi(PQgetvalue(r, 0, 0)) != 1) {
        int quota = PQgetvalue(r, 0, 1)[0] == 't';
        if (retry_after_s != NULL)
            *retry_after_s = atoi(PQgetvalue(r, 0, quota ? 2 : 3));
        if (quota)
            rc =
                err_set(e, 429, "ai_quota_exceeded",
                        "today's AI quota (%d) is used up; it resets at midnight UTC", daily_quota);
        else
            rc = err_set(e, 429, "ai_rate_limited",
                         "too many AI requests (%d per minute); try again in a minute",
                         rate_per_minute);
    }
    PQclear(r);
    return rc;
}

static const struct db_stmt tokens_sql = {
    "aiusage_tokens",
    "INSERT INTO ai_usage AS u (user_id, day, prompt_tokens, completion_tokens)"
    " VALUES ($1::bigint, " TODAY ", $2::bigint, $3::bigint)"
    " ON CONFLICT (user_id, day) DO UPDATE SET prompt_tokens = u.prompt_tokens + $2::bigint,"
    "  completion_tokens = u.completion_tokens + $3::bigint"};

int aiusage_add_tokens(struct db *db, const char *user_id, const struct ai_usage *u, struct err *e)
{
    char pt[24], ct[24];
    const char *params[3] = {user_id, pt, ct};
    PGresult *r;

    if (u->prompt_tokens <= 0 && u->completion_tokens <= 0)
        return 0;
    snprintf(pt, sizeof(pt), "%lld", u->prompt_tokens);
    snprintf(ct, sizeof(ct), "%lld", u->completion_tokens);
    if ((r = db_query(db, &tokens_sql, 3, params, 0, e)) == NULL)
        return -1;
    PQclear(r);
    return 0;
}
