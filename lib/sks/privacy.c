#include "sks/privacy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "core/log.h"
#include "infra/pgarr.h"
#include "infra/stripe.h"

/* --- The per-learner tables ---------------------------------------------
 *
 * One line per table. `where` selects the learner's rows of `table`
 * (aliased t) with users.id as $1; `drop` lists the internal keys left out
 * of the export (a text[] literal); `order` is the export order. Each row
 * is exported whole (to_jsonb), so a column added later is exported too.
 *
 *   ERASE_DELETE   the erasure deletes the rows
 *   ERASE_CASCADE  the rows go with the users row (ON DELETE CASCADE): the
 *                  app role may not delete them itself (ai_usage); counted
 *   ERASE_SQL      the erasure runs `erase`, which answers a count
 *
 * The erasure walks the list backwards (children before parents; users
 * last). ONE sections are one object (or null), the others arrays. */
struct privacy_table {
    const char *section;
    int one;
    struct db_stmt export_sql;
    struct db_stmt erase_sql;
};

#define EXPORT_SQL(table, where, drop, order)                                                      \
    "DECLARE privacy_export NO SCROLL CURSOR FOR SELECT (to_jsonb(t) - '" drop "'::text[])::text"  \
    " FROM " table " t WHERE " where " ORDER BY " order

#define ERASE_DELETE(section, one, table, where, drop, order)                                      \
    {                                                                                              \
        section, one, {"privacy_export_" section, EXPORT_SQL(table, where, drop, order)},          \
        {                                                                                          \
            "privacy_erase_" section, "DELETE FROM " table " t WHERE " where                       \
        }                                                                                          \
    }
#define ERASE_CASCADE(section, one, table, where, drop, order)                                     \
    {                                                                                              \
        section, one, {"privacy_export_" section, EXPORT_SQL(table, where, drop, order)},          \
        {                                                                                          \
            "privacy_erase_" section, "SELECT count(*) FROM " table " t WHERE " where              \
        }                                                                                          \
    }
#define ERASE_SQL(section, one, table, where, drop, order, erase)                                  \
    {                                                                                              \
        section, one, {"privacy_export_" section, EXPORT_SQL(table, where, drop, order)},          \
        {                                                                                          \
            "privacy_erase_" section, erase                                                        \
        }                                                                                          \
    }

#define OWN "t.user_id = $1"
#define OWN_SESSION "t.session_id IN (SELECT id FROM exam_sessions WHERE user_id = $1)"
#define OWN_CUSTOMER                                                                               \
    "t.customer_id IN (SELECT customer_id FROM stripe_customers WHERE user_id = $1)"

static const struct privacy_table tables[] = {
    ERASE_DELETE("account", 1, "users", "t.id = $1", "{id}", "t.id"),
    /* After the account: deleting card_states, review_days and card_flags rows
     * bumps it again (their triggers), so it goes last but for the account. */
    ERASE_DELETE("study_versions", 0, "study_versions", OWN, "{user_id}", "t.user_id"),
    ERASE_DELETE("settings", 1, "user_settings", OWN, "{user_id}", "t.user_id"),
    ERASE_DELETE("card_states", 0, "card_states", OWN, "{user_id}", "t.card_id"),
    ERASE_DELETE("review_logs", 0, "review_logs", OWN, "{id,user_id}", "t.reviewed_at, t.id"),
    ERASE_DELETE("review_days", 0, "review_days", OWN, "{user_id}", "t.day"),
    ERASE_DELETE("card_flags", 0, "card_flags", OWN, "{user_id}", "t.card_id"),
    ERASE_DELETE("exam_sessions", 0, "exam_sessions", OWN, "{user_id}", "t.started_at, t.id"),
    ERASE_DELETE("exam_answers", 0, "exam_answers", OWN_SESSION, "{}",
                 "t.session_id, t.position, t.item_id"),
    ERASE_DELETE("grading_jobs", 0, "grading_jobs", OWN, "{user_id}", "t.id"),
    ERASE_CASCADE("ai_usage", 0, "ai_usage", OWN, "{user_id}", "t.day"),
    ERASE_DELETE("stripe_customers", 0, "stripe_customers", OWN, "{user_id}", "t.created_at"),
    ERASE_DELETE("stripe_subscriptions", 0, "stripe_subscriptions", OWN_CUSTOMER, "{}",
                 "t.status_since, t.subscription_id"),
    ERASE_SQL("operator_actions", 0, "admin_audit", OWN, "{id,user_id}", "t.at, t.id",
              "SELECT privacy_redact_audit($1)"),
    ERASE_DELETE("data_exports", 0, "data_exports", OWN, "{user_id}", "t.user_id"),
};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

