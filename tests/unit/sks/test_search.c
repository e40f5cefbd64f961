/*
 * test_search.c - lib/sks/search: German folding (case, umlauts, ß, the
 * ae/oe/ue spellings, accents, separators), word-prefix matching, query
 * parsing and its length limit; and on the real catalogue: "kardinal"
 * finds the cardinal marks, a word inside another word does not match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sks/catalogue.h"
#include "sks/search.h"
#include "tap.h"

static const char *data_dir(void)
{
    const char *d = getenv("EASYSKS_SKS_DATA");
    return d != NULL && *d ? d : "../shared/data/sks";
}

static int finds(struct arena *a, const char *text, const char *q)
{
    struct search_query sq;
    if (search_query_parse(a, q, &sq) < 0)
        return -1;
    return search_match(search_fold(a, text), &sq);
}

int main(void)
{
    struct arena a;
    struct search_query q;
    char big[SEARCH_QUERY_MAX_BYTES + 2];
    struct err e = {0};
    struct catalogue *c;

    arena_init(&a, 4096);
    ok(strcmp(search_fold(&a, "West-Kardinal-Zeichen"), " west kardinal zeichen ") == 0,
       "case folded, hyphens separate words");
    ok(strcmp(search_fold(&a, "Rückwärts STRÖMUNG Maße"), " ruckwarts stromung masse ") == 0,
       "umlauts and ß folded");
    ok(strcmp(search_fold(&a, "Rueckwaerts"), search_fold(&a, "rückwärts")) == 0,
       "ue/ae spelt out folds like the umlaut");
    ok(strcmp(search_fold(&a, "Café, 12 sm!"), " cafe 12 sm ") == 0,
       "accents dropped, digits kept, punctuation separates");
    ok(strcmp(search_fold(&a, ""), " ") == 0 && strcmp(search_fold(&a, NULL), " ") == 0,
       "empty text");
    ok(strcmp(search_fold(&a, "a\xff"
                              "b"),
              " a b ") == 0,
       "a malformed byte separates");

    ok(finds(&a, "West-Kardinal-Zeichen", "kardinal") == 1, "a whole word");
    ok(finds(&a, "West-Kardinal-Zeichen", "KARD zei") == 1, "prefixes of two words, any case");
    ok(finds(&a, "West-Kardinal-Zeichen", "ardinal") == 0, "not inside a word");
    ok(finds(&a, "West-Kardinal-Zeichen", "kardinal ost") == 0, "every word must match");
    ok(finds(&a, "Fahrt durchs Wasser über Grund", "uber") == 1 &&
           finds(&a, "Fahrt durchs Wasser ueber Grund", "über") == 1,
       "über, ueber and uber find each other");
    ok(finds(&a, "Die Straße", "strasse") == 1 && finds(&a, "Die Strasse", "straß") == 1,
       "ß and ss");
    ok(finds(&a, "anything", "") == 1 && finds(&a, "anything", " -- ") == 1,
       "a query without words matches everything");

    ok(search_query_parse(&a, "a b c d e f g h i j", &q) == 0 && q.n == SEARCH_WORDS_MAX,
       "at most %d words used", SEARCH_WORDS_MAX);
    ok(search_query_parse(&a, "ab abcd abc", &q) == 0 && q.n == 3 &&
           strcmp(q.needle[0], " abcd") == 0 && strcmp(q.needle[2], " ab") == 0,
       "longest word first");
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ok(search_query_parse(&a, big, &q) == -1, "a query over %d bytes is refused",
       SEARCH_QUERY_MAX_BYTES);
    big[SEARCH_QUERY_MAX_BYTES] = '\0';
    ok(search_query_parse(&a, big, &q) == 0, "one of %d bytes is taken", SEARCH_QUERY_MAX_BYTES);

    c = catalogue_from_source(data_dir(), &e);
    if (c == NULL) {
        printf("# SKIP catalogue not readable from %s: %s\n", data_dir(), e.msg);
    } else {
        int hits = 0, west = 0;
        search_query_parse(&a, "kardinal", &q);
        for (int i = 0; i < c->ncards; i++)
            if (search_match(c->cards[i].search_text, &q)) {
                hits++;
                west += strstr(c->cards[i].front_text, "Kardinal") != NULL ||
                        strstr(c->cards[i].answer_text, "Kardinal") != NULL;
            }
        ok(hits > 0 && west > 0, "the catalogue: \"kardinal\" finds %d cards", hits);
        search_query_parse(&a, "xyzzyq", &q);
        hits = 0;
        for (int i = 0; i < c->ncards; i++)
            hits += search_match(c->cards[i].search_text, &q);
        ok(hits == 0, "the catalogue: a word in no card finds nothing");
        catalogue_free(c);
    }
    arena_cleanup(&a);
    return tap_done();
}
