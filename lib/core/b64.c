#include "core/b64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int value_of(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int b64_url_decode(const char *in, size_t len, int allow_padding, unsigned char *out, size_t outcap,
                   size_t *outlen)
{
    unsigned long acc = 0;
    size_t n = 0;
    int bits = 0;

    if (allow_padding) {
        size_t pad = 0;
        while (len > 0 && in[len - 1] == '=' && pad < 2) {
            len--;
            pad++;
        }
        /* Padding, when present, must complete a 4-character group. */
        if (pad > 0 && (len + pad) % 4 != 0)
            return -1;
    }
    /* A lone character in the final group carries only 6 bits: invalid. */
    if (len % 4 == 1)
        return -1;

    for (size_t i = 0; i < len; i++) {
        int v = value_of((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned long)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= outcap)
                return -1;
            out[n++] = (unsigned char)((acc >> bits) & 0xff);
        }
        acc &= 0xff; /* keep only what may still be needed (< 8 bits + 6) */
    }
    /* Leftover bits must be zero: rejects non-canonical encodings. */
    if (bits > 0 && (acc & ((1ul << bits) - 1)) != 0)
        return -1;
    *outlen = n;
    return 0;
}

size_t b64_url_encode(const unsigned char *in, size_t len, char *out)
{
    size_t o = 0, i = 0;

    for (; i + 2 < len; i += 3) {
        unsigned long v =
            ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8) | in[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    if (len - i == 1) {
        unsigned long v = (unsigned long)in[i] << 16;
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
    } else if (len - i == 2) {
        unsigned long v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8);
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
    }
    out[o] = '\0';
    return o;
}