int privacy_sections(const char *const **names)
{
    static const char *list[NTABLES];
    for (size_t i = 0; i < NTABLES; i++)
        list[i] = tables[i].section;
    *names = list;
    return (int)NTABLES;
}

/* --- Export --------------------------------------------------------------- */

/* A fixed window: a new one starts when the old one is over an hour old.
 * The count goes up only while it is under the limit, so a learner who
 * keeps asking is not locked out longer. Returns the count after this
 * request (limit + 1: refused) and the seconds left in the window. */
static const struct db_stmt allow_sql = {
    "privacy_export_allow",
    "WITH up AS (INSERT INTO data_exports AS d (user_id, window_start, requests, last_at)"
    "  VALUES ($1, now(), 1, now())"
    "  ON CONFLICT (user_id) DO UPDATE SET"
    "   window_start = CASE WHEN d.window_start <= now() - interval '1 hour' THEN now()"
    "    ELSE d.window_start END,"
    "   requests = CASE WHEN d.window_start <= now() - interval '1 hour' THEN 1"
    "    ELSE d.requests + 1 END,"
    "   last_at = now()"
    "  WHERE d.window_start <= now() - interval '1 hour' OR d.requests < $2::int"
    "  RETURNING d.requests)"
    " SELECT (SELECT count(*) FROM up),"
    "  coalesce(ceil(extract(epoch FROM (SELECT window_start FROM data_exports WHERE user_id = $1)"
    "   + interval '1 hour' - now()))::int, 0)"};

int privacy_export_allow(struct db *db, const char *user_id, int *retry_after_s, struct err *e)
{
    char limit[16];
    const char *params[2] = {user_id, limit};
    PGresult *r;
    int rc = 0;

    *retry_after_s = 0;
    snprintf(limit, sizeof(limit), "%d", PRIVACY_EXPORTS_PER_HOUR);
    if ((r = db_query(db, &allow_sql, 2, params, 0, e)) == NULL)
        return -1;
    if (atoi(PQgetvalue(r, 0, 0)) != 1) {
        *retry_after_s = atoi(PQgetvalue(r, 0, 1));
        if (*retry_after_s < 1)
            *retry_after_s = 1;
        rc = err_set(e, 429, "export_rate_limited",
                     "at most %d exports per hour; try again in %d minutes",
                     PRIVACY_EXPORTS_PER_HOUR, (*retry_after_s + 59) / 60);
    }
    PQclear(r);
    return rc;
}

