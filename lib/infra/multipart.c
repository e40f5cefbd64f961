#include "infra/multipart.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

/* --- Content-Type -------------------------------------------------------- */

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int is_bchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("'()+_,-./:=? ", c) != NULL);
}

/* A header parameter value at *p (a token, or a quoted string with
 * backslash escapes) copied into the arena; *p moves past it. NULL when
 * there is none or a quoted string is not closed before `end`. */
static char *param_value(struct arena *a, const char **p, const char *end)
{
    const char *s = *p;
    char *out, *o;

    if (s < end && *s == '"') {
        out = o = arena_alloc(a, (size_t)(end - s));
        for (s++; s < end && *s != '"'; s++) {
            if (*s == '\\' && s + 1 < end)
                s++;
            *o++ = *s;
        }
        if (s >= end)
            return NULL;
        *o = '\0';
        *p = s + 1;
        return out;
    }
    while (s < end && *s != ';' && !is_ows(*s) && *s != '"')
        s++;
    if (s == *p)
        return NULL;
    out = arena_strndup(a, *p, (size_t)(s - *p));
    *p = s;
    return out;
}

struct param {
    const char *name; /* as sent */
    size_t name_len;
    const char *value; /* arena */
};

/* The next "; name=value" parameter. Returns 1 with *out set, 0 at the end,
 * -1 on a syntax error. */
static int next_param(struct arena *a, const char **p, const char *end, struct param *out)
{
    const char *s = *p;

    while (s < end && is_ows(*s))
        s++;
    if (s == end)
        return 0;
    if (*s != ';')
        return -1;
    s++;
    while (s < end && is_ows(*s))
        s++;
    if (s == end)
        return 0; /* a trailing ";" */
    out->name = s;
    while (s < end && is_tchar((unsigned char)*s))
        s++;
    out->name_len = (size_t)(s - out->name);
    if (out->name_len == 0 || s == end || *s != '=')
        return -1;
    s++;
    if ((out->value = param_value(a, &s, end)) == NULL)
        return -1;
    *p = s;
    return 1;
}

static int param_is(const struct param *pa, const char *name)
{
    return pa->name_len == strlen(name) && strncasecmp(pa->name, name, pa->name_len) == 0;
}

int multipart_boundary(struct arena *a, const char *content_type, const char **boundary,
                       struct err *e)
{
    static const char form[] = "multipart/form-data";
    const char *p = content_type, *end, *b = NULL;
    struct param pa;
    size_t n;
    int r;

    *boundary = NULL;
    if (p == NULL)
        return err_set(e, 415, "multipart_not_form_data", "expected multipart/form-data");
    end = p + strlen(p);
    while (p < end && is_ows(*p))
        p++;
    if ((size_t)(end - p) < sizeof(form) - 1 || strncasecmp(p, form, sizeof(form) - 1) != 0 ||
        (p[sizeof(form) - 1] != '\0' && p[sizeof(form) - 1] != ';' && !is_ows(p[sizeof(form) - 1])))
        return err_set(e, 415, "multipart_not_form_data", "expected multipart/form-data");
    p += sizeof(form) - 1;
    while ((r = next_param(a, &p, end, &pa)) == 1) {
        if (!param_is(&pa, "boundary"))
            continue;
        if (b != NULL)
            return err_set(e, 400, "multipart_no_boundary", "boundary given twice");
        b = pa.value;
    }
    if (r < 0)
        return err_set(e, 400, "multipart_no_boundary", "malformed Content-Type parameters");
    if (b == NULL || (n = strlen(b)) == 0 || n > MULTIPART_MAX_BOUNDARY || b[n - 1] == ' ')
        return err_set(e, 400, "multipart_no_boundary", "missing or unusable boundary");
    for (size_t i = 0; i < n; i++)
        if (!is_bchar(b[i]))
            return err_set(e, 400, "multipart_no_boundary", "boundary has invalid characters");
    *boundary = b;
    return 0;
}

/* --- part headers -------------------------------------------------------- */

static int invalid(struct err *e, const char *what)
{
    return err_set(e, 400, "multipart_invalid", "multipart body: %s", what);
}

static int truncated(struct err *e)
{
    return err_set(e, 400, "multipart_truncated",
                   "multipart body ends before its closing "
                   "boundary");
}

