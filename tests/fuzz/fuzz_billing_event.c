/*
 * fuzz_billing_event.c - billing_event_parse on arbitrary webhook bodies
 * (what Stripe signs is trusted, but the parser must hold whatever the
 * bytes are), then billing_decide on what it parsed, against no stored
 * subscription and against one already stored.
 *
 * A refusal is 400 invalid_event; an accepted event has an id, a type and
 * a positive created time, every string field NUL-terminated in its
 * buffer, and a known kind or "other". billing_decide answers one of its
 * four decisions, and only BILLING_DECIDE_APPLY touches the next row,
 * which then carries this event's id and created time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sks/billing.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

#define TERMINATED(f) check(memchr((f), '\0', sizeof(f)) != NULL)

static void decide(const struct billing_sub *cur, const struct billing_event *ev)
{
    struct billing_sub next;
    enum billing_decision d;

    memset(&next, 0x5a, sizeof(next));
    d = billing_decide(cur, ev, 3 * 86400, &next);
    check(d == BILLING_DECIDE_APPLY || d == BILLING_DECIDE_STALE || d == BILLING_DECIDE_ENDED ||
          d == BILLING_DECIDE_NO_CHANGE);
    if (d == BILLING_DECIDE_APPLY) {
        TERMINATED(next.id);
        TERMINATED(next.status);
        check(strcmp(next.event_id, ev->id) == 0 && next.event_created == ev->created);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct billing_event ev;
    struct err e = {0};
    /* Exactly size bytes, no NUL after them: an overread shows under ASan. */
    char *body = malloc(size > 0 ? size : 1);

    if (body == NULL)
        abort();
    memcpy(body, data, size);
    log_set_level(LOG_ERROR);
    if (billing_event_parse(body, size, &ev, &e) != 0) {
        check(e.status == 400 && e.code != NULL && strcmp(e.code, "invalid_event") == 0);
        free(body);
        return 0;
    }
    TERMINATED(ev.id);
    TERMINATED(ev.type);
    TERMINATED(ev.object_id);
    TERMINATED(ev.customer);
    TERMINATED(ev.subscription);
    TERMINATED(ev.client_reference_id);
    TERMINATED(ev.mode);
    TERMINATED(ev.status);
    TERMINATED(ev.price);
    check(ev.id[0] != '\0' && ev.type[0] != '\0' && ev.created > 0);
    check(ev.kind >= BILLING_EVENT_OTHER && ev.kind <= BILLING_EVENT_INVOICE_FAILED);
    decide(NULL, &ev);
    {
        struct billing_sub cur = {0};
        /* The subscription the event names, as if already stored. */
        memcpy(cur.id, ev.subscription[0] != '\0' ? ev.subscription : "sub_fuzz",
               ev.subscription[0] != '\0' ? sizeof(cur.id) : sizeof("sub_fuzz"));
        strcpy(cur.customer, "cus_fuzz");
        strcpy(cur.status, "active");
        cur.period_end = 1900000000;
        cur.status_since = 1800000000;
        cur.event_created = 1800000000;
        strcpy(cur.event_id, "evt_stored");
        decide(&cur, &ev);
    }
    free(body);
    return 0;
}
