/*
 * test_billing.c - lib/sks/billing without a database: parsing events of the
 * current and the pre-2025 API shapes (and refusing malformed ones), the
 * subscription state machine (ordering by created and rank, ties, final
 * states, invoice transitions, the past_due grace, every arrival order of
 * created/updated/deleted ending where in-order delivery ends), the premium
 * rule, the Checkout and portal forms and the idempotency keys. The SQL is
 * exercised through nginx by tests/integration/t_billing.sh.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sks/billing.h"
#include "core/log.h"
#include "tap.h"

#define GRACE (72 * 3600LL)

static struct billing_event ev;
static struct err e;

/* Parse `json`; returns 0 or -1 (e holds the error). */
__attribute__((format(printf, 1, 2))) static int parse(const char *fmt, ...)
{
    char body[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    err_clear(&e);
    return billing_event_parse(body, strlen(body), &ev, &e);
}

static void parsing(void)
{
    ok(parse("{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"customer.subscription.updated\","
             "\"created\":1700000100,\"data\":{\"object\":{\"id\":\"sub_1\",\"object\":"
             "\"subscription\",\"customer\":\"cus_1\",\"status\":\"active\","
             "\"cancel_at_period_end\":true,\"items\":{\"object\":\"list\",\"data\":[{\"id\":"
             "\"si_1\",\"current_period_end\":1702592100,\"price\":{\"id\":\"price_A\"}}]}}}}") ==
               0 &&
           ev.kind == BILLING_EVENT_SUB_UPDATED && strcmp(ev.id, "evt_1") == 0 &&
           ev.created == 1700000100 && strcmp(ev.subscription, "sub_1") == 0 &&
           strcmp(ev.customer, "cus_1") == 0 && strcmp(ev.status, "active") == 0 &&
           ev.period_end == 1702592100 && strcmp(ev.price, "price_A") == 0 &&
           ev.cancel_at_period_end == 1 && strcmp(ev.object_id, "sub_1") == 0,
       "subscription event, current shape: period end and price from the item");

    ok(parse("{\"id\":\"evt_2\",\"type\":\"customer.subscription.created\",\"created\":1700000000,"
             "\"data\":{\"object\":{\"id\":\"sub_2\",\"customer\":{\"id\":\"cus_2\",\"object\":"
             "\"customer\"},\"status\":\"trialing\",\"current_period_end\":1701000000,\"plan\":"
             "{\"id\":\"price_B\"},\"items\":{\"data\":[]}}}}") == 0 &&
           ev.kind == BILLING_EVENT_SUB_CREATED && strcmp(ev.customer, "cus_2") == 0 &&
           ev.period_end == 1701000000 && strcmp(ev.price, "price_B") == 0 &&
           ev.cancel_at_period_end == 0,
       "pre-2025 shape: period end and plan on the subscription, customer expanded");

    ok(parse("{\"id\":\"evt_3\",\"type\":\"customer.subscription.updated\",\"created\":1700000000,"
             "\"data\":{\"object\":{\"id\":\"sub_3\",\"customer\":\"cus_3\",\"status\":\"active\","
             "\"current_period_end\":1600000000,\"items\":{\"data\":[{\"current_period_end\":"
             "1702000000,\"price\":\"price_C\"},{\"current_period_end\":1703000000}]}}}}") == 0 &&
           ev.period_end == 1703000000 && strcmp(ev.price, "price_C") == 0,
       "several items: the latest period end wins over the subscription's, first price");

    ok(parse("{\"id\":\"evt_4\",\"type\":\"checkout.session.completed\",\"created\":1700000000,"
             "\"data\":{\"object\":{\"id\":\"cs_1\",\"object\":\"checkout.session\",\"mode\":"
             "\"subscription\",\"client_reference_id\":\"sub-of-learner\",\"customer\":\"cus_4\","
             "\"subscription\":\"sub_4\"}}}") == 0 &&
           ev.kind == BILLING_EVENT_CHECKOUT_COMPLETED &&
           strcmp(ev.client_reference_id, "sub-of-learner") == 0 &&
           strcmp(ev.customer, "cus_4") == 0 && strcmp(ev.subscription, "sub_4") == 0 &&
           strcmp(ev.mode, "subscription") == 0,
       "checkout.session.completed");
    ok(parse("{\"id\":\"evt_5\",\"type\":\"checkout.session.completed\",\"created\":1700000000,"
             "\"data\":{\"object\":{\"id\":\"cs_2\",\"mode\":\"payment\",\"client_reference_id\":"
             "null,\"customer\":null}}}") == 0 &&
           ev.client_reference_id[0] == '\0' && ev.customer[0] == '\0',
       "checkout session with nulls parses (and will be ignored)");

    ok(parse(
           "{\"id\":\"evt_6\",\"type\":\"invoice.paid\",\"created\":1700000000,\"data\":{"
           "\"object\":{\"id\":\"in_1\",\"customer\":\"cus_1\",\"parent\":{\"type\":"
           "\"subscription_details\",\"subscription_details\":{\"subscription\":\"sub_1\"}}}}}") ==
               0 &&
           ev.kind == BILLING_EVENT_INVOICE_PAID && strcmp(ev.subscription, "sub_1") == 0,
       "invoice.paid: subscription from parent.subscription_details");
    ok(parse("{\"id\":\"evt_7\",\"type\":\"invoice.payment_failed\",\"created\":1700000000,"
             "\"data\":{\"object\":{\"id\":\"in_2\",\"customer\":\"cus_1\",\"subscription\":{"
             "\"id\":\"sub_7\"}}}}") == 0 &&
           ev.kind == BILLING_EVENT_INVOICE_FAILED && strcmp(ev.subscription, "sub_7") == 0,
       "invoice.payment_failed: legacy subscription field, expanded");
    ok(parse("{\"id\":\"evt_8\",\"type\":\"invoice.paid\",\"created\":1700000000,\"data\":{"
             "\"object\":{\"id\":\"in_3\",\"parent\":null}}}") == 0 &&
           ev.subscription[0] == '\0',
       "an invoice outside a subscription parses with no subscription");
    ok(parse("{\"id\":\"evt_9\",\"type\":\"charge.refunded\",\"created\":1700000000,\"data\":{"
             "\"object\":{\"id\":\"ch_1\",\"amount\":5}}}") == 0 &&
           ev.kind == BILLING_EVENT_OTHER,
       "an unknown type parses as other");

    /* Refused: 400 invalid_event. */
    {
        static const char *const bad[][2] = {
            {"not json", "not JSON"},
            {"[1]", "an array"},
            {"{\"type\":\"invoice.paid\",\"created\":1,\"data\":{\"object\":{}}}", "no id"},
            {"{\"id\":\"\",\"type\":\"invoice.paid\",\"created\":1,\"data\":{\"object\":{}}}",
             "empty id"},
            {"{\"id\":7,\"type\":\"invoice.paid\",\"created\":1,\"data\":{\"object\":{}}}",
             "numeric id"},
            {"{\"id\":\"evt\",\"created\":1,\"data\":{\"object\":{}}}", "no type"},
            {"{\"id\":\"evt\",\"type\":\"x\",\"data\":{\"object\":{}}}", "no created"},
            {"{\"id\":\"evt\",\"type\":\"x\",\"created\":\"1700000000\",\"data\":{\"object\":{}}}",
             "created as a string"},
            {"{\"id\":\"evt\",\"type\":\"x\",\"created\":1700000000.5,\"data\":{\"object\":{}}}",
             "fractional created"},
            {"{\"id\":\"evt\",\"type\":\"x\",\"created\":-5,\"data\":{\"object\":{}}}",
             "negative created"},
            {"{\"id\":\"evt\",\"type\":\"x\",\"created\":1e300,\"data\":{\"object\":{}}}",
             "huge created"},
            {"{\"id\":\"evt\",\"type\":\"x\",\"created\":1}", "no data"},
            {"{\"id\":\"evt\",\"type\":\"x\",\"created\":1,\"data\":{\"object\":[]}}",
             "object not an object"},
            {"{\"id\":\"evt\",\"type\":\"customer.subscription.updated\",\"created\":1,\"data\":{"
             "\"object\":{\"id\":\"sub\",\"customer\":\"cus\"}}}",
             "subscription without status"},
            {"{\"id\":\"evt\",\"type\":\"customer.subscription.updated\",\"created\":1,\"data\":{"
             "\"object\":{\"id\":\"sub\",\"status\":\"active\"}}}",
             "subscription without customer"},
            {"{\"id\":\"evt\",\"type\":\"customer.subscription.deleted\",\"created\":1,\"data\":{"
             "\"object\":{\"customer\":\"cus\",\"status\":\"canceled\"}}}",
             "subscription without id"},
            {"{\"id\":\"evt\",\"type\":\"customer.subscription.updated\",\"created\":1,\"data\":{"
             "\"object\":{\"id\":\"sub\",\"customer\":\"cus\",\"status\":\"active\","
             "\"cancel_at_period_end\":\"yes\"}}}",
             "cancel_at_period_end not a boolean"},
            {"{\"id\":\"evt\",\"type\":\"customer.subscription.updated\",\"created\":1,\"data\":{"
             "\"object\":{\"id\":\"sub\",\"customer\":\"cus\",\"status\":\"active\",\"items\":{"
             "\"data\":[{\"current_period_end\":\"soon\"}]}}}}",
             "period end not a time"},
            {"{\"id\":\"evt\",\"type\":\"customer.subscription.updated\",\"created\":1,\"data\":{"
             "\"object\":{\"id\":\"sub\",\"customer\":\"cus\",\"status\":"
             "\"a_status_much_longer_than_thirty_two_bytes\"}}}",
             "status too long"},
            {"{\"id\":\"evt\",\"type\":\"checkout.session.completed\",\"created\":1,\"data\":{"
             "\"object\":{\"id\":\"cs\",\"client_reference_id\":5}}}",
             "client_reference_id not a string"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            int rc = parse("%s", bad[i][0]);
            ok(rc < 0 && e.status == 400 && strcmp(e.code, "invalid_event") == 0,
               "refused: %s (%s)", bad[i][1], e.msg);
        }
        char longid[600];
        memset(longid, 'x', 300);
        longid[300] = '\0';
        ok(parse("{\"id\":\"%s\",\"type\":\"x\",\"created\":1,\"data\":{\"object\":{}}}", longid) <
               0,
           "refused: an id over 255 bytes");
    }
}

/* An event of `kind` at `created` carrying `status`. */
static struct billing_event mk(enum billing_kind kind, long long created, const char *status,
                               const char *id)
{
    struct billing_event x;
    memset(&x, 0, sizeof(x));
    x.kind = kind;
    x.created = created;
    snprintf(x.id, sizeof(x.id), "%s", id);
    snprintf(x.subscription, sizeof(x.subscription), "sub_1");
    snprintf(x.customer, sizeof(x.customer), "cus_1");
    snprintf(x.status, sizeof(x.status), "%s", status != NULL ? status : "");
    snprintf(x.price, sizeof(x.price), "price_A");
    x.period_end = created + 30 * 86400;
    return x;
}

static const char *dname(enum billing_decision d)
{
    static const char *const n[] = {"apply", "stale", "ended", "no_change"};
    return n[d];
}

/* Apply `x` to *row (present when *have) as billing_apply() would. */
static enum billing_decision step(struct billing_sub *row, int *have, const struct billing_event *x)
{
    struct billing_sub next;
    enum billing_decision d = billing_decide(*have ? row : NULL, x, GRACE, &next);
    if (d == BILLING_DECIDE_APPLY) {
        *row = next;
        *have = 1;
    }
    return d;
}

static void state_machine(void)
{
    struct billing_sub row, next;
    struct billing_event x;
    enum billing_decision d;
    int have = 0;

    x = mk(BILLING_EVENT_INVOICE_PAID, 100, NULL, "evt_inv");
    ok(billing_decide(NULL, &x, GRACE, &next) == BILLING_DECIDE_NO_CHANGE,
       "invoice for a subscription we do not know: no change");
    x = mk(BILLING_EVENT_OTHER, 100, NULL, "evt_other");
    ok(billing_decide(NULL, &x, GRACE, &next) == BILLING_DECIDE_NO_CHANGE, "other: no change");

    x = mk(BILLING_EVENT_SUB_CREATED, 100, "incomplete", "evt_c");
    d = step(&row, &have, &x);
    ok(d == BILLING_DECIDE_APPLY && strcmp(row.status, "incomplete") == 0 &&
           row.status_since == 100 && row.event_created == 100 && row.event_rank == 1 &&
           strcmp(row.event_id, "evt_c") == 0 && strcmp(row.customer, "cus_1") == 0 &&
           row.period_end == 100 + 30 * 86400 && row.grace_until == 0,
       "created on no row: applied as sent");
    ok(!billing_grants_premium(&row, 100), "incomplete grants nothing");

    x = mk(BILLING_EVENT_SUB_UPDATED, 100, "active", "evt_u");
    ok(step(&row, &have, &x) == BILLING_DECIDE_APPLY && strcmp(row.status, "active") == 0 &&
           row.event_rank == 2,
       "updated in the same second as created: applied (rank 2 > 1)");
    ok(billing_grants_premium(&row, 100), "active grants premium");

    x = mk(BILLING_EVENT_SUB_CREATED, 100, "incomplete", "evt_c");
    ok(step(&row, &have, &x) == BILLING_DECIDE_STALE && strcmp(row.status, "active") == 0,
       "created again, same second: stale (rank 1 < 2)");
    x = mk(BILLING_EVENT_SUB_UPDATED, 99, "past_due", "evt_old");
    ok(step(&row, &have, &x) == BILLING_DECIDE_STALE && strcmp(row.status, "active") == 0,
       "updated one second older: stale");
    x = mk(BILLING_EVENT_SUB_UPDATED, 100, "active", "evt_u2");
    x.cancel_at_period_end = 1;
    ok(step(&row, &have, &x) == BILLING_DECIDE_APPLY && row.cancel_at_period_end == 1 &&
           row.status_since == 100 && strcmp(row.event_id, "evt_u2") == 0,
       "another update in the same second: applied (the later delivery wins)");

    /* past_due and its grace. */
    x = mk(BILLING_EVENT_SUB_UPDATED, 1000, "past_due", "evt_pd");
    ok(step(&row, &have, &x) == BILLING_DECIDE_APPLY && row.status_since == 1000 &&
           row.grace_until == 1000 + GRACE,
       "past_due: grace until it began + 72 h");
    ok(billing_grants_premium(&row, 1000 + GRACE - 1) &&
           !billing_grants_premium(&row, 1000 + GRACE),
       "premium within the grace, not after");
    x = mk(BILLING_EVENT_SUB_UPDATED, 5000, "past_due", "evt_pd2");
    ok(step(&row, &have, &x) == BILLING_DECIDE_APPLY && row.status_since == 1000 &&
           row.grace_until == 1000 + GRACE,
       "still past_due later: the grace does not restart");
    x = mk(BILLING_EVENT_INVOICE_PAID, 4000, NULL, "evt_paid_old");
    ok(step(&row, &have, &x) == BILLING_DECIDE_STALE,
       "an invoice paid before the last event: stale");
    x = mk(BILLING_EVENT_INVOICE_PAID, 6000, NULL, "evt_paid");
    ok(step(&row, &have, &x) == BILLING_DECIDE_APPLY && strcmp(row.status, "active") == 0 &&
           row.status_since == 6000 && row.grace_until == 0 && row.event_rank == 2 &&
           strcmp(row.price, "price_A") == 0,
       "invoice.paid on past_due: active again, grace cleared, the rest kept");
    x = mk(BILLING_EVENT_INVOICE_PAID, 6500, NULL, "evt_paid2");
    ok(step(&row, &have, &x) == BILLING_DECIDE_NO_CHANGE, "invoice.paid on active: no change");
    x = mk(BILLING_EVENT_INVOICE_FAILED, 7000, NULL, "evt_fail");
    ok(step(&row, &have, &x) == BILLING_DECIDE_APPLY && strcmp(row.status, "past_due") == 0 &&
           row.grace_until == 7000 + GRACE,
       "invoice.payment_failed on active: past_due with grace");
    x = mk(BILLING_EVENT_SUB_UPDATED, 8000, "unpaid", "evt_unpaid");
    ok(step(&row, &have, &x) == BILLING_DECIDE_APPLY && row.grace_until == 0 &&
           !billing_grants_premium(&row, 8000),
       "unpaid: no premium, no grace");

    /* The end is final. */
    x = mk(BILLING_EVENT_SUB_DELETED, 9000, "active", "evt_del");
    ok(step(&row, &have, &x) == BILLING_DECIDE_APPLY && strcmp(row.status, "canceled") == 0 &&
           row.event_rank == 3 && !billing_grants_premium(&row, 9000),
       "deleted: canceled whatever the object's status says");
    x = mk(BILLING_EVENT_SUB_UPDATED, 9999, "active", "evt_late");
    ok(step(&row, &have, &x) == BILLING_DECIDE_ENDED && strcmp(row.status, "canceled") == 0,
       "an update after the end (even newer): ended, nothing changes");
    x = mk(BILLING_EVENT_INVOICE_PAID, 9999, NULL, "evt_late_paid");
    ok(step(&row, &have, &x) == BILLING_DECIDE_ENDED, "an invoice after the end: ended");
    have = 0;
    x = mk(BILLING_EVENT_SUB_UPDATED, 10, "incomplete_expired", "evt_exp");
    step(&row, &have, &x);
    x = mk(BILLING_EVENT_SUB_UPDATED, 20, "active", "evt_exp2");
    ok(step(&row, &have, &x) == BILLING_DECIDE_ENDED, "incomplete_expired is final too");
    have = 0;
    x = mk(BILLING_EVENT_SUB_CREATED, 10, "trialing", "evt_tr");
    step(&row, &have, &x);
    ok(billing_grants_premium(&row, 10), "trialing grants premium");
    x = mk(BILLING_EVENT_INVOICE_FAILED, 20, NULL, "evt_trf");
    ok(step(&row, &have, &x) == BILLING_DECIDE_APPLY && strcmp(row.status, "past_due") == 0,
       "payment failed at the end of a trial: past_due");
    have = 0;
    x = mk(BILLING_EVENT_SUB_CREATED, 10, "incomplete", "evt_in");
    step(&row, &have, &x);
    x = mk(BILLING_EVENT_INVOICE_FAILED, 20, NULL, "evt_inf");
    ok(step(&row, &have, &x) == BILLING_DECIDE_NO_CHANGE,
       "first payment failed: stays incomplete (no change)");
    x = mk(BILLING_EVENT_INVOICE_PAID, 30, NULL, "evt_inp");
    ok(step(&row, &have, &x) == BILLING_DECIDE_APPLY && strcmp(row.status, "active") == 0,
       "first payment made: active");
    x = mk(BILLING_EVENT_SUB_UPDATED, 25, "incomplete", "evt_in_old");
    ok(step(&row, &have, &x) == BILLING_DECIDE_STALE, "an older update cannot undo it: %s",
       dname(BILLING_DECIDE_STALE));
}

/* Every arrival order of created (incomplete), updated (active) and
 * deleted ends as in-order delivery ends; so does every order of
 * created/updated/updated(past_due) without a deletion. */
static void orders(void)
{
    static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                    {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    struct billing_event evs[3], evs2[3];
    int all_canceled = 1, all_past_due = 1;

    evs[0] = mk(BILLING_EVENT_SUB_CREATED, 100, "incomplete", "evt_a");
    evs[1] = mk(BILLING_EVENT_SUB_UPDATED, 100, "active", "evt_b");
    evs[2] = mk(BILLING_EVENT_SUB_DELETED, 200, "canceled", "evt_c");
    evs2[0] = mk(BILLING_EVENT_SUB_CREATED, 100, "incomplete", "evt_d");
    evs2[1] = mk(BILLING_EVENT_SUB_UPDATED, 101, "active", "evt_e");
    evs2[2] = mk(BILLING_EVENT_SUB_UPDATED, 102, "past_due", "evt_f");
    for (int p = 0; p < 6; p++) {
        struct billing_sub row, row2;
        int have = 0, have2 = 0;
        for (int i = 0; i < 3; i++) {
            step(&row, &have, &evs[perms[p][i]]);
            step(&row2, &have2, &evs2[perms[p][i]]);
        }
        if (strcmp(row.status, "canceled") != 0 || strcmp(row.event_id, "evt_c") != 0) {
            all_canceled = 0;
            printf("# order %d%d%d ended %s\n", perms[p][0], perms[p][1], perms[p][2], row.status);
        }
        if (strcmp(row2.status, "past_due") != 0 || row2.status_since != 102 ||
            row2.grace_until != 102 + GRACE) {
            all_past_due = 0;
            printf("# order %d%d%d ended %s since %lld\n", perms[p][0], perms[p][1], perms[p][2],
                   row2.status, row2.status_since);
        }
    }
    ok(all_canceled, "created/updated/deleted in all 6 orders: canceled");
    ok(all_past_due, "created/updated/updated(past_due) in all 6 orders: past_due since 102");
}

static void forms(void)
{
    struct buf b = {0};
    struct billing_checkout c = {"price_1",
                                 "https://a.test/ok?s={CHECKOUT_SESSION_ID}",
                                 "https://a.test/no",
                                 "4f1e-sub",
                                 NULL,
                                 "x@y.test"};
    char k1[BILLING_IDEMPOTENCY_KEY_MAX], k2[BILLING_IDEMPOTENCY_KEY_MAX];

    billing_checkout_form(&b, &c);
    ok(strcmp(buf_str(&b), "mode=subscription&line_items%5B0%5D%5Bprice%5D=price_1"
                           "&line_items%5B0%5D%5Bquantity%5D=1&client_reference_id=4f1e-sub"
                           "&subscription_data%5Bmetadata%5D%5Beasysks_sub%5D=4f1e-sub"
                           "&success_url=https%3A%2F%2Fa.test%2Fok%3Fs%3D%7BCHECKOUT_SESSION_ID%7D"
                           "&cancel_url=https%3A%2F%2Fa.test%2Fno&customer_email=x%40y.test") == 0,
       "checkout form without a customer: email prefilled (%s)", buf_str(&b));
    buf_reset(&b);
    c.customer = "cus_9";
    billing_checkout_form(&b, &c);
    ok(strstr(buf_str(&b), "&customer=cus_9") != NULL &&
           strstr(buf_str(&b), "customer_email") == NULL,
       "with a customer: customer, never customer_email too");
    buf_reset(&b);
    billing_portal_form(&b, "cus_9", "https://a.test/");
    ok(strcmp(buf_str(&b), "customer=cus_9&return_url=https%3A%2F%2Fa.test%2F") == 0,
       "portal form");
    buf_cleanup(&b);

    billing_idempotency_key(k1, "checkout", "42", "a=1", 3, 1000, 600);
    billing_idempotency_key(k2, "checkout", "42", "a=1", 3, 1199, 600);
    ok(strncmp(k1, "easysks-checkout-", 17) == 0 && strlen(k1) == 17 + 48 &&
           strspn(k1 + 17, "0123456789abcdef") == 48,
       "key shape: %s", k1);
    ok(strcmp(k1, k2) == 0, "same user, form and window: same key");
    billing_idempotency_key(k2, "checkout", "42", "a=1", 3, 1200, 600);
    ok(strcmp(k1, k2) != 0, "next window: a new key");
    billing_idempotency_key(k2, "checkout", "43", "a=1", 3, 1000, 600);
    ok(strcmp(k1, k2) != 0, "another user: a new key");
    billing_idempotency_key(k2, "checkout", "42", "a=2", 3, 1000, 600);
    ok(strcmp(k1, k2) != 0, "another form: a new key");
    billing_idempotency_key(k2, "portal", "42", "a=1", 3, 1000, 600);
    ok(strncmp(k2, "easysks-portal-", 15) == 0, "purpose in the key: %s", k2);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    parsing();
    state_machine();
    orders();
    forms();
    ok(strcmp(billing_outcome_name(BILLING_APPLIED), "applied") == 0 &&
           strcmp(billing_outcome_name(BILLING_DUPLICATE), "duplicate") == 0 &&
           strcmp(billing_outcome_name(BILLING_STALE), "stale") == 0 &&
           strcmp(billing_outcome_name(BILLING_IGNORED), "ignored") == 0,
       "outcome names");
    return tap_done();
}
