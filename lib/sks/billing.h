/*
 * billing.h - what Stripe's events mean for a learner's plan.
 *
 * A verified webhook body (lib/infra/stripe) is parsed into a struct
 * billing_event, then applied in one transaction that also records its
 * event id: a redelivery finds the id and changes nothing, and a failure
 * anywhere leaves nothing behind (the caller answers 5xx, Stripe retries).
 *
 *   checkout.session.completed     links the session's customer to the
 *                                  learner named by client_reference_id
 *   customer.subscription.created  the subscription's state as sent:
 *   customer.subscription.updated  status, price, current_period_end,
 *   customer.subscription.deleted  cancel_at_period_end (deleted: canceled)
 *   invoice.paid                   incomplete/past_due/unpaid -> active
 *   invoice.payment_failed         active/trialing -> past_due
 *   anything else                  recorded, no effect
 *
 * Ordering: events arrive out of order. Each subscription row keeps the
 * (created, rank) of the last event applied, rank created 1 < updated and
 * invoice events 2 < deleted 3 (Stripe's `created` has one-second
 * resolution, and a subscription is created before it is updated and
 * updated before it is deleted). An event ordered before the row's is
 * stale and changes nothing; an equal one applies (the later delivery of
 * two same-second updates wins). canceled and incomplete_expired are
 * final: nothing changes them again. Invoice events change only the status,
 * only in the transitions above and only for a subscription we know; the
 * subscription events carry the whole state and settle everything else.
 *
 * Premium (lib/sks/users.c): a subscription grants it while active or
 * trialing, and while past_due until grace_until = the moment it became
 * past_due + STRIPE_PAST_DUE_GRACE_HOURS. The SQL for that is here
 * (BILLING_SQL_*) so the plan and the checkout's "already subscribed" check
 * cannot disagree.
 */
#ifndef EASYSKS_BILLING_H
#define EASYSKS_BILLING_H

#include <stddef.h>

#include "core/buf.h"
#include "infra/db.h"
#include "core/err.h"

/* SQL over a stripe_subscriptions row aliased `s`: does it grant premium
 * now, and until when (for premium_until). */
#define BILLING_SQL_GRANTS                                                                         \
    "(s.status IN ('active', 'trialing') OR (s.status = 'past_due' AND s.grace_until > now()))"
#define BILLING_SQL_GRANT_END                                                                      \
    "CASE WHEN s.status = 'past_due' THEN s.grace_until ELSE s.current_period_end END"

#define BILLING_ID_MAX 256 /* Stripe ids, with the NUL; the tables allow 255 */
#define BILLING_STATUS_MAX 33
#define BILLING_CHECKOUT_KEY_WINDOW_S 600 /* see billing_idempotency_key() */
#define BILLING_PORTAL_KEY_WINDOW_S 60
#define BILLING_IDEMPOTENCY_KEY_MAX 96

enum billing_kind {
    BILLING_EVENT_OTHER = 0, /* recorded, no effect */
    BILLING_EVENT_CHECKOUT_COMPLETED,
    BILLING_EVENT_SUB_CREATED,
    BILLING_EVENT_SUB_UPDATED,
    BILLING_EVENT_SUB_DELETED,
    BILLING_EVENT_INVOICE_PAID,
    BILLING_EVENT_INVOICE_FAILED,
};

/* A subscription as stored. Times are unix seconds, 0 = none. */
struct billing_sub {
    char id[BILLING_ID_MAX];
    char customer[BILLING_ID_MAX];
    char status[BILLING_STATUS_MAX];
    char price[BILLING_ID_MAX]; /* "" when unknown */
    long long period_end;
    int cancel_at_period_end;
    long long status_since;
    long long grace_until; /* past_due only */
    long long event_created;
    int event_rank;
    char event_id[BILLING_ID_MAX];
};

/* The parts of an event we use. Strings are "" when absent. */
struct billing_event {
    char id[BILLING_ID_MAX];
    char type[128];
    long long created;
    enum billing_kind kind;
    char object_id[BILLING_ID_MAX];
    char customer[BILLING_ID_MAX];     /* checkout, subscription and invoice events */
    char subscription[BILLING_ID_MAX]; /* the subscription concerned */
    /* checkout.session.completed */
    char client_reference_id[BILLING_ID_MAX];
    char mode[16];
    /* customer.subscription.*: the state carried */
    char status[BILLING_STATUS_MAX];
    char price[BILLING_ID_MAX];
    long long period_end;
    int cancel_at_period_end;
};

