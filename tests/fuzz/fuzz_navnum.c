/*
 * fuzz_navnum.c - the chart-task number reader (sks/navnum) and the
 * sub-question grader on arbitrary bytes.
 *
 * The input is split at NUL bytes: piece 0 is the answer, piece 1 a
 * sub-question text, the rest are key answers. Besides memory safety it
 * checks the contracts: the scan never reports more than asked for, every
 * value is finite, a parsed key has 1..NAVNUM_KEY_VALUES values, and the
 * key-to-sub-question mapping stays in range.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sks/navnum.h"

#define MAX_PIECES 12

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct navnum_value vals[16];
    struct navnum_key keys[MAX_PIECES];
    const char *piece[MAX_PIECES], *subs[3];
    int n = 0, nk = 0, nv, sub_of[MAX_PIECES];
    char *buf = malloc(size + 1);

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    piece[n++] = buf;
    for (size_t i = 0; i < size && n < MAX_PIECES; i++)
        if (buf[i] == '\0')
            piece[n++] = buf + i + 1;
    while (n < 2)
        piece[n++] = "";
    nv = navnum_scan(piece[0], vals, 16);
    check(nv >= 0 && nv <= 16);
    for (int i = 0; i < nv; i++)
        check(isfinite(vals[i].v) && isfinite(vals[i].v2) && vals[i].decimals >= 0 &&
              vals[i].decimals <= 9);
    check(navnum_scan(piece[0], vals, 2) <= 2);
    for (int i = 2; i < n; i++) {
        if (navnum_parse_key(piece[i], &keys[nk]) < 0) {
            check(keys[nk].nvalues == 0);
            continue;
        }
        check(keys[nk].nvalues >= 1 && keys[nk].nvalues <= NAVNUM_KEY_VALUES);
        check(strlen(keys[nk].label) < sizeof(keys[nk].label));
        (void)navnum_key_matches(&keys[nk], vals, nv);
        nk++;
    }
    subs[0] = piece[1];
    subs[1] = piece[0];
    subs[2] = "Bestimmen Sie den Kurs (KaK).";
    navnum_assign(subs, 3, keys, nk, sub_of);
    for (int i = 0; i < nk; i++)
        check(sub_of[i] >= 0 && sub_of[i] < 3);
    free(buf);
    return 0;
}
