/*
 * fuzz_jwt.c - the bearer-token verifier on arbitrary Authorization headers.
 * A fixed JWKS is loaded so inputs can reach the kid lookup and signature
 * check; no network (the JWKS URL is never fetched: refresh is rate-limited
 * and points at a closed loopback port).
 *
 * The clock is fixed at FUZZ_NOW, inside the validity of the corpus tokens,
 * so the signed tokens in corpus/jwt stay valid (valid, valid-lowercase-
 * scheme) or fail one claim each (expired, not-yet-valid, iat-future,
 * wrong-iss, wrong-client, id-token, ctrl-sub, ctrl-username, unknown-kid)
 * for as long as the corpus exists. They were minted once with
 *     node tests/tools/mint-token.mjs --gen-key key.pem
 *     node tests/tools/mint-token.mjs --key key.pem --kid k1 \
 *         --iss https://issuer.test/pool --client-id client \
 *         --claims '{"iat":1799999940,"exp":1800003600,...}'
 * and the private key thrown away; to add a signed token, make a new pair
 * and replace the JWKS below and every signed token in the corpus.
 *
 * Whatever verifies must carry a subject, no control characters in its
 * identity, and an exp that has not passed. In replay (replay.c) the run
 * fails when no input verified: the valid-token branch must run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/auth.h"
#include "core/log.h"

#define FUZZ_NOW 1800000000LL /* 2027-01-15T08:00:00Z */
#define LEEWAY 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fuzz_replay_done(void);

static struct auth_verifier *verifier;
static unsigned long inputs, verified;

static const char jwks[] =
    "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"use\":\"sig\",\"alg\":\"RS256\",\"e\":\"AQAB\","
    "\"n\":\"4Fo1kh4Td95eiraZ6bCn9u09XHWr12fQWEncQmlBO-r-TSBOX1nwUweJfSqgmf_r-w-ivqnFtv3_cL64"
    "bAEFVk-Duz-FVN25QhiO2WhXwZxzFcoKNHPO8B0vCjcggCSi5KPG9AJSGZKJjJeGR9f_vu71H0g2UQceIaIVXB_S"
    "MqdznD5yq4eAXjnDjRvTNNk70cj-12Z7sjpBud-bS7oaJ4U7r8KgMlHkm36cKgM86zs5B57wPQkbDr5XB9THxvvr"
    "2lD2V7uKjbXmJlO5CMUZmQIOyodZ4nHPddcKEZ7p67HyFBx_y7ahanktElPfz8Pnav5GsoFxvfLrome23LQR5Q\""
    "}]}";

static long long fixed_clock(void *ctx)
{
    (void)ctx;
    return FUZZ_NOW;
}

static void init(void)
{
    struct auth_config c = {.issuer = "https://issuer.test/pool",
                            .jwks_url = "http://127.0.0.1:1/jwks.json",
                            .client_ids = "client",
                            .token_use = "access",
                            .leeway_seconds = LEEWAY,
                            .allow_http = 1};
    struct err e;

    log_set_level(LOG_ERROR);
    verifier = auth_verifier_new(&c, &e);
    if (verifier == NULL)
        abort();
    /* Before the prefetch: the refresh rate limit runs on this clock too. */
    auth_verifier_set_clock(verifier, fixed_clock, NULL);
    if (auth_verifier_load_jwks(verifier, jwks, sizeof(jwks) - 1, &e) != 0)
        abort();
    /* Mark a refresh as just done so no input triggers a fetch. */
    auth_verifier_prefetch(verifier, &e);
}

static int has_control(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return 1;
    return 0;
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
    inputs++;
    if (auth_verify_bearer(verifier, header, &id, &e) == 0) {
        verified++;
        if (id.sub[0] == '\0' || has_control(id.sub) || has_control(id.username) ||
            has_control(id.email) || id.exp <= FUZZ_NOW - LEEWAY)
            abort();
    }
    free(header);
    return 0;
}

/* Called by replay.c after the corpus ran. */
int fuzz_replay_done(void)
{
    printf("# fuzz_jwt: %lu of %lu inputs verified\n", verified, inputs);
    if (verified == 0) {
        fprintf(stderr, "fuzz_jwt: no input verified, so the valid-token branch never ran "
                        "(are FUZZ_NOW, the JWKS and corpus/jwt out of step?)\n");
        return 1;
    }
    return 0;
}
