#include "sks/billing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "core/json.h"
#include "core/log.h"
#include "infra/stripe.h"

/* --- parsing ------------------------------------------------------------ */

static const struct {
    const char *type;
    enum billing_kind kind;
} kinds[] = {
    {"checkout.session.completed", BILLING_EVENT_CHECKOUT_COMPLETED},
    {"customer.subscription.created", BILLING_EVENT_SUB_CREATED},
    {"customer.subscription.updated", BILLING_EVENT_SUB_UPDATED},
    {"customer.subscription.deleted", BILLING_EVENT_SUB_DELETED},
    {"invoice.paid", BILLING_EVENT_INVOICE_PAID},
    {"invoice.payment_failed", BILLING_EVENT_INVOICE_FAILED},
};

static int is_sub_event(enum billing_kind k)
{
    return k == BILLING_EVENT_SUB_CREATED || k == BILLING_EVENT_SUB_UPDATED ||
           k == BILLING_EVENT_SUB_DELETED;
}

static int is_invoice_event(enum billing_kind k)
{
    return k == BILLING_EVENT_INVOICE_PAID || k == BILLING_EVENT_INVOICE_FAILED;
}

/* A string member, or the "id" of an expanded object, into out.
 * 1 copied, 0 absent or null, -1 another type or too long. */
static int get_id(const cJSON *obj, const char *key, char *out, size_t outlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    out[0] = '\0';
    if (v == NULL || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsObject(v))
        v = cJSON_GetObjectItemCaseSensitive(v, "id");
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= outlen)
        return -1;
    snprintf(out, outlen, "%s", v->valuestring);
    return 1;
}

/* A unix time member: 1 read, 0 absent or null, -1 not a positive integer. */
static int get_time(const cJSON *obj, const char *key, long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    *out = 0;
    if (v == NULL || cJSON_IsNull(v))
        return 0;
    /* Up to year 5138: anything larger is not a Stripe timestamp. */
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e11 ||
        floor(v->valuedouble) != v->valuedouble)
        return -1;
    *out = (long long)v->valuedouble;
    return 1;
}

static int invalid(struct err *e, const char *what)
{
    return err_set(e, 400, "invalid_event", "event %s", what);
}

/* customer.subscription.*: the state the object carries. */
static int parse_subscription(const cJSON *obj, struct billing_event *ev, struct err *e)
{
    const cJSON *items =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "items"), "data");
    const cJSON *item, *cancel;
    long long t;

    if (get_id(obj, "id", ev->subscription, sizeof(ev->subscription)) != 1)
        return invalid(e, "subscription has no id");
    if (get_id(obj, "customer", ev->customer, sizeof(ev->customer)) != 1)
        return invalid(e, "subscription has no customer");
    if (get_id(obj, "status", ev->status, sizeof(ev->status)) != 1 || ev->status[0] == '\0')
        return invalid(e, "subscription has no status");
    cancel = cJSON_GetObjectItemCaseSensitive(obj, "cancel_at_period_end");
    if (cancel != NULL && !cJSON_IsNull(cancel) && !cJSON_IsBool(cancel))
        return invalid(e, "subscription's cancel_at_period_end is not a boolean");
    ev->cancel_at_period_end = cJSON_IsTrue(cancel);
    /* Current API versions: the period is per item (ours have one). */
    if (items != NULL && !cJSON_IsArray(items))
        return invalid(e, "subscription's items are not a list");
    cJSON_ArrayForEach(item, items)
    {
        if (!cJSON_IsObject(item))
            return invalid(e, "subscription item is not an object");
        if (get_time(item, "current_period_end", &t) < 0)
            return invalid(e, "subscription item's current_period_end is not a time");
        if (t > ev->period_end)
            ev->period_end = t;
        if (ev->price[0] == '\0' && get_id(item, "price", ev->price, sizeof(ev->price)) < 0)
            return invalid(e, "subscription item's price has no id");
    }
    /* Versions before 2025-03-31 carried it on the subscription. */
    if (ev->period_end == 0 && get_time(obj, "current_period_end", &ev->period_end) < 0)
        return invalid(e, "subscription's current_period_end is not a time");
    if (ev->price[0] == '\0' && get_id(obj, "plan", ev->price, sizeof(ev->price)) < 0)
        return invalid(e, "subscription's plan has no id");
    return 0;
}

