/*
 * fuzz_multipart.c - the multipart/form-data parser, the audio sniffer and
 * the language check on arbitrary bytes.
 *
 * The input up to the first newline is the Content-Type header value, the
 * rest is the body (copied to a buffer of exactly its size, so reading past
 * it is caught). Besides memory safety it checks the contracts: parts lie
 * inside the body, in order and without overlap, each framed by a delimiter
 * of the boundary; names are non-empty; failures carry a known code.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fuzz_replay_done(void);

/* What the corpus reached, checked at the end of a replay. */
static unsigned long parsed, max_parts, sniffed[5];
static const char *const TYPES[] = {"audio/webm", "audio/ogg", "audio/wav", "audio/mpeg",
                                    "audio/mp4"};

static void check(int cond)
{
    if (!cond)
        abort();
}

static const char *const CODES[] = {"multipart_not_form_data",
                                    "multipart_no_boundary",
                                    "multipart_truncated",
                                    "multipart_too_many_parts",
                                    "multipart_header_too_long",
                                    "multipart_invalid",
                                    NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct arena a;
    static int ready;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t clen = nl != NULL ? (size_t)(nl - data) : size;
    size_t blen = nl != NULL ? size - clen - 1 : 0;
    char *ctype, *body;
    const char *boundary, *t;
    struct multipart_part *parts;
    int n, known = 0;
    struct err e = {0};

    if (!ready) {
        arena_init(&a, 1 << 16);
        ready = 1;
    }
    ctype = arena_strndup(&a, (const char *)data, clen);
    body = malloc(blen > 0 ? blen : 1);
    check(body != NULL);
    if (blen > 0)
        memcpy(body, nl + 1, blen);

    t = multipart_sniff_audio(data, size);
    check(t == NULL || strncmp(t, "audio/", 6) == 0);
    check(multipart_language_ok(ctype) == 0 || strlen(ctype) == 2);

    if (multipart_parse(&a, ctype, blen > 0 ? body : NULL, blen, &parts, &n, &e) == 0) {
        const char *prev_end = body;
        size_t bl;

        check(multipart_boundary(&a, ctype, &boundary, &e) == 0);
        bl = strlen(boundary);
        check(n >= 0 && n <= MULTIPART_MAX_PARTS && (n == 0) == (parts == NULL));
        parsed++;
        max_parts = (unsigned long)n > max_parts ? (unsigned long)n : max_parts;
        for (int i = 0; i < n; i++) {
            const char *d = (const char *)parts[i].data;
            check(parts[i].name != NULL && *parts[i].name);
            check(d >= prev_end && d + parts[i].len <= body + blen);
            /* each part's data is followed by CRLF "--" boundary */
            check(d + parts[i].len + 4 + bl <= body + blen &&
                  memcmp(d + parts[i].len, "\r\n--", 4) == 0 &&
                  memcmp(d + parts[i].len + 4, boundary, bl) == 0);
            prev_end = d + parts[i].len;
            t = multipart_sniff_audio(parts[i].data, parts[i].len);
            check(t == NULL || strncmp(t, "audio/", 6) == 0);
            for (int k = 0; k < 5; k++)
                sniffed[k] += t != NULL && strcmp(t, TYPES[k]) == 0;
            if (strcmp(parts[i].name, "language") == 0)
                multipart_language_ok(arena_strndup(&a, d, parts[i].len));
            check(multipart_find(parts, n, parts[i].name) <= &parts[i]);
        }
    } else {
        for (int i = 0; CODES[i] != NULL; i++)
            known |= e.code != NULL && strcmp(e.code, CODES[i]) == 0;
        check(known && parts == NULL && n == 0);
    }
    free(body);
    arena_reset(&a);
    return 0;
}

int fuzz_replay_done(void)
{
    int all = 1;

    for (int k = 0; k < 5; k++)
        all &= sniffed[k] > 0;
    printf("# fuzz_multipart: %lu bodies parsed, up to %lu parts, every audio type sniffed: %s\n",
           parsed, max_parts, all ? "yes" : "no");
    if (parsed == 0 || max_parts < 2 || !all) {
        fprintf(stderr, "fuzz_multipart: the corpus no longer reaches every success path\n");
        return 1;
    }
    return 0;
}