static const struct db_stmt export_mode = {
    "privacy_export_mode", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"};
/* The document's timestamps in UTC whatever the role's time zone. */
static const struct db_stmt export_start = {
    "privacy_export_start",
    "SELECT set_config('TimeZone', 'UTC', true),"
    " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"};
static const struct db_stmt export_fetch = {"privacy_export_fetch",
                                            "FETCH " PRIVACY_FETCH_ROWS " FROM privacy_export"};
static const struct db_stmt export_close = {"privacy_export_close", "CLOSE privacy_export"};

struct out {
    struct buf *b;
    privacy_write_fn write;
    void *ctx;
    int *started;
};

static int flush(struct out *o, int force, struct err *e)
{
    if (o->b->len == 0 || (!force && o->b->len < PRIVACY_FLUSH_BYTES))
        return 0;
    *o->started = 1;
    if (o->write(o->ctx, o->b->data, o->b->len) < 0)
        return err_set(e, 499, "client_gone", "the reader went away");
    buf_reset(o->b);
    return 0;
}

/* One section: "name":[rows] or "name":row|null. */
static int export_table(struct db *db, const struct privacy_table *t, const char *user_id,
                        struct out *o, struct err *e)
{
    const char *params[1] = {user_id};
    PGresult *r;
    long long rows = 0;

    if ((r = db_query(db, &t->export_sql, 1, params, 0, e)) == NULL)
        return -1;
    PQclear(r);
    buf_putc(o->b, ',');
    buf_json_string(o->b, t->section);
    buf_puts(o->b, t->one ? ":" : ":[");
    for (;;) {
        int n;
        if ((r = db_query(db, &export_fetch, 0, NULL, 0, e)) == NULL)
            return -1;
        n = PQntuples(r);
        for (int i = 0; i < n; i++, rows++) {
            if (t->one && rows > 0)
                break; /* one row by the key; never two */
            if (rows > 0)
                buf_putc(o->b, ',');
            buf_append(o->b, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0));
        }
        PQclear(r);
        if (flush(o, 0, e) < 0)
            return -1;
        if (n == 0 || (t->one && rows > 0))
            break;
    }
    if (t->one && rows == 0)
        buf_puts(o->b, "null");
    if (!t->one)
        buf_putc(o->b, ']');
    if ((r = db_query(db, &export_close, 0, NULL, 0, e)) == NULL)
        return -1;
    PQclear(r);
    return 0;
}

int privacy_export(struct db *db, const char *user_id, struct buf *b, privacy_write_fn write,
                   void *ctx, int *started, struct err *e)
{
    struct out o = {b, write, ctx, started};
    PGresult *r = NULL;

    *started = 0;
    buf_reset(b);
    if (db_begin(db, e) < 0)
        return -1;
    if ((r = db_query(db, &export_mode, 0, NULL, 0, e)) == NULL)
        goto fail;
    PQclear(r);
    if ((r = db_query(db, &export_start, 0, NULL, 0, e)) == NULL)
        goto fail;
    buf_puts(b, "{\"format\":\"" PRIVACY_EXPORT_FORMAT "\",\"exported_at\":");
    buf_json_string(b, PQgetvalue(r, 0, 1));
    PQclear(r);
    for (size_t i = 0; i < NTABLES; i++)
        if (export_table(db, &tables[i], user_id, &o, e) < 0)
            goto fail;
    if (db_commit(db, e) < 0)
        goto fail;
    buf_puts(b, ",\"complete\":true}\n");
    return flush(&o, 1, e);
fail:
    db_rollback(db);
    return -1;
}

/* --- Tombstones ----------------------------------------------------------- */

#define HASH(x) "sha256(convert_to(" x ", 'UTF8'))"

static const struct db_stmt sub_erased = {
    "privacy_sub_erased",
    "SELECT EXISTS (SELECT 1 FROM erased_ids WHERE id_sha256 = " HASH("$1::text") ")"};

int privacy_sub_erased(struct db *db, const char *sub, struct err *e)
{
    const char *params[1] = {sub};
    PGresult *r = db_query(db, &sub_erased, 1, params, 0, e);
    int erased;

    if (r == NULL)
        return -1;
    erased = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return erased;
}

/* --- Erasure -------------------------------------------------------------- */

#define FINAL_STATUSES "('canceled', 'incomplete_expired')"

static const struct db_stmt open_subs = {
    "privacy_open_subs", "SELECT s.subscription_id FROM stripe_customers c"
                         " JOIN stripe_subscriptions s ON s.customer_id = c.customer_id"
                         " WHERE c.user_id = $1 AND s.status NOT IN " FINAL_STATUSES " ORDER BY 1"};

static const struct db_stmt lock_user = {"privacy_lock_user",
                                         "SELECT 1 FROM users WHERE id = $1 FOR UPDATE"};