static int parse_invoice(const cJSON *obj, struct billing_event *ev, struct err *e)
{
    const cJSON *details = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj, "parent"), "subscription_details");

    if (get_id(obj, "customer", ev->customer, sizeof(ev->customer)) < 0)
        return invalid(e, "invoice's customer is not an id");
    if (cJSON_IsObject(details) &&
        get_id(details, "subscription", ev->subscription, sizeof(ev->subscription)) < 0)
        return invalid(e, "invoice's subscription is not an id");
    if (ev->subscription[0] == '\0' &&
        get_id(obj, "subscription", ev->subscription, sizeof(ev->subscription)) < 0)
        return invalid(e, "invoice's subscription is not an id");
    return 0;
}

int billing_event_parse(const char *body, size_t len, struct billing_event *ev, struct err *e)
{
    cJSON *root = json_parse(body, len, NULL);
    const cJSON *obj;
    int rc = -1;

    memset(ev, 0, sizeof(*ev));
    if (!cJSON_IsObject(root)) {
        invalid(e, "is not a JSON object");
        goto out;
    }
    if (get_id(root, "id", ev->id, sizeof(ev->id)) != 1 || ev->id[0] == '\0') {
        invalid(e, "has no id");
        goto out;
    }
    if (get_id(root, "type", ev->type, sizeof(ev->type)) != 1 || ev->type[0] == '\0') {
        invalid(e, "has no type");
        goto out;
    }
    if (get_time(root, "created", &ev->created) != 1) {
        invalid(e, "has no created time");
        goto out;
    }
    obj =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "data"), "object");
    if (!cJSON_IsObject(obj)) {
        invalid(e, "has no data.object");
        goto out;
    }
    if (get_id(obj, "id", ev->object_id, sizeof(ev->object_id)) < 0) {
        invalid(e, "object's id is not a string");
        goto out;
    }
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(ev->type, kinds[i].type) == 0)
            ev->kind = kinds[i].kind;
    switch (ev->kind) {
    case BILLING_EVENT_CHECKOUT_COMPLETED:
        if (get_id(obj, "client_reference_id", ev->client_reference_id,
                   sizeof(ev->client_reference_id)) < 0 ||
            get_id(obj, "customer", ev->customer, sizeof(ev->customer)) < 0 ||
            get_id(obj, "subscription", ev->subscription, sizeof(ev->subscription)) < 0 ||
            get_id(obj, "mode", ev->mode, sizeof(ev->mode)) < 0) {
            invalid(e, "checkout session has a malformed field");
            goto out;
        }
        break;
    case BILLING_EVENT_SUB_CREATED:
    case BILLING_EVENT_SUB_UPDATED:
    case BILLING_EVENT_SUB_DELETED:
        if (parse_subscription(obj, ev, e) < 0)
            goto out;
        break;
    case BILLING_EVENT_INVOICE_PAID:
    case BILLING_EVENT_INVOICE_FAILED:
        if (parse_invoice(obj, ev, e) < 0)
            goto out;
        break;
    case BILLING_EVENT_OTHER:
        break;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

/* --- the state machine -------------------------------------------------- */

static int rank_of(enum billing_kind k)
{
    switch (k) {
    case BILLING_EVENT_SUB_CREATED:
        return 1;
    case BILLING_EVENT_SUB_DELETED:
        return 3;
    default:
        return 2;
    }
}

static int status_is(const char *status, const char *const *set)
{
    for (; *set != NULL; set++)
        if (strcmp(status, *set) == 0)
            return 1;
    return 0;
}

static const char *const final_states[] = {"canceled", "incomplete_expired", NULL};

enum billing_decision billing_decide(const struct billing_sub *cur, const struct billing_event *ev,
                                     long long grace_s, struct billing_sub *next)
{
    static const char *const payable[] = {"incomplete", "past_due", "unpaid", NULL};
    static const char *const paying[] = {"active", "trialing", NULL};
    const char *status;

    if (!is_sub_event(ev->kind) && !is_invoice_event(ev->kind))
        return BILLING_DECIDE_NO_CHANGE;
    if (cur == NULL && is_invoice_event(ev->kind))
        return BILLING_DECIDE_NO_CHANGE; /* the subscription events will bring the state */
    if (cur != NULL && status_is(cur->status, final_states))
        return BILLING_DECIDE_ENDED;
    if (cur != NULL && (ev->created < cur->event_created ||
                        (ev->created == cur->event_created && rank_of(ev->kind) < cur->event_rank)))
        return BILLING_DECIDE_STALE;

    if (cur != NULL)
        *next = *cur;
    else
        memset(next, 0, sizeof(*next));
    switch (ev->kind) {
    case BILLING_EVENT_INVOICE_PAID:
        if (!status_is(cur->status, payable))
            return BILLING_DECIDE_NO_CHANGE;
        status = "active";
        break;
    case BILLING_EVENT_INVOICE_FAILED:
        if (!status_is(cur->status, paying))
            return BILLING_DECIDE_NO_CHANGE;
        status = "past_due";
        break;
    default:
        /* A deleted subscription is canceled whatever else it says. */
        status = ev->kind == BILLING_EVENT_SUB_DELETED && !status_is(ev->status, final_states)
                     ? "canceled"
                     : ev->status;
        snprintf(next->id, sizeof(next->id), "%s", ev->subscription);
        snprintf(next->customer, sizeof(next->customer), "%s", ev->customer);
        snprintf(next->price, sizeof(next->price), "%s", ev->price);
        next->period_end = ev->period_end;
        next->cancel_at_period_end = ev->cancel_at_period_end;
        break;
    }
    if (cur == NULL || strcmp(status, cur->status) != 0) {
        snprintf(next->status, sizeof(next->status), "%s", status);
        next->status_since = ev->created;
    }
    next->grace_until = strcmp(next->status, "past_due") == 0 ? next->status_since + grace_s : 0;
    next->event_created = ev->created;
    next->event_rank = rank_of(ev->kind);
    snprintf(next->event_id, sizeof(next->event_id), "%s", ev->id);
    return BILLING_DECIDE_APPLY;
}

int billing_grants_premium(const struct billing_sub *s, long long now)
{
    static const char *const paying[] = {"active", "trialing", NULL};
    return status_is(s->status, paying) ||
           (strcmp(s->status, "past_due") == 0 && s->grace_until > now);
}

const char *billing_outcome_name(enum billing_outcome o)
{
    switch (o) {
    case BILLING_APPLIED:
        return "applied";
    case BILLING_DUPLICATE:
        return "duplicate";
    case BILLING_STALE:
        return "stale";
    case BILLING_IGNORED:
        return "ignored";
    }
    return "ignored";
}

/* --- SQL ---------------------------------------------------------------- */

#define EPOCH(x) "coalesce(extract(epoch FROM " x ")::bigint, 0)"

/* Inserted first: a redelivery (also a concurrent one, which waits here for
 * the first to commit) gets no row back and stops. */
static const struct db_stmt record_event = {
    "billing_record_event", "INSERT INTO stripe_events (event_id, type, object_id, created)"
                            " VALUES ($1, $2, nullif($3, ''), to_timestamp($4::bigint))"
                            " ON CONFLICT (event_id) DO NOTHING RETURNING 1"};

static const struct db_stmt link_customer = {
    "billing_link_customer", "INSERT INTO stripe_customers (customer_id, user_id)"
                             " SELECT $1, id FROM users WHERE cognito_sub = $2"
                             " ON CONFLICT (customer_id) DO NOTHING RETURNING user_id"};

/* Why a link was not made: the learner that customer belongs to already
 * (same learner: nothing to do), or nobody with that sub. */
static const struct db_stmt customer_owner = {
    "billing_customer_owner",
    "SELECT u.cognito_sub = $2 FROM stripe_customers c JOIN users u ON u.id = c.user_id"
    " WHERE c.customer_id = $1"};

static const struct db_stmt
    lock_sub = {"billing_lock_sub",
                "SELECT customer_id, status, coalesce(price_id, ''), " EPOCH("current_period_end") ", cancel_at_period_end, " EPOCH(
                    "status_since") ", " EPOCH("grace_until") ", " EPOCH("event_created") ", "
                                                                                          "event_"
                                                                                          "rank, "
                                                                                          "event_id"
                                                                                          " FROM "
                                                                                          "stripe_"
                                                                                          "subscrip"
                                                                                          "tions "
                                                                                          "WHERE "
                                                                                          "subscrip"
                                                                                          "tion_id "
                                                                                          "= $1 "
                                                                                          "FOR "
                                                                                          "UPDATE"};

#define SUB_VALUES                                                                                 \
    "$2, $3, nullif($4, ''), to_timestamp(nullif($5::bigint, 0)), $6::boolean,"                    \
    " to_timestamp($7::bigint), to_timestamp(nullif($8::bigint, 0)), to_timestamp($9::bigint),"    \
    " $10::smallint, $11"

/* DO NOTHING: a concurrent first event of the same subscription won; the
 * caller then locks that row and decides again. */
static const struct db_stmt insert_sub = {
    "billing_insert_sub",
    "INSERT INTO stripe_subscriptions (subscription_id, customer_id, status, price_id,"
    " current_period_end, cancel_at_period_end, status_since, grace_until, event_created,"
    " event_rank, event_id) VALUES ($1, " SUB_VALUES ")"
    " ON CONFLICT (subscription_id) DO NOTHING RETURNING 1"};

static const struct db_stmt update_sub = {
    "billing_update_sub",
    "UPDATE stripe_subscriptions SET (customer_id, status, price_id, current_period_end,"
    " cancel_at_period_end, status_since, grace_until, event_created, event_rank, event_id,"
    " updated_at) = (" SUB_VALUES ", now()) WHERE subscription_id = $1 RETURNING 1"};

static const struct db_stmt customer_for_user = {
    "billing_customer_for_user",
    "SELECT coalesce((SELECT customer_id FROM stripe_customers WHERE user_id = $1::bigint"
    "  ORDER BY created_at DESC, customer_id DESC LIMIT 1), ''),"
    " EXISTS (SELECT 1 FROM stripe_customers c JOIN stripe_subscriptions s"
    "  ON s.customer_id = c.customer_id WHERE c.user_id = $1::bigint AND " BILLING_SQL_GRANTS ")"};

/* The learner behind a customer, when more than one of their
 * subscriptions grants premium now: they pay twice (two Checkout sessions
 * opened and both paid; Stripe does not prevent it for a new customer). */
static const struct db_stmt paying_twice = {
    "billing_paying_twice",
    "SELECT c.user_id::text, string_agg(s.subscription_id, ',' ORDER BY s.subscription_id)"
    " FROM stripe_customers c JOIN stripe_subscriptions s ON s.customer_id = c.customer_id"
    " WHERE c.user_id = (SELECT user_id FROM stripe_customers WHERE customer_id = $1)"
    " AND " BILLING_SQL_GRANTS " GROUP BY c.user_id HAVING count(*) > 1"};

/* Run a statement whose result we only count. Rows, or -1. */
static int exec_count(struct db *db, const struct db_stmt *st, int n, const char *const *params,
                      struct err *e)
{
    PGresult *r = db_query(db, st, n, params, 0, e);
    int rows;
    if (r == NULL)
        return -1;
    rows = PQntuples(r);
    PQclear(r);
    return rows;
}

/* The row of `id`, locked. 1 found, 0 none, -1. */
static int load_sub(struct db *db, const char *id, struct billing_sub *s, struct err *e)
{
    const char *params[1] = {id};
    PGresult *r = db_query(db, &lock_sub, 1, params, 0, e);

    if (r == NULL)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return 0;
    }
    memset(s, 0, sizeof(*s));
    snprintf(s->id, sizeof(s->id), "%s", id);
    snprintf(s->customer, sizeof(s->customer), "%s", PQgetvalue(r, 0, 0));
    snprintf(s->status, sizeof(s->status), "%s", PQgetvalue(r, 0, 1));
    snprintf(s->price, sizeof(s->price), "%s", PQgetvalue(r, 0, 2));
    s->period_end = atoll(PQgetvalue(r, 0, 3));
    s->cancel_at_period_end = strcmp(PQgetvalue(r, 0, 4), "t") == 0;
    s->status_since = atoll(PQgetvalue(r, 0, 5));
    s->grace_until = atoll(PQgetvalue(r, 0, 6));
    s->event_created = atoll(PQgetvalue(r, 0, 7));
    s->event_rank = atoi(PQgetvalue(r, 0, 8));
    snprintf(s->event_id, sizeof(s->event_id), "%s", PQgetvalue(r, 0, 9));
    PQclear(r);
    return 1;
}

