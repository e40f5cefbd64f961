#include "sks/search.h"

#include <string.h>

/* The folded letters of one code point: "" separates words. */
static const char *fold_cp(unsigned cp, char ascii[2])
{
    if (cp < 0x80) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
            ascii[0] = (char)cp;
            return ascii;
        }
        if (cp >= 'A' && cp <= 'Z') {
            ascii[0] = (char)(cp - 'A' + 'a');
            return ascii;
        }
        return "";
    }
    switch (cp) {
    case 0xE4:
    case 0xC4:
    case 0xE0:
    case 0xC0:
    case 0xE1:
    case 0xC1:
    case 0xE2:
    case 0xC2:
        return "a";
    case 0xF6:
    case 0xD6:
    case 0xF2:
    case 0xD2:
    case 0xF3:
    case 0xD3:
    case 0xF4:
    case 0xD4:
        return "o";
    case 0xFC:
    case 0xDC:
    case 0xF9:
    case 0xD9:
    case 0xFA:
    case 0xDA:
    case 0xFB:
    case 0xDB:
        return "u";
    case 0xE9:
    case 0xC9:
    case 0xE8:
    case 0xC8:
    case 0xEA:
    case 0xCA:
    case 0xEB:
    case 0xCB:
        return "e";
    case 0xEF:
    case 0xCF:
    case 0xEE:
    case 0xCE:
    case 0xED:
    case 0xCD:
        return "i";
    case 0xE7:
    case 0xC7:
        return "c";
    case 0xF1:
    case 0xD1:
        return "n";
    case 0xDF:
    case 0x1E9E: /* ß, ẞ */
        return "ss";
    default:
        return "";
    }
}

/* Decode one UTF-8 sequence at s; a malformed byte is taken alone (and
 * separates words). */
static unsigned next_cp(const unsigned char **s)
{
    const unsigned char *p = *s;
    unsigned cp = p[0];
    int extra = 0;

    if (cp >= 0xF0 && cp < 0xF8) {
        cp &= 0x07;
        extra = 3;
    } else if (cp >= 0xE0) {
        cp &= 0x0F;
        extra = 2;
    } else if (cp >= 0xC0) {
        cp &= 0x1F;
        extra = 1;
    } else if (cp >= 0x80) {
        *s = p + 1;
        return 0xFFFD;
    }
    for (int i = 1; i <= extra; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *s = p + 1;
            return 0xFFFD;
        }
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    *s = p + 1 + extra;
    return cp;
}

char *search_fold(struct arena *a, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
    size_t len = strlen((const char *)p);
    /* At most two output bytes per input byte (ß: two bytes -> "ss"), the
     * separators, and the leading and trailing space. */
    char *out = arena_alloc(a, 2 * len + 3), *o = out;

    *o++ = ' ';
    while (*p != '\0') {
        char ascii[2] = {0, 0};
        const char *f = fold_cp(next_cp(&p), ascii);
        if (*f == '\0') {
            if (o[-1] != ' ')
                *o++ = ' ';
            continue;
        }
        for (; *f != '\0'; f++) {
            /* ae, oe, ue -> a, o, u: the e after a vowel is dropped. */
            if (*f == 'e' && o[-1] != ' ' && (o[-1] == 'a' || o[-1] == 'o' || o[-1] == 'u'))
                continue;
            *o++ = *f;
        }
    }
    if (o[-1] != ' ')
        *o++ = ' ';
    *o = '\0';
    return out;
}

int search_query_parse(struct arena *a, const char *q, struct search_query *out)
{
    char *folded, *w, *save = NULL;

    memset(out, 0, sizeof(*out));
    if (q == NULL)
        return 0;
    if (strlen(q) > SEARCH_QUERY_MAX_BYTES)
        return -1;
    folded = search_fold(a, q);
    for (w = strtok_r(folded, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
        size_t n = strlen(w);
        char *needle;
        int i;
        if (out->n == SEARCH_WORDS_MAX)
            break;
        needle = arena_alloc(a, n + 2);
        needle[0] = ' ';
        memcpy(needle + 1, w, n + 1);
        /* Longest first: insertion into the sorted list. */
        for (i = out->n; i > 0 && strlen(out->needle[i - 1]) < n + 1; i--)
            out->needle[i] = out->needle[i - 1];
        out->needle[i] = needle;
        out->n++;
    }
    return 0;
}

int search_match(const char *folded, const struct search_query *q)
{
    for (int i = 0; i < q->n; i++)
        if (strstr(folded, q->needle[i]) == NULL)
            return 0;
    return 1;
}
