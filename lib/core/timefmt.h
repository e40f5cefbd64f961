/*
 * timefmt.h - instants as the API writes and reads them.
 *
 * The reference contract writes timestamps the way Python's isoformat()
 * does for UTC: "2026-12-02T05:44:37+00:00", with ".ffffff" only when the
 * microseconds are not zero. Instants are Unix microseconds (PostgreSQL's
 * precision) everywhere in lib/.
 */
#ifndef EASYSKS_TIMEFMT_H
#define EASYSKS_TIMEFMT_H

#define TIMEFMT_ISO_MAX 40

/* Write `us` as above into out (at least TIMEFMT_ISO_MAX bytes). Years
 * outside 0001..9999 are written as they come; callers keep to that range. */
void timefmt_iso(long long us, char *out);

/* Parse an RFC 3339 instant: "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)"
 * ('t', 'z' and a space for 'T' accepted; up to 9 fraction digits, beyond 6
 * truncated). Returns 0 with *us set, or -1 for anything else, including
 * impossible dates (2026-02-30) and a missing offset. */
int timefmt_parse(const char *s, long long *us);

/* "YYYY-MM-DD" with a real calendar date; 0 or -1. y/m/d may be NULL. */
int timefmt_parse_date(const char *s, int *y, int *m, int *d);

/* A UUID in its canonical 8-4-4-4-12 hex form (any case); 1 or 0. When
 * `lower` is not NULL it receives the lower-case form (37 bytes). */
int timefmt_uuid(const char *s, char *lower);

/* A random (version 4) UUID, lower-case, into out[37]. */
void timefmt_uuid_v4(char out[37]);

#endif
