/*
 * fuzz_jwt.c - the bearer-token verifier on arbitrary Authorization headers.
 * A fixed JWKS is loaded so inputs can reach the kid lookup and signature
 * check; no network (the JWKS URL is never fetched: refresh is rate-limited
 * and points at a closed loopback port).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct auth_verifier *verifier;

static const char jwks[] =
    "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"use\":\"sig\",\"alg\":\"RS256\",\"e\":\"AQAB\","
    "\"n\":\"27NZtJFTgcpoHDo8NovXT8KxCa82RxXNUIqgiRncnGO-Slu4BnDfcPEFn67SffUd08ZNi73xG8e5tD1B"
    "qmIBRNSU0YK4jViimhRFQXgl2g6HmBhOfXGMXJJRROY59qhbneesbIzEbDB8wk63ChBbYOKDEFz9yN_f"
    "7M0ydHvE0iWSGenCB15akLJo9I0OOCqUcq3bJEH56r9KMb3la0uFD7Fq3E4b5Xd01BFDWYEsOOdiRU2c"
    "X-1xpHC7pRcbX3r1gwP3am_ncosVJsGdUWKGPm6D5qjuVZEIWJK2NRRiaI0U0t3lYHm-3IrV10ETFTV4"
    "mHLALt2vrxZ7qUU_vVF1Zw\"}]}";

static void init(void)
{
    struct auth_config c = {.issuer = "https://issuer.test/pool",
                            .jwks_url = "http://127.0.0.1:1/jwks.json",
                            .client_ids = "client",
                            .token_use = "access",
                            .leeway_seconds = 5,
                            .allow_http = 1};
    struct err e;

    log_set_level(LOG_ERROR);
    verifier = auth_verifier_new(&c, &e);
    if (verifier == NULL || auth_verifier_load_jwks(verifier, jwks, sizeof(jwks) - 1, &e) != 0)
        abort();
    /* Mark a refresh as just done so no input triggers a fetch. */
    auth_verifier_prefetch(verifier, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct auth_identity id;
    struct err e;
    char *header;

    if (verifier == NULL)
        init();
    header = malloc(size + 1);
    if (header == NULL)
        return 0;
    memcpy(header, data, size);
    header[size] = '\0';
    /* Only the corpus' genuinely signed token can verify; whatever verifies
     * must carry a subject. */
    if (auth_verify_bearer(verifier, header, &id, &e) == 0 && id.sub[0] == '\0')
        abort();
    free(header);
    return 0;
}
