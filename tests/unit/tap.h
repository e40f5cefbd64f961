/*
 * tap.h - a minimal TAP producer for the unit tests (header-only).
 *
 *     ok(cond, "name %d", i);  ...  return tap_done();
 *
 * tap_done() prints the plan ("1..N") and returns the exit status.
 */
#ifndef EASYSKS_TAP_H
#define EASYSKS_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_count, tap_failed;

__attribute__((format(printf, 2, 3))) static int ok(int cond, const char *fmt, ...)
{
    va_list ap;
    tap_count++;
    if (!cond)
        tap_failed++;
    printf("%sok %d - ", cond ? "" : "not ", tap_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    return cond;
}

static inline int tap_done(void)
{
    printf("1..%d\n", tap_count);
    return tap_failed == 0 ? 0 : 1;
}

#endif