/* Parse a webhook body (already verified; `len` bytes, not NUL-terminated).
 * Needs id, type and a positive integer created, and data.object; for the
 * kinds above, what they use (a subscription event without id, customer or
 * status is refused). current_period_end is read from the subscription's
 * items (current API versions: the latest of them) or, failing that, the
 * subscription itself (versions before 2025-03-31); an invoice's
 * subscription from parent.subscription_details or, failing that, the
 * invoice. Ids may come expanded ({"id": ...}). Returns 0, or -1 with e =
 * 400 invalid_event. */
int billing_event_parse(const char *body, size_t len, struct billing_event *ev, struct err *e);

enum billing_decision {
    BILLING_DECIDE_APPLY,     /* write *next */
    BILLING_DECIDE_STALE,     /* ordered before what is stored */
    BILLING_DECIDE_ENDED,     /* the subscription is canceled or expired for good */
    BILLING_DECIDE_NO_CHANGE, /* nothing to do (unknown subscription, invoice with no effect) */
};

/* The state machine, pure: what `ev` does to the subscription stored as
 * `cur` (NULL: no row yet). On BILLING_DECIDE_APPLY *next is the row to write.
 * `grace_s` is the past_due grace in seconds. */
enum billing_decision billing_decide(const struct billing_sub *cur, const struct billing_event *ev,
                                     long long grace_s, struct billing_sub *next);

/* Does a subscription in this state grant premium at `now`? The same rule
 * as BILLING_SQL_GRANTS, for tests and logs. */
int billing_grants_premium(const struct billing_sub *s, long long now);

enum billing_outcome {
    BILLING_APPLIED,   /* the event changed something (or linked a customer) */
    BILLING_DUPLICATE, /* its id was recorded before: nothing changed */
    BILLING_STALE,     /* older than the subscription's state: recorded only */
    BILLING_IGNORED,   /* no effect (type, unknown object, final state): recorded only */
};

/* "applied", "duplicate", "stale", "ignored". */
const char *billing_outcome_name(enum billing_outcome o);

/* Apply `ev` in one transaction with its event id. Returns 0 with *out
 * set, or -1 with e from the database (503 db_unavailable / db_timeout:
 * answer 5xx so Stripe retries) after rolling back: nothing was written.
 * Never call with a transaction open. */
int billing_apply(struct db *db, const struct billing_event *ev, long long grace_s,
                  enum billing_outcome *out, struct err *e);

/* The learner's newest Stripe customer into `customer` ("" when none) and
 * whether one of their subscriptions grants premium now. 0, or -1 with e. */
int billing_customer_for_user(struct db *db, const char *user_id, char customer[BILLING_ID_MAX],
                              int *subscribed, struct err *e);

struct billing_checkout {
    const char *price_id;
    const char *success_url;
    const char *cancel_url;
    const char *user_sub; /* client_reference_id and subscription metadata */
    const char *customer; /* the known Stripe customer, or NULL */
    const char *email;    /* prefilled when there is no customer, or NULL */
};

/* The form of POST /v1/checkout/sessions: mode=subscription, one line item
 * of the price, client_reference_id and subscription_data[metadata]
 * [easysks_sub] = the learner's sub, success and cancel URLs, and either
 * customer or customer_email (never both: Stripe refuses that). Appended
 * to `b`. */
void billing_checkout_form(struct buf *b, const struct billing_checkout *c);

/* The form of POST /v1/billing_portal/sessions. */
void billing_portal_form(struct buf *b, const char *customer, const char *return_url);

/* A Stripe Idempotency-Key for `purpose` ("checkout", "portal") by
 * `user_id` sending `form`, stable within the `window_s`-second window
 * containing `now`: "easysks-<purpose>-<48 hex digits of SHA-256 over
 * user, window and form>". A client retrying (double click, lost answer)
 * within the window gets the same Stripe session back instead of a second
 * one; any change in what is sent (say the customer became known) is a new
 * key, which Stripe requires. */
void billing_idempotency_key(char out[BILLING_IDEMPOTENCY_KEY_MAX], const char *purpose,
                             const char *user_id, const char *form, size_t len, long long now,
                             int window_s);

#endif