/* INSERT (insert=1) or UPDATE the row. Rows written, or -1. */
static int write_sub(struct db *db, const struct billing_sub *s, int insert, struct err *e)
{
    char period[24], since[24], grace[24], created[24], rank[8];
    const char *params[11];

    snprintf(period, sizeof(period), "%lld", s->period_end);
    snprintf(since, sizeof(since), "%lld", s->status_since);
    snprintf(grace, sizeof(grace), "%lld", s->grace_until);
    snprintf(created, sizeof(created), "%lld", s->event_created);
    snprintf(rank, sizeof(rank), "%d", s->event_rank);
    params[0] = s->id;
    params[1] = s->customer;
    params[2] = s->status;
    params[3] = s->price;
    params[4] = period;
    params[5] = s->cancel_at_period_end ? "true" : "false";
    params[6] = since;
    params[7] = grace;
    params[8] = created;
    params[9] = rank;
    params[10] = s->event_id;
    return exec_count(db, insert ? &insert_sub : &update_sub, 11, params, e);
}

/* A subscription or invoice event, inside the open transaction. */
static int apply_to_subscription(struct db *db, const struct billing_event *ev, long long grace_s,
                                 enum billing_outcome *out, struct err *e)
{
    struct billing_sub cur, next;

    if (ev->subscription[0] == '\0') {
        *out = BILLING_IGNORED; /* an invoice outside any subscription */
        return 0;
    }
    /* Two rounds at most: a concurrent first event of this subscription
     * may insert the row between our look and our insert. */
    for (int round = 0; round < 2; round++) {
        int found = load_sub(db, ev->subscription, &cur, e), written;
        enum billing_decision d;

        if (found < 0)
            return -1;
        d = billing_decide(found ? &cur : NULL, ev, grace_s, &next);
        switch (d) {
        case BILLING_DECIDE_STALE:
            *out = BILLING_STALE;
            return 0;
        case BILLING_DECIDE_ENDED:
        case BILLING_DECIDE_NO_CHANGE:
            *out = BILLING_IGNORED;
            return 0;
        case BILLING_DECIDE_APPLY:
            break;
        }
        if ((written = write_sub(db, &next, !found, e)) < 0)
            return -1;
        if (written == 1) {
            *out = BILLING_APPLIED;
            return 0;
        }
    }
    return err_set(e, 503, "billing_conflict", "the subscription changed concurrently; retry");
}

