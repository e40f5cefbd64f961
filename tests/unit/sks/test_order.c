/*
 * test_order.c - lib/order on the real catalogue: the licence variants, and
 * the mixed, exam-weighted order of new cards (a permutation; the first 30
 * of either variant hold a sheet's 9/7/5/9 and nothing of the other
 * variant; every prefix keeps the topics' shares; within a topic, cards on
 * more sheets first; the same twice).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sks/catalogue.h"
#include "sks/order.h"
#include "tap.h"

static const char *data_dir(void)
{
    const char *d = getenv("EASYSKS_SKS_DATA");
    return d != NULL && *d ? d : "../shared/data/sks";
}

/* The first `n` cards of the variant's order, per topic; 1 if none of the
 * other variant's cards came before them. */
static int first_of_variant(const struct catalogue *c, int variant, int n, int *per_topic)
{
    int got = 0;
    memset(per_topic, 0, CATALOGUE_TOPICS * sizeof(*per_topic));
    for (int r = 0; r < c->ncards && got < n; r++) {
        const struct cat_card *k = &c->cards[c->new_order[r]];
        if (!order_topic_in_variant(k->topic, variant))
            continue;
        per_topic[k->topic]++;
        got++;
    }
    return got == n;
}

int main(void)
{
    struct err e = {0};
    struct catalogue *c = catalogue_from_source(data_dir(), &e);
    int per[CATALOGUE_TOPICS] = {0}, full, *rank, *seen, perm = 1, same = 1, within = 1, shares = 1;

    ok(order_variant_parse("sail") == ORDER_SAIL && order_variant_parse("motor") == ORDER_MOTOR &&
           order_variant_parse("Sail") < 0 && order_variant_parse("") < 0 &&
           order_variant_parse(NULL) < 0,
       "variants: sail and motor, exactly");
    ok(strcmp(order_variant_excluded(ORDER_SAIL), "seemannschaft_ii") == 0 &&
           strcmp(order_variant_excluded(ORDER_MOTOR), "seemannschaft_i") == 0,
       "sail leaves out Seemannschaft II, motor Seemannschaft I");
    ok(order_topic_in_variant(0, ORDER_MOTOR) && order_topic_in_variant(3, ORDER_SAIL) &&
           !order_topic_in_variant(4, ORDER_SAIL) && !order_topic_in_variant(3, ORDER_MOTOR) &&
           !order_topic_in_variant(5, ORDER_SAIL) &&
           catalogue_topic_index("seemannschaft_i") == ORDER_SEEMANNSCHAFT_I &&
           catalogue_topic_index("seemannschaft_ii") == ORDER_SEEMANNSCHAFT_II,
       "topics in a variant, with the catalogue's indices");
    if (c == NULL) {
        printf("# SKIP catalogue not readable from %s: %s\n", data_dir(), e.msg);
        return tap_done();
    }
    rank = calloc((size_t)c->ncards, sizeof(*rank));
    seen = calloc((size_t)c->ncards, sizeof(*seen));
    {
        int *topic = calloc((size_t)c->ncards, sizeof(int)),
            *sheets = calloc((size_t)c->ncards, sizeof(int));
        for (int i = 0; i < c->ncards; i++) {
            topic[i] = c->cards[i].topic;
            sheets[i] = c->cards[i].n_sheets;
        }
        order_new_cards(topic, sheets, c->ncards, rank);
        free(topic);
        free(sheets);
    }
    for (int i = 0; i < c->ncards; i++) {
        same &= rank[i] == c->cards[i].new_rank;
        if (rank[i] < 0 || rank[i] >= c->ncards || seen[rank[i]]++)
            perm = 0;
    }
    ok(perm, "the ranks are a permutation of 0..%d", c->ncards - 1);
    ok(same, "deterministic: the catalogue's ranks equal a second computation");

    full = first_of_variant(c, ORDER_SAIL, 30, per);
    ok(full && per[0] == 9 && per[1] == 7 && per[2] == 5 && per[3] == 9 && per[4] == 0,
       "sail: the first 30 new cards are 9/7/5/9 over four topics, no Seemannschaft II "
       "(%d/%d/%d/%d/%d)",
       per[0], per[1], per[2], per[3], per[4]);
    full = first_of_variant(c, ORDER_MOTOR, 30, per);
    ok(full && per[0] == 9 && per[1] == 7 && per[2] == 5 && per[3] == 0 && per[4] == 9,
       "motor: the first 30 new cards are 9/7/5/9, no Seemannschaft I (%d/%d/%d/%d/%d)", per[0],
       per[1], per[2], per[3], per[4]);
    {
        int n5 = 0, topics = 0;
        first_of_variant(c, ORDER_SAIL, 5, per);
        for (int t = 0; t < CATALOGUE_TOPICS; t++) {
            n5 += per[t];
            topics += per[t] > 0;
        }
        ok(n5 == 5 && topics >= 3, "sail: the first 5 new cards span %d topics", topics);
    }
    /* Every prefix holds each topic's share of an exam sheet to within one
     * card, while the topic has cards left. */
    for (int m = 1; m <= 300; m++) {
        first_of_variant(c, ORDER_SAIL, m, per);
        for (int t = 0; t < 4; t++) {
            double want = (double)m * order_topic_weight(t) / 30.0;
            if (per[t] < c->topic_count[t] && (per[t] < want - 1.0 || per[t] > want + 1.0))
                shares = 0;
        }
    }
    ok(shares, "every prefix up to 300 cards keeps the 9/7/5/9 shares within one card");
    /* Within a topic: more official sheets first, then catalogue order. */
    for (int r = 1; r < c->ncards; r++)
        for (int q = r - 1; q >= 0; q--) {
            const struct cat_card *a = &c->cards[c->new_order[q]], *b = &c->cards[c->new_order[r]];
            if (a->topic != b->topic)
                continue;
            within &= a->n_sheets > b->n_sheets ||
                      (a->n_sheets == b->n_sheets && a->position < b->position);
            break;
        }
    ok(within, "within a topic: cards on more official sheets first, then catalogue order");
    {
        /* The sail-relevant cards on no sheet come after all on a sheet of
         * their topic: the last Navigation cards have no sheet. */
        const struct cat_card *last_nav = NULL;
        for (int r = 0; r < c->ncards; r++)
            if (c->cards[c->new_order[r]].topic == 0)
                last_nav = &c->cards[c->new_order[r]];
        ok(last_nav != NULL && last_nav->n_sheets == 0,
           "the last Navigation card is on no sheet (%s)",
           last_nav != NULL ? last_nav->card_id : "none");
    }
    free(rank);
    free(seen);
    catalogue_free(c);
    return tap_done();
}