/* Content-Disposition: form-data; name="..."; filename="..." */
static int disposition(struct arena *a, const char *v, const char *end, struct multipart_part *part,
                       struct err *e)
{
    static const char fd[] = "form-data";
    struct param pa;
    int r;

    if ((size_t)(end - v) < sizeof(fd) - 1 || strncasecmp(v, fd, sizeof(fd) - 1) != 0 ||
        (v + sizeof(fd) - 1 < end && v[sizeof(fd) - 1] != ';' && !is_ows(v[sizeof(fd) - 1])))
        return invalid(e, "Content-Disposition is not form-data");
    v += sizeof(fd) - 1;
    while ((r = next_param(a, &v, end, &pa)) == 1) {
        const char **slot = param_is(&pa, "name")       ? &part->name
                            : param_is(&pa, "filename") ? &part->filename
                                                        : NULL;
        if (slot == NULL)
            continue;
        if (*slot != NULL)
            return invalid(e, "Content-Disposition parameter given twice");
        *slot = pa.value;
    }
    if (r < 0)
        return invalid(e, "malformed Content-Disposition");
    if (part->name == NULL || *part->name == '\0')
        return invalid(e, "part without a name");
    return 0;
}

/* Parse the header lines at *p up to and including the empty line. */
static int part_headers(struct arena *a, const char **p, const char *end,
                        struct multipart_part *part, struct err *e)
{
    int seen_cd = 0, seen_ct = 0;

    for (int lines = 0;; lines++) {
        const char *s = *p, *eol, *colon, *v, *vend;
        size_t avail = (size_t)(end - s), window;

        window = avail < MULTIPART_MAX_HEADER_LINE + 2 ? avail : MULTIPART_MAX_HEADER_LINE + 2;
        eol = memmem(s, window, "\r\n", 2);
        if (eol == NULL)
            return window == avail
                       ? truncated(e)
                       : err_set(e, 431, "multipart_header_too_long",
                                 "part header line over %d bytes", MULTIPART_MAX_HEADER_LINE);
        *p = eol + 2;
        if (eol == s)
            break;
        if (lines == MULTIPART_MAX_HEADERS)
            return err_set(e, 431, "multipart_header_too_long", "more than %d part header lines",
                           MULTIPART_MAX_HEADERS);
        /* A boundary may contain ':' ("--a:b" would read as a header): a
         * delimiter where a header belongs means a part without its blank
         * line, which another parser would split differently. */
        if (eol - s >= 2 && s[0] == '-' && s[1] == '-')
            return invalid(e, "a delimiter where a part header belongs");
        for (const char *c = s; c < eol; c++)
            if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
                return invalid(e, "control character in a part header");
        for (colon = s; colon < eol && is_tchar((unsigned char)*colon); colon++)
            ;
        if (colon == s || colon == eol || *colon != ':')
            return invalid(e, "malformed part header line");
        for (v = colon + 1; v < eol && is_ows(*v); v++)
            ;
        for (vend = eol; vend > v && is_ows(vend[-1]); vend--)
            ;
        if ((size_t)(colon - s) == 19 && strncasecmp(s, "Content-Disposition", 19) == 0) {
            if (seen_cd++)
                return invalid(e, "two Content-Disposition headers");
            if (disposition(a, v, vend, part, e) != 0)
                return -1;
        } else if ((size_t)(colon - s) == 12 && strncasecmp(s, "Content-Type", 12) == 0) {
            if (seen_ct++)
                return invalid(e, "two Content-Type headers");
            part->content_type = arena_strndup(a, v, (size_t)(vend - v));
        }
    }
    if (!seen_cd)
        return invalid(e, "part without Content-Disposition");
    return 0;
}

/* --- body ---------------------------------------------------------------- */

int multipart_parse(struct arena *a, const char *content_type, const void *body, size_t len,
                    struct multipart_part **parts, int *nparts, struct err *e)
{
    /* No arithmetic on a NULL body (an empty one): undefined behaviour. */
    const char *boundary, *p = body, *end = p != NULL ? p + len : p;
    char *delim;
    size_t blen, dlen;
    struct multipart_part *out;
    int n = 0;

