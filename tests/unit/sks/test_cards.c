/*
 * test_cards.c - lib/sks/cards.c's selection on the real catalogue: the
 * learner's variant only, topic, sheet, flagged, mistakes and search
 * filters combined, catalogue order, pages after a card with `total` and
 * `more` (no card twice, none lost).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sks/cards.h"
#include "sks/order.h"
#include "tap.h"

static const char *data_dir(void)
{
    const char *d = getenv("EASYSKS_SKS_DATA");
    return d != NULL && *d ? d : "../shared/data/sks";
}

int main(void)
{
    struct err e = {0};
    struct catalogue *c = catalogue_from_source(data_dir(), &e);
    struct arena a;
    struct cards_learner l;
    struct cards_filter f = {.topic = -1};
    struct search_query q;
    int *out, n, total, more, seen = 0, after = -1, ordered = 1, sea2 = 0;

    if (c == NULL) {
        printf("1..0 # SKIP catalogue not readable from %s: %s\n", data_dir(), e.msg);
        return 0;
    }
    arena_init(&a, 4096);
    out = calloc((size_t)c->ncards, sizeof(*out));
    l.variant = ORDER_SAIL;
    l.cards = calloc((size_t)c->ncards, sizeof(*l.cards));
    for (int i = 0; i < c->ncards; i++)
        l.cards[i].state = -1;

    n = cards_select(c, &l, &f, -1, c->ncards, out, &total, &more);
    for (int i = 0; i < n; i++) {
        sea2 += c->cards[out[i]].topic == ORDER_SEEMANNSCHAFT_II;
        ordered &= i == 0 || out[i] > out[i - 1];
    }
    ok(n == 492 && total == 492 && !more && sea2 == 0 && ordered,
       "sail: 492 cards in catalogue order, no Seemannschaft II (%d)", n);
    l.variant = ORDER_MOTOR;
    n = cards_select(c, &l, &f, -1, c->ncards, out, &total, &more);
    ok(n == 475 && total == 475, "motor: 475 cards (%d)", n);
    f.topic = ORDER_SEEMANNSCHAFT_I;
    n = cards_select(c, &l, &f, -1, 100, out, &total, &more);
    ok(n == 0 && total == 0, "motor, topic Seemannschaft I: nothing");
    l.variant = ORDER_SAIL;

    /* Pages of 50 over Navigation: 50 + 50 + 18, nothing twice. */
    f.topic = 0;
    for (int page = 0; page < 5; page++) {
        n = cards_select(c, &l, &f, after, 50, out, &total, &more);
        for (int i = 0; i < n; i++)
            ordered &= out[i] > after && (i == 0 || out[i] > out[i - 1]);
        seen += n;
        if (!more)
            break;
        after = out[n - 1];
    }
    ok(seen == 118 && total == 118 && ordered, "Navigation in pages of 50: %d cards, each once",
       seen);

    f.topic = -1;
    f.sheet = 7;
    n = cards_select(c, &l, &f, -1, 100, out, &total, &more);
    ok(n == 30 && total == 30, "sheet 7: 30 cards");
    l.variant = ORDER_MOTOR;
    n = cards_select(c, &l, &f, -1, 100, out, &total, &more);
    ok(n == 21, "sheet 7 for motor: its 21 shared questions (%d)", n);
    l.variant = ORDER_SAIL;
    f.sheet = 0;

    l.cards[5].flagged = 1;
    l.cards[c->topic_first[4]].flagged = 1; /* the other variant's: not listed */
    l.cards[200].flagged = 1;
    l.cards[200].mistake = 1;
    f.flagged = 1;
    n = cards_select(c, &l, &f, -1, 100, out, &total, &more);
    ok(n == 2 && out[0] == 5 && out[1] == 200, "flagged: the learner's flags of the variant");
    f.mistakes = 1;
    n = cards_select(c, &l, &f, -1, 100, out, &total, &more);
    ok(n == 1 && out[0] == 200, "flagged and mistakes: both must hold");
    f.flagged = f.mistakes = 0;

    search_query_parse(&a, "kardinal", &q);
    f.q = &q;
    n = cards_select(c, &l, &f, -1, 1, out, &total, &more);
    ok(n == 1 && total >= 2 && more, "search with limit 1: one card, total %d, more", total);
    search_query_parse(&a, "", &q);
    n = cards_select(c, &l, &f, -1, 1, out, &total, &more);
    ok(total == 492, "an empty search filters nothing");

    free(out);
    free(l.cards);
    arena_cleanup(&a);
    catalogue_free(c);
    return tap_done();
}
