/*
 * fuzz_ids.c - the validators of the ids a client chooses: a review_id
 * (timefmt_uuid, also every UUID in a path) and an Idempotency-Key
 * (text_token_ok). Byte 0 picks which; the rest is the id, cut at a NUL as
 * a C string from FastCGI or cJSON would be.
 *
 * Each answer is checked against an independent reading of the rule: a
 * UUID is exactly 8-4-4-4-12 hex digits (any case) and its lower-case form
 * is the input lower-cased; a key is 1..max bytes of 0x21..0x7e.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "core/timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

static int uuid_rule(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

    if (strlen(s) != sizeof(shape) - 1)
        return 0;
    for (size_t i = 0; shape[i] != '\0'; i++)
        if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

static int token_rule(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n < 1 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s, lower[37];

    if (size < 1)
        return 0;
    s = malloc(size);
    if (s == NULL)
        abort();
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    if (data[0] & 1) {
        size_t max = (data[0] >> 1) % 2 ? 255 : 8;
        check(text_token_ok(s, max) == token_rule(s, max));
    } else {
        memset(lower, 'X', sizeof(lower));
        int ok = timefmt_uuid(s, lower);
        check(ok == uuid_rule(s));
        check(timefmt_uuid(s, NULL) == ok);
        if (ok) {
            check(lower[36] == '\0');
            for (int i = 0; i < 36; i++)
                check(lower[i] == tolower((unsigned char)s[i]));
        }
    }
    check(text_token_ok(NULL, 255) == 0);
    free(s);
    return 0;
}
