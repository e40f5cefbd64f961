/*
 * test_timefmt.c - lib/core/timefmt: the reference's isoformat() output, RFC 3339
 * parsing (offsets, fractions, impossible dates refused), dates, UUIDs.
 */
#include <string.h>

#include "tap.h"
#include "core/timefmt.h"

static int fmt_is(long long us, const char *want)
{
    char out[TIMEFMT_ISO_MAX];
    timefmt_iso(us, out);
    if (strcmp(out, want) != 0)
        printf("# got %s, want %s\n", out, want);
    return strcmp(out, want) == 0;
}

static int parses(const char *s, long long want)
{
    long long got = -1;
    return timefmt_parse(s, &got) == 0 && got == want;
}

int main(void)
{
    long long us;
    char lower[37];

    ok(fmt_is(0, "1970-01-01T00:00:00+00:00"), "the epoch, no fraction");
    ok(fmt_is(1796448277000000LL, "2026-12-05T05:24:37+00:00"), "whole seconds: no fraction");
    ok(fmt_is(1796448277000001LL, "2026-12-05T05:24:37.000001+00:00"),
       "microseconds when not zero");
    ok(fmt_is(-1, "1969-12-31T23:59:59.999999+00:00"), "before the epoch rounds down");

    ok(parses("2026-12-05T05:24:37Z", 1796448277000000LL), "Z");
    ok(parses("2026-12-05T06:24:37+01:00", 1796448277000000LL), "an offset");
    ok(parses("2026-12-04T23:54:37-05:30", 1796448277000000LL), "a negative half-hour offset");
    ok(parses("2026-12-05t05:24:37.5z", 1796448277500000LL), "lower-case t and z, a fraction");
    ok(parses("2026-12-05 05:24:37.123456789+00:00", 1796448277123456LL),
       "nine fraction digits, beyond six truncated");
    ok(parses("2024-02-29T00:00:00Z", 1709164800000000LL), "a leap day");
    ok(timefmt_parse("2026-02-29T00:00:00Z", &us) < 0, "no 29 February in 2026");
    ok(timefmt_parse("2026-12-05T05:24:37", &us) < 0, "an instant needs its offset");
    ok(timefmt_parse("2026-12-05T24:00:00Z", &us) < 0, "hour 24 refused");
    ok(timefmt_parse("2026-12-05T05:24:37.Z", &us) < 0, "an empty fraction refused");
    ok(timefmt_parse("2026-12-05T05:24:37Zjunk", &us) < 0, "trailing text refused");
    ok(timefmt_parse("2026-12-05T05:24:37.1234567890Z", &us) < 0, "ten fraction digits refused");
    ok(timefmt_parse("", &us) < 0 && timefmt_parse(NULL, &us) < 0, "empty and NULL refused");

    ok(timefmt_parse_date("2027-03-01", NULL, NULL, NULL) == 0, "a date");
    ok(timefmt_parse_date("2027-02-29", NULL, NULL, NULL) < 0 &&
           timefmt_parse_date("2027-13-01", NULL, NULL, NULL) < 0 &&
           timefmt_parse_date("27-03-01", NULL, NULL, NULL) < 0,
       "impossible and malformed dates refused");
    ok(timefmt_parse_date("2027-03-01x", NULL, NULL, NULL) != 0, "a date with trailing text");

    ok(timefmt_uuid("123E4567-e89b-12d3-a456-426614174000", lower) &&
           strcmp(lower, "123e4567-e89b-12d3-a456-426614174000") == 0,
       "a UUID in any case, lowered");
    ok(!timefmt_uuid("123e4567e89b12d3a456426614174000", NULL) &&
           !timefmt_uuid("123e4567-e89b-12d3-a456-42661417400g", NULL) &&
           !timefmt_uuid("{123e4567-e89b-12d3-a456-426614174000}", NULL) &&
           !timefmt_uuid(NULL, NULL),
       "not UUIDs");
    return tap_done();
}
