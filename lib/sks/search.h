/*
 * search.h - German-aware word-prefix search over the catalogue's texts.
 *
 * Folding (both the texts and the query, so they always agree): ASCII
 * letters lower-cased; Ä/ä, Ö/ö, Ü/ü become a, o, u and ß becomes ss; the
 * spellings ae, oe, ue then become a, o, u too, so "Rückwärts",
 * "Rueckwaerts" and "ruckwarts" are one word; a few accented letters (é,
 * à, ...) lose the accent; digits stay; every other character separates
 * words. A folded text is " word word ... " (a space before and after
 * every word).
 *
 * Matching: every word of the query must start a word of the text (a word
 * prefix), in any order: "kardinal" finds "West-Kardinal-Zeichen", "kard
 * zeich" too, "ardinal" does not.
 *
 * Pure functions; memory from the caller's arena.
 */
#ifndef EASYSKS_SEARCH_H
#define EASYSKS_SEARCH_H

#include <stddef.h>

#include "core/arena.h"

#define SEARCH_QUERY_MAX_BYTES 200 /* a longer query is refused */
#define SEARCH_WORDS_MAX 8         /* words of a query that are used */

/* The folded form of the UTF-8 text `s` (NULL counts as ""), in `a`. */
char *search_fold(struct arena *a, const char *s);

struct search_query {
    int n;                                /* 0: the query holds no word */
    const char *needle[SEARCH_WORDS_MAX]; /* " word", ready for strstr */
};

/* Parse a query: fold it and keep its first SEARCH_WORDS_MAX words, longest
 * first (they rule out most texts soonest). 0, or -1 when it is longer than
 * SEARCH_QUERY_MAX_BYTES. */
int search_query_parse(struct arena *a, const char *q, struct search_query *out);

/* 1 when every word of q starts a word of the folded text (n = 0 matches
 * everything). */
int search_match(const char *folded, const struct search_query *q);

#endif