    *parts = NULL;
    *nparts = 0;
    if (multipart_boundary(a, content_type, &boundary, e) != 0)
        return -1;
    if (len == 0)
        return truncated(e);
    if (body == NULL)
        return invalid(e, "no body");
    blen = strlen(boundary);
    /* "\r\n--boundary"; the first delimiter comes without the CRLF. */
    dlen = blen + 4;
    delim = arena_alloc(a, dlen + 1);
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary, blen + 1);
    if (len < dlen - 2)
        return memcmp(p, delim + 2, len) == 0 ? truncated(e)
                                              : invalid(e, "does not start with the boundary");
    if (memcmp(p, delim + 2, dlen - 2) != 0)
        return invalid(e, "does not start with the boundary");
    p += dlen - 2;
    out = arena_alloc(a, MULTIPART_MAX_PARTS * sizeof(*out));

    for (;;) {
        const char *found;

        /* After a delimiter: "--" closes; else padding and CRLF open a part. */
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
            p += 2;
            if (p == end || (end - p == 2 && p[0] == '\r' && p[1] == '\n'))
                break;
            return invalid(e, "data after the closing boundary");
        }
        while (p < end && is_ows(*p))
            p++;
        if (end - p < 2)
            return (p == end || *p == '\r' || *p == '-') ? truncated(e)
                                                         : invalid(e, "bad delimiter line");
        if (p[0] != '\r' || p[1] != '\n')
            return invalid(e, "delimiter line not ended by CRLF");
        p += 2;
        if (n == MULTIPART_MAX_PARTS)
            return err_set(e, 413, "multipart_too_many_parts", "more than %d parts",
                           MULTIPART_MAX_PARTS);
        memset(&out[n], 0, sizeof(out[n]));
        if (part_headers(a, &p, end, &out[n], e) != 0)
            return -1;
        found = memmem(p, (size_t)(end - p), delim, dlen);
        if (found == NULL)
            return truncated(e);
        out[n].data = (const unsigned char *)p;
        out[n].len = (size_t)(found - p);
        /* One part per name: with two, which one a reader takes is a guess. */
        if (multipart_find(out, n, out[n].name) != NULL)
            return invalid(e, "a part name appears twice");
        n++;
        p = found + dlen;
    }
    *parts = n > 0 ? out : NULL;
    *nparts = n;
    return 0;
}

const struct multipart_part *multipart_find(const struct multipart_part *parts, int nparts,
                                            const char *name)
{
    for (int i = 0; i < nparts; i++)
        if (strcmp(parts[i].name, name) == 0)
            return &parts[i];
    return NULL;
}

/* --- sniffing and languages ---------------------------------------------- */

/* An MPEG audio frame header (ISO 11172-3 / 13818-3, and MPEG 2.5): sync,
 * and no reserved version, layer, bitrate, sample rate or emphasis. */
static int mpeg_frame(const unsigned char *d)
{
    return d[0] == 0xFF && (d[1] & 0xE0) == 0xE0 && ((d[1] >> 3) & 3) != 1 &&
           ((d[1] >> 1) & 3) != 0 && (d[2] >> 4) != 0xF && ((d[2] >> 2) & 3) != 3 &&
           (d[3] & 3) != 2;
}

const char *multipart_sniff_audio(const void *data, size_t len)
{
    const unsigned char *d = data;

    if (d == NULL || len < 4)
        return NULL;
    if (memcmp(d, "\x1a\x45\xdf\xa3", 4) == 0)
        return "audio/webm";
    if (memcmp(d, "OggS", 4) == 0)
        return "audio/ogg";
    if (len >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WAVE", 4) == 0)
        return "audio/wav";
    /* ID3v2 tag: "ID3", major version 2..4, revision never 0xFF. */
    if (len >= 10 && memcmp(d, "ID3", 3) == 0 && d[3] >= 2 && d[3] <= 4 && d[4] != 0xFF)
        return "audio/mpeg";
    if (mpeg_frame(d))
        return "audio/mpeg";
    if (len >= 12 && memcmp(d + 4, "ftyp", 4) == 0) {
        uint32_t size = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
        int brand_ok = 1;
        for (int i = 8; i < 12; i++)
            brand_ok &= d[i] >= 0x20 && d[i] <= 0x7e;
        if (size >= 16 && brand_ok)
            return "audio/mp4";
    }
    return NULL;
}

int multipart_language_ok(const char *lang)
{
    static const char allowed[][3] = {"de", "en", "fr", "nl", "da", "pl", "es", "it", "sv", "no"};

    if (lang == NULL || strlen(lang) != 2)
        return 0;
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (strcmp(lang, allowed[i]) == 0)
            return 1;
    return 0;
}