static int apply_checkout(struct db *db, const struct billing_event *ev, enum billing_outcome *out,
                          struct err *e)
{
    const char *params[2] = {ev->customer, ev->client_reference_id};
    PGresult *r;
    int rows;

    *out = BILLING_IGNORED;
    /* Only subscription sessions we created name a learner. */
    if (strcmp(ev->mode, "subscription") != 0 || ev->customer[0] == '\0' ||
        ev->client_reference_id[0] == '\0')
        return 0;
    if ((rows = exec_count(db, &link_customer, 2, params, e)) < 0)
        return -1;
    if (rows == 1) {
        *out = BILLING_APPLIED;
        return 0;
    }
    if ((r = db_query(db, &customer_owner, 2, params, 0, e)) == NULL)
        return -1;
    if (PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0)
        *out = BILLING_APPLIED; /* linked already, by an earlier session */
    else if (PQntuples(r) == 1)
        log_warn("stripe customer belongs to another learner; not relinked", "event", ev->id,
                 "customer", ev->customer, NULL);
    else
        log_warn("checkout completed for an unknown learner", "event", ev->id, NULL);
    PQclear(r);
    return 0;
}

/* After the event is committed (it stands either way): an operator refunds
 * and cancels one of the subscriptions (the app-errors alarm fires on it). */
