/*
 * fuzz_config.c - config_parse_env (the EASYSKS_CONFIG_FILE parser) on
 * arbitrary bytes, read through the exact length (not a C string).
 *
 * Every pair handed to the callback has a name of [A-Z0-9_] and a value
 * without a newline that fitted the line buffer; a failure names a line
 * that exists, after at most one pair per earlier line; a tiny error
 * buffer changes nothing but the message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "infra/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    unsigned long pairs;
};

static void on_pair(const char *name, const char *value, void *ctx)
{
    struct seen *s = ctx;
    size_t n = strlen(name);

    if (n == 0 || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != n)
        abort();
    if (strchr(value, '\n') != NULL || n + 1 + strlen(value) >= 8192)
        abort();
    s->pairs++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct seen a = {0}, b = {0};
    char err[256], tiny[4];
    unsigned long lines = 0;
    int rc, rc2;

    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (size > 0 && data[size - 1] != '\n')
        lines++;

    err[0] = '\0';
    rc = config_parse_env(text, size, on_pair, &a, err, sizeof(err));
    if (rc == 0) {
        if (a.pairs > lines)
            abort();
    } else if (rc == -1) {
        char *end;
        unsigned long bad = strtoul(err, &end, 10);
        if (memchr(err, '\0', sizeof(err)) == NULL || bad < 1 || bad > lines ||
            strncmp(end, ": ", 2) != 0 || a.pairs >= bad)
            abort();
    } else {
        abort();
    }

    memset(tiny, 'x', sizeof(tiny)); /* left alone on success */
    rc2 = config_parse_env(text, size, on_pair, &b, tiny, sizeof(tiny));
    if (rc2 != rc || b.pairs != a.pairs || (rc == -1 && memchr(tiny, '\0', sizeof(tiny)) == NULL))
        abort();
    return 0;
}
