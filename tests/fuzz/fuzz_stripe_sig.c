/*
 * fuzz_stripe_sig.c - webhook signature verification on arbitrary
 * Stripe-Signature headers and bodies. An input is "<header>\n<body>" (no
 * newline: all header, empty body); the secrets and the clock are fixed.
 *
 * Whatever verifies must really be signed: the header must carry, as a v1,
 * the HMAC-SHA256 of "<t>.<body>" under one of the secrets (recomputed
 * here with OpenSSL's one-shot HMAC(), not the code under test), and t must
 * lie within the tolerance of FUZZ_NOW. Every failure must be a 400 with a
 * signature_* code. In replay (replay.c) the run also fails unless some
 * input verified, so the corpus keeps the accepting branch covered.
 *
 * The signed corpus entries (valid, valid-second-secret, two-v1, v0-and-v1,
 * and the expired/future ones, which fail on the clock) were made with
 *     printf '%s.%s' "$t" "$body" | openssl dgst -sha256 -hmac whsec_fuzz_1
 * for t around FUZZ_NOW.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/log.h"
#include "infra/stripe.h"

#define FUZZ_NOW 1800000000LL
#define SECRETS "whsec_fuzz_1, whsec_fuzz_2"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fuzz_replay_done(void);

static unsigned long verified;

/* Does `header` carry hex(HMAC(secret, t "." body)) as a v1 for one of
 * the secrets, with t within the tolerance? */
static int really_signed(const char *header, const char *body, size_t len)
{
    static const char *const secrets[] = {"whsec_fuzz_1", "whsec_fuzz_2"};
    const char *t = strstr(header, "t=");
    char tbuf[32], hex[65];
    unsigned char mac[32];
    unsigned maclen = 0;
    size_t tlen;
    long long tv;

    /* The t entry: at the start or after a comma (and blanks). */
    while (t != NULL && t != header) {
        const char *b = t;
        while (b > header && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b == header || b[-1] == ',')
            break;
        t = strstr(t + 1, "t=");
    }
    if (t == NULL)
        return 0;
    t += 2;
    tlen = strspn(t, "0123456789");
    if (tlen == 0 || tlen >= sizeof(tbuf))
        return 0;
    memcpy(tbuf, t, tlen);
    tbuf[tlen] = '\0';
    tv = strtoll(tbuf, NULL, 10);
    if (tv < FUZZ_NOW - STRIPE_SIGNATURE_TOLERANCE_S ||
        tv > FUZZ_NOW + STRIPE_SIGNATURE_TOLERANCE_S)
        return 0;
    for (size_t k = 0; k < sizeof(secrets) / sizeof(secrets[0]); k++) {
        size_t n = tlen + 1 + len;
        unsigned char *msg = malloc(n + 1);
        memcpy(msg, tbuf, tlen);
        msg[tlen] = '.';
        if (len > 0)
            memcpy(msg + tlen + 1, body, len);
        HMAC(EVP_sha256(), secrets[k], (int)strlen(secrets[k]), msg, n, mac, &maclen);
        free(msg);
        for (unsigned i = 0; i < maclen; i++)
            snprintf(hex + 2 * i, 3, "%02x", mac[i]);
        /* Case-insensitive search for "v1=<hex>". */
        for (const char *p = header; (p = strstr(p, "v1=")) != NULL; p++) {
            if (strncasecmp(p + 3, hex, 64) == 0)
                return 1;
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t hlen = nl != NULL ? (size_t)(nl - data) : size;
    char *header = malloc(hlen + 1);
    const char *body = nl != NULL ? (const char *)nl + 1 : "";
    size_t blen = nl != NULL ? size - hlen - 1 : 0;
    struct err e = {0};
    int rc;

    log_set_level(LOG_ERROR);
    memcpy(header, data, hlen);
    header[hlen] = '\0'; /* a NUL inside ends the header, as in a C string */
    rc = stripe_verify_signature(header, body, blen, SECRETS, FUZZ_NOW,
                                 STRIPE_SIGNATURE_TOLERANCE_S, &e);
    if (rc == 0) {
        verified++;
        if (!really_signed(header, body, blen)) {
            fprintf(stderr, "accepted a delivery that is not signed: %s\n", header);
            abort();
        }
    } else if (e.status != 400 || e.code == NULL || strncmp(e.code, "signature_", 10) != 0) {
        fprintf(stderr, "unexpected failure %d %s\n", e.status, e.code ? e.code : "(null)");
        abort();
    }
    free(header);
    return 0;
}

int fuzz_replay_done(void)
{
    if (verified == 0) {
        fprintf(stderr, "fuzz_stripe_sig: no corpus input verified; the valid branch never ran\n");
        return 1;
    }
    return 0;
}