static void warn_if_paying_twice(struct db *db, const struct billing_event *ev)
{
    const char *params[1] = {ev->customer};
    struct err e = {0};
    PGresult *r = db_query(db, &paying_twice, 1, params, 0, &e);

    if (r != NULL && PQntuples(r) == 1)
        log_error("a learner pays for more than one subscription: refund and cancel one", "user_id",
                  PQgetvalue(r, 0, 0), "subscriptions", PQgetvalue(r, 0, 1), "event", ev->id, NULL);
    PQclear(r);
}

int billing_apply(struct db *db, const struct billing_event *ev, long long grace_s,
                  enum billing_outcome *out, struct err *e)
{
    char created[24];
    const char *params[4] = {ev->id, ev->type, ev->object_id, created};
    int rows;

    snprintf(created, sizeof(created), "%lld", ev->created);
    if (db_begin(db, e) < 0)
        return -1;
    if ((rows = exec_count(db, &record_event, 4, params, e)) < 0)
        goto fail;
    if (rows == 0) {
        *out = BILLING_DUPLICATE;
        db_rollback(db);
        return 0;
    }
    switch (ev->kind) {
    case BILLING_EVENT_CHECKOUT_COMPLETED:
        if (apply_checkout(db, ev, out, e) < 0)
            goto fail;
        break;
    case BILLING_EVENT_SUB_CREATED:
    case BILLING_EVENT_SUB_UPDATED:
    case BILLING_EVENT_SUB_DELETED:
    case BILLING_EVENT_INVOICE_PAID:
    case BILLING_EVENT_INVOICE_FAILED:
        if (apply_to_subscription(db, ev, grace_s, out, e) < 0)
            goto fail;
        break;
    case BILLING_EVENT_OTHER:
        *out = BILLING_IGNORED;
        break;
    }
    if (db_commit(db, e) < 0)
        goto fail;
    if (*out == BILLING_APPLIED && ev->customer[0] != '\0')
        warn_if_paying_twice(db, ev);
    return 0;
fail:
    db_rollback(db);
    return -1;
}

