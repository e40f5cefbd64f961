/*
 * fuzz_jwks.c - the JWKS parser on arbitrary documents.
 */
#include <stdint.h>
#include <stddef.h>

#include "infra/jwks.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jwks *set = NULL;
    struct err e;

    log_set_level(LOG_ERROR);
    if (jwks_parse((const char *)data, size, &set, &e) == 0)
        (void)jwks_count(set);
    jwks_free(set);
    return 0;
}
