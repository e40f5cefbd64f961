#include "core/text.h"

#include <string.h>

#define REPLACEMENT 0xFFFDu

size_t text_utf8_decode(const char *s, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed second byte */
    size_t n, i;
    uint32_t v;

    if (p[0] < 0x80) {
        *cp = p[0];
        return p[0] != 0;
    }
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        n = 2, v = p[0] & 0x1Fu;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        n = 3, v = p[0] & 0x0Fu;
        lo = p[0] == 0xE0 ? 0xA0 : 0x80; /* no overlongs */
        hi = p[0] == 0xED ? 0x9F : 0xBF; /* no surrogates */
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        n = 4, v = p[0] & 0x07u;
        lo = p[0] == 0xF0 ? 0x90 : 0x80;
        hi = p[0] == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
    } else {
        *cp = REPLACEMENT;
        return 1;
    }
    /* Each byte is looked at only after the one before it turned out to be a
     * continuation byte, so the terminator stops the scan. */
    for (i = 1; i < n; i++) {
        unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xBF;
        if (p[i] < min || p[i] > max) {
            *cp = REPLACEMENT;
            return 1;
        }
        v = v << 6 | (p[i] & 0x3Fu);
    }
    *cp = v;
    return n;
}

static size_t encode(char *out, uint32_t cp)
{
    unsigned char *o = (unsigned char *)out;

    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Room for any rewrite of s here: a bad byte grows to three (U+FFFD). */
static char *alloc_for(struct arena *a, const char *s)
{
    return arena_alloc(a, 3 * strlen(s) + 1);
}

int text_utf8_valid(const char *s)
{
    uint32_t cp;
    size_t n;

    for (; s != NULL && *s; s += n) {
        n = text_utf8_decode(s, &cp);
        if (n == 1 && (unsigned char)*s >= 0x80)
            return 0;
    }
    return 1;
}

size_t text_utf8_length(const char *s)
{
    uint32_t cp;
    size_t n, count = 0;

    for (; s != NULL && (n = text_utf8_decode(s, &cp)) > 0; s += n)
        count++;
    return count;
}

int text_is_space(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
           cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

int text_is_blank(const char *s)
{
    uint32_t cp;
    size_t n;

    for (; s != NULL && (n = text_utf8_decode(s, &cp)) > 0; s += n)
        if (!text_is_space(cp))
            return 0;
    return 1;
}

/* Python's lower() on Latin letters; U+0130 is handled by the caller. */
static uint32_t lower_cp(uint32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 32;
    if (c >= 0x100 && c <= 0x17F) {
        if (c == 0x178)
            return 0xFF;
        if (c == 0x138) /* kra has no capital */
            return c;
        /* Capitals sit on odd code points in these two runs, even elsewhere. */
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
            return c & 1 ? c + 1 : c;
        if (c <= 0x137 || (c >= 0x14A && c <= 0x177))
            return c & 1 ? c : c + 1;
        return c;
    }
    if (c == 0x1E9E)
        return 0xDF;
    if (c == 0x212A)
        return 'k';
    return c;
}

char *text_lower(struct arena *a, const char *s)
{
    char *out, *o;
    uint32_t cp;
    size_t n;

    if (s == NULL)
        s = "";
    out = o = alloc_for(a, s);
    for (; (n = text_utf8_decode(s, &cp)) > 0; s += n) {
        if (cp == 0x130) { /* İ -> i + combining dot above, as Python */
            *o++ = 'i';
            o += encode(o, 0x307);
        } else {
            o += encode(o, lower_cp(cp));
        }
    }
    *o = '\0';
    return out;
}

/* Valid copy of the n bytes at s (n ends on a code point boundary). */
static char *copy_valid(struct arena *a, const char *s, size_t n)
{
    char *out = arena_alloc(a, 3 * n + 1), *o = out;
    const char *end = s + n;
    uint32_t cp;
    size_t k;

    for (; s < end && (k = text_utf8_decode(s, &cp)) > 0; s += k)
        o += encode(o, cp);
    *o = '\0';
    return out;
}

char *text_trim(struct arena *a, const char *s)
{
    const char *start = NULL, *end = NULL;
    uint32_t cp;
    size_t n;

    if (s == NULL)
        s = "";
    for (; (n = text_utf8_decode(s, &cp)) > 0; s += n) {
        if (text_is_space(cp))
            continue;
        if (start == NULL)
            start = s;
        end = s + n;
    }
    return start == NULL ? arena_strdup(a, "") : copy_valid(a, start, (size_t)(end - start));
}

char *text_normalize_space(struct arena *a, const char *s)
{
    char *out, *o;
    int pending = 0;
    uint32_t cp;
    size_t n;

    if (s == NULL)
        s = "";
    out = o = alloc_for(a, s);
    for (; (n = text_utf8_decode(s, &cp)) > 0; s += n) {
        if (text_is_space(cp)) {
            pending = o > out;
            continue;
        }
        if (pending)
            *o++ = ' ';
        pending = 0;
        o += encode(o, cp);
    }
    *o = '\0';
    return out;
}

char *text_prefix(struct arena *a, const char *s, size_t max_cp)
{
    const char *p = s == NULL ? "" : s;
    uint32_t cp;
    size_t n;

    for (; max_cp > 0 && (n = text_utf8_decode(p, &cp)) > 0; p += n)
        max_cp--;
    return copy_valid(a, s == NULL ? "" : s, (size_t)(p - (s == NULL ? "" : s)));
}

static int is_token_cp(uint32_t cp)
{
    return (cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9') || cp == 0xE4 || cp == 0xF6 ||
           cp == 0xFC || cp == 0xDF;
}

/* Scan the lower-cased text; fill `out` when not NULL; return the count. */
static size_t scan_tokens(struct arena *a, const char *low, struct text_token *out)
{
    size_t count = 0, n;
    uint32_t cp;

    while (*low) {
        const char *start = low;
        size_t ncp = 0;

        for (; (n = text_utf8_decode(low, &cp)) > 0 && is_token_cp(cp); low += n)
            ncp++;
        if (ncp == 0) {
            low += n;
            continue;
        }
        if (out != NULL) {
            out[count].len = (size_t)(low - start);
            out[count].s = arena_strndup(a, start, out[count].len);
            out[count].ncp = ncp;
        }
        count++;
    }
    return count;
}

size_t text_tokenize(struct arena *a, const char *s, struct text_token **out)
{
    char *low = text_lower(a, s);
    size_t count = scan_tokens(a, low, NULL);

    *out = NULL;
    if (count == 0)
        return 0;
    *out = arena_alloc(a, count * sizeof(**out));
    scan_tokens(a, low, *out);
    return count;
}

/* --- catalogue cleanup ------------------------------------------------ */
/* Each rule rewrites the string in place (it only ever deletes bytes or
 * swaps one byte for another) and returns 1 if it changed anything. */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A byte of a word: ASCII letter or digit, or any byte of a non-ASCII code
 * point (umlauts and ß are letters; the text is valid UTF-8 here). */
static int is_word_byte(char c)
{
    unsigned char u = (unsigned char)c;
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || is_digit(c) || u >= 0x80;
}

/* Does s start with an upper-case letter (A-Z, Ä, Ö, Ü)? */
static int starts_upper(const char *s)
{
    unsigned char c = (unsigned char)s[0], d = (unsigned char)s[1];
    return (c >= 'A' && c <= 'Z') || (c == 0xC3 && (d == 0x84 || d == 0x96 || d == 0x9C));
}

static int drop_markers(char *t)
{
    size_t r = 0, w = 0;
    int changed = 0;

    while (t[r]) {
        if (strncmp(t + r, "[image:", 7) == 0) {
            size_t e = r + 7;
            while (t[e] && t[e] != ']' && t[e] != '\n')
                e++;
            if (t[e] == ']') {
                r = e + 1;
                changed = 1;
                continue;
            }
            /* No marker can close before e either: copy up to it. */
            while (r < e)
                t[w++] = t[r++];
            continue;
        }
        t[w++] = t[r++];
    }
    t[w] = '\0';
    return changed;
}

static int tidy_layout(char *t)
{
    size_t r = 0, w = 0;
    int changed = 0;

    while (t[r]) {
        char c = t[r];

        if (c == ' ' || c == '\t') {
            size_t e = r;
            while (t[e] == ' ' || t[e] == '\t')
                e++;
            /* One space between words; none at the start or end of a line. */
            if (w > 0 && t[w - 1] != '\n' && t[e] != '\n' && t[e] != '\r' && t[e] != '\0') {
                changed |= e - r != 1 || c != ' ';
                t[w++] = ' ';
            } else {
                changed = 1;
            }
            r = e;
            continue;
        }
        if (c == '\r') {
            changed = 1;
            c = '\n';
            if (t[r + 1] == '\n')
                r++;
        }
        if (c == '\n' && (w == 0 || (w >= 2 && t[w - 1] == '\n' && t[w - 2] == '\n'))) {
            changed = 1; /* leading newline or a second blank line */
            r++;
            continue;
        }
        t[w++] = c;
        r++;
    }
    while (w > 0 && t[w - 1] == '\n') {
        changed = 1;
        w--;
    }
    t[w] = '\0';
    return changed;
}

/* Is the character at s one that takes no space before it? */
static int closes(const char *s)
{
    switch (s[0]) {
    case ',':
    case ';':
    case '!':
    case '?':
    case ')':
        return 1;
    case '.': /* not an ellipsis " ...", not ".5" */
        return !(s[1] == '.' && s[2] == '.') && !is_digit(s[1]);
    case ':': /* "24 : 12 = 2" divides */
        return !is_digit(s[1]) && !(s[1] == ' ' && is_digit(s[2]));
    default:
        return 0;
    }
}

static int tidy_punctuation(char *t)
{
    size_t r = 0, w = 0;
    int changed = 0;

    while (t[r]) {
        if (t[r] == ' ' && w > 0 && t[w - 1] != '\n' && t[w - 1] != ' ') {
            size_t e = r;
            while (t[e] == ' ')
                e++;
            if (closes(t + e) || (t[w - 1] == '(' && t[e] != '\n' && t[e] != '\0')) {
                changed = 1;
                r = e;
                continue;
            }
        }
        t[w++] = t[r++];
    }
    t[w] = '\0';
    return changed;
}

static int tidy_quotes(char *t)
{
    size_t r, w = 0, quotes = 0;
    int changed = 0;

    for (r = 0; t[r]; r++)
        quotes += t[r] == '"';
    if (quotes == 0 || quotes % 2 != 0)
        return 0; /* unpaired: cannot tell opening from closing */
    quotes = 0;
    for (r = 0; t[r];) {
        if (t[r] != '"') {
            t[w++] = t[r++];
            continue;
        }
        if (quotes++ % 2 == 0) { /* opening: drop the spaces after it */
            t[w++] = t[r++];
            for (; t[r] == ' '; r++)
                changed = 1;
        } else { /* closing: drop the spaces before it */
            for (; w > 0 && t[w - 1] == ' '; w--)
                changed = 1;
            t[w++] = t[r++];
        }
    }
    t[w] = '\0';
    return changed;
}

/* Does the word that ends at t[w-1] contain a capital or a digit? */
static int word_before_marked(const char *t, size_t w)
{
    while (w > 0 && is_word_byte(t[w - 1])) {
        w--;
        if (starts_upper(t + w) || is_digit(t[w]))
            return 1;
    }
    return 0;
}

static int tidy_hyphens(char *t)
{
    size_t r = 0, w = 0, e;
    int changed = 0;

    while (t[r]) {
        /* "GPS -Navigation" */
        if (t[r] == ' ' && w > 0 && is_word_byte(t[w - 1])) {
            for (e = r; t[e] == ' '; e++)
                ;
            if (t[e] == '-' && starts_upper(t + e + 1) && word_before_marked(t, w)) {
                changed = 1;
                r = e;
                continue;
            }
        }
        /* "Bord- WC" */
        if (t[r] == '-' && t[r + 1] == ' ' && w > 0 && is_word_byte(t[w - 1])) {
            for (e = r + 1; t[e] == ' '; e++)
                ;
            if (starts_upper(t + e) && word_before_marked(t, w)) {
                changed = 1;
                t[w++] = '-';
                r = e;
                continue;
            }
        }
        t[w++] = t[r++];
    }
    t[w] = '\0';
    return changed;
}

static int tidy_subscripts(char *t)
{
    size_t r = 0, w = 0;
    int changed = 0;

    while (t[r]) {
        if (t[r] == 'C' && t[r + 1] == 'O' && (w == 0 || !is_word_byte(t[w - 1]))) {
            /* "CO 2" and the doubled "CO2 2" */
            size_t skip = 0;
            if (t[r + 2] == ' ' && t[r + 3] == '2' && !is_word_byte(t[r + 4]))
                skip = 4;
            else if (t[r + 2] == '2' && t[r + 3] == ' ' && t[r + 4] == '2' &&
                     !is_word_byte(t[r + 5]))
                skip = 5;
            if (skip > 0) {
                memcpy(t + w, "CO2", 3);
                w += 3;
                r += skip;
                changed = 1;
                continue;
            }
        }
        t[w++] = t[r++];
    }
    t[w] = '\0';
    return changed;
}

char *text_clean_catalogue(struct arena *a, const char *s)
{
    char *t = copy_valid(a, s == NULL ? "" : s, s == NULL ? 0 : strlen(s));
    int changed;

    /* Until a fixed point: that makes cleaning idempotent by construction,
     * whatever one rule uncovers for another. Every round that changes
     * something deletes a byte (CR and tab swaps happen in the first), so it
     * ends. */
    do {
        changed = drop_markers(t);
        changed |= tidy_layout(t);
        changed |= tidy_punctuation(t);
        changed |= tidy_quotes(t);
        changed |= tidy_subscripts(t);
        changed |= tidy_hyphens(t);
    } while (changed);
    return t;
}

int text_token_ok(const char *s, size_t max)
{
    size_t n = 0;

    if (s == NULL)
        return 0;
    for (; s[n] != '\0'; n++)
        if ((unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e || n >= max)
            return 0;
    return n >= 1;
}
