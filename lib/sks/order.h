/*
 * order.h - the licence variant and the order in which a learner meets new
 * cards.
 *
 * Variant: "sail" (Antriebsmaschine und unter Segel, the default) is
 * examined on Seemannschaft I, "motor" (Antriebsmaschine) on Seemannschaft
 * II; Navigation, Schifffahrtsrecht and Wetterkunde are shared. A learner
 * studies the shared topics and their variant's seamanship topic only.
 *
 * Order of new cards (docs/api.md): an official sheet asks 9 Navigation,
 * 7 Schifffahrtsrecht, 5 Wetterkunde and 9 Seemannschaft questions, and new
 * cards interleave the topics in that proportion. Within a topic, cards on
 * more official sheets come first, then catalogue order. Across topics, the
 * k-th card (0-based) of a topic of weight w gets the key (2k + 1) / 2w and
 * cards are sorted by key, then topic order: a stride schedule, so every
 * prefix of the order holds each topic's share up to one card. A card's key
 * depends on its own topic alone, so one order serves both variants (the
 * other variant's topic is left out) and a topic filter (the topic's cards
 * keep their places). Deterministic: a function of the catalogue only.
 *
 * Pure functions, no database.
 */
#ifndef EASYSKS_ORDER_H
#define EASYSKS_ORDER_H

/* Topic indices as in catalogue_topics (sks/catalogue.h), which cannot be
 * included here (the catalogue includes this header). */
#define ORDER_TOPICS 5
#define ORDER_SEEMANNSCHAFT_I 3
#define ORDER_SEEMANNSCHAFT_II 4

enum order_variant { ORDER_SAIL = 0, ORDER_MOTOR = 1 };

/* "sail" -> ORDER_SAIL, "motor" -> ORDER_MOTOR, anything else (or NULL) -1. */
int order_variant_parse(const char *name);

/* "sail" or "motor". */
const char *order_variant_name(int variant);

/* The seamanship topic the variant does not study: "seemannschaft_ii" for
 * sail, "seemannschaft_i" for motor. */
const char *order_variant_excluded(int variant);

/* Its topic index. */
int order_variant_excluded_topic(int variant);

/* 1 when a card of catalogue topic `topic` belongs to the variant. */
int order_topic_in_variant(int topic, int variant);

/* A topic's weight: its questions on one official sheet (9, 7, 5, 9, 9). */
int order_topic_weight(int topic);

/* rank[i] = the place (0..n-1) of card i in the mixed order, over all n
 * cards given in catalogue order by their topic index and the number of
 * official sheets they are on. `rank` holds n ints. Allocates scratch
 * memory (aborts if out of memory). */
void order_new_cards(const int *topic, const int *n_sheets, int n, int *rank);

#endif