int billing_customer_for_user(struct db *db, const char *user_id, char customer[BILLING_ID_MAX],
                              int *subscribed, struct err *e)
{
    const char *params[1] = {user_id};
    PGresult *r = db_query(db, &customer_for_user, 1, params, 0, e);

    customer[0] = '\0';
    *subscribed = 0;
    if (r == NULL)
        return -1;
    snprintf(customer, BILLING_ID_MAX, "%s", PQgetvalue(r, 0, 0));
    *subscribed = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
    PQclear(r);
    return 0;
}

/* --- Checkout and the portal -------------------------------------------- */

void billing_checkout_form(struct buf *b, const struct billing_checkout *c)
{
    stripe_form_add(b, "mode", "subscription");
    stripe_form_add(b, "line_items[0][price]", c->price_id);
    stripe_form_add(b, "line_items[0][quantity]", "1");
    stripe_form_add(b, "client_reference_id", c->user_sub);
    /* Operators find the learner on the subscription in the dashboard. */
    stripe_form_add(b, "subscription_data[metadata][easysks_sub]", c->user_sub);
    stripe_form_add(b, "success_url", c->success_url);
    stripe_form_add(b, "cancel_url", c->cancel_url);
    if (c->customer != NULL && c->customer[0] != '\0')
        stripe_form_add(b, "customer", c->customer);
    else if (c->email != NULL && c->email[0] != '\0')
        stripe_form_add(b, "customer_email", c->email);
}

void billing_portal_form(struct buf *b, const char *customer, const char *return_url)
{
    stripe_form_add(b, "customer", customer);
    stripe_form_add(b, "return_url", return_url);
}

void billing_idempotency_key(char out[BILLING_IDEMPOTENCY_KEY_MAX], const char *purpose,
                             const char *user_id, const char *form, size_t len, long long now,
                             int window_s)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    char head[64], hexd[49];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int n = snprintf(head, sizeof(head), "%s\n%lld\n", user_id != NULL ? user_id : "",
                     window_s > 0 ? now / window_s : now);

    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, head, (size_t)n < sizeof(head) ? (size_t)n : sizeof(head) - 1) != 1 ||
        EVP_DigestUpdate(ctx, form, len) != 1 || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 ||
        mdlen < 24)
        abort(); /* SHA-256 does not fail but for lack of memory */
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < 24; i++) {
        hexd[2 * i] = hex[md[i] >> 4];
        hexd[2 * i + 1] = hex[md[i] & 15];
    }
    hexd[48] = '\0';
    snprintf(out, BILLING_IDEMPOTENCY_KEY_MAX, "easysks-%.24s-%s", purpose, hexd);
}
