#include "sks/order.h"

#include <stdlib.h>
#include <string.h>

/* Questions per topic on one official sheet; both seamanship topics take
 * the seamanship share (a learner studies one of them). */
static const int weights[ORDER_TOPICS] = {9, 7, 5, 9, 9};

int order_variant_parse(const char *name)
{
    if (name == NULL)
        return -1;
    if (strcmp(name, "sail") == 0)
        return ORDER_SAIL;
    if (strcmp(name, "motor") == 0)
        return ORDER_MOTOR;
    return -1;
}

const char *order_variant_name(int variant)
{
    return variant == ORDER_MOTOR ? "motor" : "sail";
}

const char *order_variant_excluded(int variant)
{
    return variant == ORDER_MOTOR ? "seemannschaft_i" : "seemannschaft_ii";
}

int order_variant_excluded_topic(int variant)
{
    return variant == ORDER_MOTOR ? ORDER_SEEMANNSCHAFT_I : ORDER_SEEMANNSCHAFT_II;
}

int order_topic_in_variant(int topic, int variant)
{
    return topic >= 0 && topic < ORDER_TOPICS && topic != order_variant_excluded_topic(variant);
}

int order_topic_weight(int topic)
{
    return topic >= 0 && topic < ORDER_TOPICS ? weights[topic] : 0;
}

struct slot {
    int card; /* index into cards */
    int topic;
    int k; /* place within its topic */
    int sheets;
};

/* Within a topic: more official sheets first, then catalogue order. */
static int within_topic(const void *x, const void *y)
{
    const struct slot *a = x, *b = y;
    if (a->topic != b->topic)
        return a->topic - b->topic;
    if (a->sheets != b->sheets)
        return b->sheets - a->sheets;
    return a->card - b->card;
}

/* Across topics: key (2k + 1) / 2w compared exactly in integers, then
 * topic order. */
static int by_key(const void *x, const void *y)
{
    const struct slot *a = x, *b = y;
    long long l = (2LL * a->k + 1) * weights[b->topic], r = (2LL * b->k + 1) * weights[a->topic];
    if (l != r)
        return l < r ? -1 : 1;
    if (a->topic != b->topic)
        return a->topic - b->topic;
    return a->card - b->card;
}

void order_new_cards(const int *topic, const int *n_sheets, int n, int *rank)
{
    struct slot *s;
    int k = 0;

    if (n <= 0)
        return;
    s = calloc((size_t)n, sizeof(*s));
    if (s == NULL)
        abort();
    for (int i = 0; i < n; i++) {
        s[i].card = i;
        s[i].topic = topic[i] >= 0 && topic[i] < ORDER_TOPICS ? topic[i] : 0;
        s[i].sheets = n_sheets[i];
    }
    qsort(s, (size_t)n, sizeof(*s), within_topic);
    for (int i = 0; i < n; i++) {
        k = i > 0 && s[i].topic == s[i - 1].topic ? k + 1 : 0;
        s[i].k = k;
    }
    qsort(s, (size_t)n, sizeof(*s), by_key);
    for (int i = 0; i < n; i++)
        rank[s[i].card] = i;
    free(s);
}
