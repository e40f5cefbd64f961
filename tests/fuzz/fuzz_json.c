/*
 * fuzz_json.c - request-body parsing and the typed getters on arbitrary bodies.
 */
#include <stdint.h>
#include <stddef.h>

#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct err e;
    const char *s;
    long long n;
    int b;
    cJSON *o = json_parse_object((const char *)data, size, &e);

    if (o == NULL)
        return 0;
    json_get_string(o, "card_id", 0, &s, &e);
    json_get_int(o, "rating", 0, 1, 4, 0, &n, &e);
    json_get_bool(o, "flag", 0, 0, &b, &e);
    cJSON_Delete(o);
    return 0;
}
