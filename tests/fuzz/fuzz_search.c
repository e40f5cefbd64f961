/*
 * fuzz_search.c - lib/sks/search.c on arbitrary bytes: the query parser and
 * the folding of a text (the input split at its first newline: query, then
 * text; both are client or catalogue text).
 *
 * The folded text is " " + words + " ", every word of [a-z0-9] only, single
 * spaces; its length is at most twice the input's plus three. A parsed
 * query has at most SEARCH_WORDS_MAX needles, each " " + a non-empty word
 * of the folded query, longest first; a query over SEARCH_QUERY_MAX_BYTES
 * is refused. A text always matches a query made of its own first word.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "sks/search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_folded(const char *f, size_t inlen)
{
    size_t n = strlen(f);
    if (n < 1 || n > 2 * inlen + 3 || f[0] != ' ' || f[n - 1] != ' ')
        abort();
    for (size_t i = 1; i < n; i++) {
        char c = f[i];
        if (c == ' ' ? f[i - 1] == ' ' && i > 1
                     : !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    char *buf = malloc(size + 1), *nl, *query, *text;
    struct search_query q;

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    arena_init(&a, 4096);
    query = buf;
    nl = strchr(buf, '\n');
    text = nl != NULL ? nl + 1 : buf;
    if (nl != NULL)
        *nl = '\0';

    const char *ft = search_fold(&a, text);
    check_folded(ft, strlen(text));
    if (search_query_parse(&a, query, &q) < 0) {
        if (strlen(query) <= SEARCH_QUERY_MAX_BYTES)
            abort();
    } else {
        if (strlen(query) > SEARCH_QUERY_MAX_BYTES || q.n < 0 || q.n > SEARCH_WORDS_MAX)
            abort();
        for (int i = 0; i < q.n; i++) {
            if (q.needle[i][0] != ' ' || q.needle[i][1] == '\0' || strchr(q.needle[i] + 1, ' '))
                abort();
            if (i > 0 && strlen(q.needle[i]) > strlen(q.needle[i - 1]))
                abort();
        }
        (void)search_match(ft, &q);
    }
    /* A text matches its own first word. */
    if (ft[1] != '\0') {
        size_t w = strcspn(ft + 1, " ");
        char *first = arena_alloc(&a, w + 1);
        memcpy(first, ft + 1, w);
        first[w] = '\0';
        if (w <= SEARCH_QUERY_MAX_BYTES &&
            (search_query_parse(&a, first, &q) < 0 || !search_match(ft, &q)))
            abort();
    }
    arena_cleanup(&a);
    free(buf);
    return 0;
}
