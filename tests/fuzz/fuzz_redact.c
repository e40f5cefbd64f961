/*
 * fuzz_redact.c - log_redact_url on arbitrary strings, into output buffers
 * of exact size (1..64 bytes and one large enough): always NUL-terminated
 * inside the buffer, and a short buffer holds a prefix of the full result.
 *
 * The input is also cut at newlines into user, password, host, database
 * and a query-parameter password, from which a well-formed libpq URI and
 * key=value strings are built: their redaction must be exactly the same
 * text with every password replaced by ***, so no password survives.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELD_MAX 64

/* Redact `in` into a buffer of exactly `len` bytes; abort unless the
 * result is NUL-terminated and a prefix of `full` cut at len - 1. */
static void check_short(const char *in, size_t len, const char *full)
{
    char *out = malloc(len);
    size_t n, want = strlen(full);

    if (out == NULL)
        abort();
    log_redact_url(in, out, len);
    if (memchr(out, '\0', len) == NULL)
        abort();
    n = strlen(out);
    if (n != (want < len - 1 ? want : len - 1) || memcmp(out, full, n) != 0)
        abort();
    free(out);
}

/* Field `i` of the newline-separated input, without the bytes in `drop`
 * and control characters, at most FIELD_MAX bytes; "x" when empty. */
static void field(const char *in, int i, const char *drop, char *out)
{
    size_t n = 0;

    for (; i > 0 && in != NULL; i--) {
        in = strchr(in, '\n');
        in = in != NULL ? in + 1 : NULL;
    }
    for (; in != NULL && *in != '\0' && *in != '\n' && n < FIELD_MAX; in++)
        if ((unsigned char)*in >= 0x20 && *in != 0x7f && strchr(drop, *in) == NULL)
            out[n++] = *in;
    if (n == 0)
        out[n++] = 'x';
    out[n] = '\0';
}

static void expect(const char *in, const char *want)
{
    char out[1024];

    log_redact_url(in, out, sizeof(out));
    if (strcmp(out, want) != 0) {
        fprintf(stderr, "redacted %s\n    into %s\n    want %s\n", in, out, want);
        abort();
    }
}

static void well_formed(const char *in)
{
    char user[FIELD_MAX + 1], pw[FIELD_MAX + 1], host[FIELD_MAX + 1], db[FIELD_MAX + 1];
    char qpw[FIELD_MAX + 1], kvpw[FIELD_MAX + 1], quoted[2 * FIELD_MAX + 1];
    char uri[512], want[512];
    size_t q = 0;

    /* libpq reads user:password@ up to the first '/'; a password may hold
     * anything else. User, host and database hold nothing that changes
     * where the parts begin or end. */
    field(in, 0, ":@/?&#", user);
    field(in, 1, "/", pw);
    field(in, 2, "@/?&#", host);
    field(in, 3, "?&#", db);
    field(in, 4, "&#", qpw);
    snprintf(uri, sizeof(uri), "postgresql://%s:%s@%s/%s?sslmode=require&password=%s&x=1#f", user,
             pw, host, db, qpw);
    snprintf(want, sizeof(want), "postgresql://%s:***@%s/%s?sslmode=require&password=***&x=1#f",
             user, host, db);
    expect(uri, want);

    /* key=value: white space separates pairs; a value is bare (no white
     * space) or single-quoted with \' and \\ escapes. */
    field(in, 0, " '\\", user);
    field(in, 1, " '\\", kvpw);
    field(in, 2, " '\\", host);
    snprintf(uri, sizeof(uri), "host=%s user=%s password=%s dbname=x", host, user, kvpw);
    snprintf(want, sizeof(want), "host=%s user=%s password=*** dbname=x", host, user);
    expect(uri, want);
    for (const char *p = pw; *p != '\0'; p++) {
        if (*p == '\'' || *p == '\\')
            quoted[q++] = '\\';
        quoted[q++] = *p;
    }
    quoted[q] = '\0';
    snprintf(uri, sizeof(uri), "host=%s\tpassword = '%s'\nuser=%s", host, quoted, user);
    snprintf(want, sizeof(want), "host=%s\tpassword=***\nuser=%s", host, user);
    expect(uri, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1), *full, dummy = 'z';
    size_t big;

    if (in == NULL)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';

    /* Redaction grows the text by at most 3 bytes per password ("=" or
     * ":" and at least one byte become "***"); 2n + 16 is ample. */
    big = 2 * strlen(in) + 16;
    full = malloc(big);
    if (full == NULL)
        abort();
    log_redact_url(in, full, big);
    if (memchr(full, '\0', big) == NULL || strlen(full) >= big - 1)
        abort();
    for (size_t len = 1; len <= 64; len = len < 8 ? len + 1 : len * 2)
        check_short(in, len, full);
    log_redact_url(in, &dummy, 0); /* nothing written */
    if (dummy != 'z')
        abort();
    log_redact_url(NULL, full, big);
    if (full[0] != '\0')
        abort();

    well_formed(in);
    free(full);
    free(in);
    return 0;
}