/* A subscription that is not final and was not cancelled above: it came
 * into being after the cancellation (a Checkout completing meanwhile). */
static const struct db_stmt new_subs = {
    "privacy_new_subs", "SELECT count(*) FROM stripe_customers c"
                        " JOIN stripe_subscriptions s ON s.customer_id = c.customer_id"
                        " WHERE c.user_id = $1 AND s.status NOT IN " FINAL_STATUSES
                        " AND s.subscription_id <> ALL ($2::text[])"};

static const struct db_stmt tombstones = {
    "privacy_tombstones",
    "INSERT INTO erased_ids (id_sha256, kind)"
    " SELECT " HASH(
        "cognito_sub") ", 'cognito_sub' FROM users WHERE id = $1"
                       " UNION SELECT " HASH(
                           "customer_id") ", 'stripe_customer' FROM stripe_customers"
                                          "  WHERE user_id = $1"
                                          " UNION SELECT " HASH(
                                              "s.subscription_id") ", 'stripe_subscription' FROM "
                                                                   "stripe_customers c"
                                                                   "  JOIN stripe_subscriptions s "
                                                                   "ON s.customer_id = "
                                                                   "c.customer_id WHERE c.user_id "
                                                                   "= $1"
                                                                   " ON CONFLICT (id_sha256) DO "
                                                                   "NOTHING"};

/* The idempotency records of events about the learner's customers and
 * subscriptions (their ids are Stripe's handles on the person). */
static const struct db_stmt erase_events = {
    "privacy_erase_events",
    "DELETE FROM stripe_events WHERE object_id IN ("
    " SELECT customer_id FROM stripe_customers WHERE user_id = $1"
    " UNION SELECT s.subscription_id FROM stripe_customers c"
    "  JOIN stripe_subscriptions s ON s.customer_id = c.customer_id WHERE c.user_id = $1)"};

static const struct db_stmt audit = {"privacy_audit",
                                     "INSERT INTO admin_audit (operator, action, user_id, detail)"
                                     " VALUES ($1, 'delete-account', NULL, $2::jsonb)"};

/* Stripe ids are [A-Za-z0-9_]; anything else is not put into a URL. */
static int stripe_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= 200)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* Cancel each subscription of the learner that is not final, at once
 * (Stripe: DELETE /v1/subscriptions/{id}; no proration, no final invoice:
 * docs/billing.md). The ids go to *ids (arena), their count to *n. */
static int cancel_subscriptions(struct db *db, const struct stripe_api *api, const char *user_id,
                                struct arena *a, const char ***ids, int *n, struct err *e)
{
    const char *params[1] = {user_id};
    PGresult *r = db_query(db, &open_subs, 1, params, 0, e);
    char path[256];
    int rows, rc = -1;

    *n = 0;
    if (r == NULL)
        return -1;
    rows = PQntuples(r);
    if (rows > PRIVACY_MAX_SUBSCRIPTIONS) {
        log_error("erasure: too many open subscriptions", "user_id", user_id, NULL);
        err_set(e, 500, "too_many_subscriptions", "this account needs support to be deleted");
        goto out;
    }
    *ids = arena_alloc(a, sizeof(**ids) * (size_t)(rows > 0 ? rows : 1));
    for (int i = 0; i < rows; i++) {
        const char *id = PQgetvalue(r, i, 0);
        cJSON *obj = NULL;
        int got;

        if (api == NULL || api->key == NULL || api->http == NULL) {
            err_set(e, 503, "billing_unconfigured",
                    "the subscription cannot be cancelled now; nothing was deleted, retry later");
            goto out;
        }
        if (!stripe_id_ok(id)) {
            log_error("erasure: a stored subscription id is not a Stripe id", "user_id", user_id,
                      NULL);
            err_set(e, 500, "bad_subscription_id", "this account needs support to be deleted");
            goto out;
        }
        snprintf(path, sizeof(path), "/v1/subscriptions/%s", id);
        got = stripe_api_delete(api, path, &obj, e);
        cJSON_Delete(obj);
        if (got < 0) {
            log_warn("erasure: cancelling the subscription failed; nothing deleted", "user_id",
                     user_id, "subscription", id, "code", e->code, NULL);
            goto out;
        }
        log_info(got == 0 ? "erasure: subscription cancelled"
                          : "erasure: subscription unknown to Stripe, taken as cancelled",
                 "user_id", user_id, "subscription", id, NULL);
        (*ids)[(*n)++] = arena_strdup(a, id);
    }
    rc = 0;
out:
    PQclear(r);
    return rc;
}

