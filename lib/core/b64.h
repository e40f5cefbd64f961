/*
 * b64.h - base64url (RFC 4648 section 5) for JWS segments and JWK members.
 *
 * Decoding is strict because a token is attacker-controlled: only the
 * url-safe alphabet, no whitespace, no padding inside the data, and the
 * unused low bits of the last character must be zero (so two different
 * strings never decode to the same bytes - a flipped last character of a
 * signature is a different signature, not the same one).
 */
#ifndef EASYSKS_B64_H
#define EASYSKS_B64_H

#include <stddef.h>

/* Bytes needed to decode `len` characters (an upper bound). */
#define B64_DECODED_MAX(len) (((len) / 4) * 3 + 3)

/* Decode `len` characters of `in` (need not be NUL-terminated) into `out`
 * (caller storage of `outcap` bytes). `allow_padding`: accept trailing '='
 * (JWK producers sometimes pad; JWS segments never are). Returns 0 and the
 * decoded length in *outlen, or -1 on any invalid input or if out is too small. */
int b64_url_decode(const char *in, size_t len, int allow_padding, unsigned char *out, size_t outcap,
                   size_t *outlen);

/* Encode `len` bytes without padding into `out` (caller storage, at least
 * B64_ENCODED_LEN(len) + 1 bytes); always NUL-terminates. Returns the length. */
#define B64_ENCODED_LEN(len) (((len)*4 + 2) / 3)
size_t b64_url_encode(const unsigned char *in, size_t len, char *out);

#endif