/* A statement's count: its single value, or the rows it changed. */
static long long count_of(const PGresult *r)
{
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        return PQntuples(r) == 1 && PQnfields(r) == 1 ? atoll(PQgetvalue(r, 0, 0)) : 0;
    return atoll(PQcmdTuples((PGresult *)r));
}

int privacy_erase(struct db *db, const struct stripe_api *api, const char *user_id,
                  const char *operator, const char * via, struct arena *a, struct buf *report,
                  enum privacy_erase_outcome *out, struct err *e)
{
    const char *params[2] = {user_id, NULL};
    const char **ids = NULL;
    struct pgarr arr;
    struct buf detail = {0};
    PGresult *r = NULL;
    int n = 0, rc = -1;

    *out = PRIVACY_ALREADY_ERASED;
    if (cancel_subscriptions(db, api, user_id, a, &ids, &n, e) < 0)
        return -1;
    if (db_begin(db, e) < 0)
        return -1;
    if ((r = db_query(db, &lock_user, 1, params, 0, e)) == NULL)
        goto fail;
    if (PQntuples(r) == 0) {
        /* Erased by a concurrent or earlier request. */
        PQclear(r);
        db_rollback(db);
        buf_printf(report, "{\"via\":");
        buf_json_string(report, via);
        buf_printf(report, ",\"subscriptions_cancelled\":%d,\"removed\":{}}", n);
        return 0;
    }
    PQclear(r);
    pgarr_begin(&arr);
    for (int i = 0; i < n; i++)
        pgarr_text(&arr, ids[i]);
    params[1] = pgarr_end(&arr, a);
    if ((r = db_query(db, &new_subs, 2, params, 0, e)) == NULL)
        goto fail;
    if (atoll(PQgetvalue(r, 0, 0)) > 0) {
        err_set(e, 409, "subscription_changed",
                "a subscription started meanwhile; nothing was deleted, retry");
        goto fail;
    }
    PQclear(r);
    if ((r = db_query(db, &tombstones, 1, params, 0, e)) == NULL)
        goto fail;
    PQclear(r);
    if ((r = db_query(db, &erase_events, 1, params, 0, e)) == NULL)
        goto fail;
    PQclear(r);
    buf_puts(&detail, "{\"via\":");
    buf_json_string(&detail, via);
    buf_printf(&detail, ",\"subscriptions_cancelled\":%d,\"removed\":{", n);
    for (size_t i = NTABLES; i-- > 0;) {
        if ((r = db_query(db, &tables[i].erase_sql, 1, params, 0, e)) == NULL)
            goto fail;
        buf_json_string(&detail, tables[i].section);
        buf_printf(&detail, ":%lld%s", count_of(r), i > 0 ? "," : "");
        PQclear(r);
    }
    buf_puts(&detail, "}}");
    r = NULL;
    {
        const char *ap[2] = {operator, buf_str(&detail)};
        if ((r = db_query(db, &audit, 2, ap, 0, e)) == NULL)
            goto fail;
        PQclear(r);
        r = NULL;
    }
    if (db_commit(db, e) < 0)
        goto fail;
    buf_append(report, detail.data, detail.len);
    *out = PRIVACY_ERASED;
    rc = 0;
    goto out;
fail:
    PQclear(r);
    db_rollback(db);
out:
    buf_cleanup(&detail);
    return rc;
}
