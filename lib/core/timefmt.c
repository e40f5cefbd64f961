#include "core/timefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <openssl/rand.h>

#define US_PER_S 1000000LL

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), independent of the C library's time zone handling. */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : days[m - 1];
}

void timefmt_iso(long long us, char *out)
{
    long long secs = us >= 0 ? us / US_PER_S : -((-us + US_PER_S - 1) / US_PER_S);
    long long frac = us - secs * US_PER_S;
    time_t t = (time_t)secs;
    struct tm tm;
    size_t n;

    gmtime_r(&t, &tm);
    n = strftime(out, TIMEFMT_ISO_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac != 0)
        n += (size_t)snprintf(out + n, TIMEFMT_ISO_MAX - n, ".%06lld", frac);
    snprintf(out + n, TIMEFMT_ISO_MAX - n, "+00:00");
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int timefmt_parse_date(const char *s, int *py, int *pm, int *pd)
{
    int y, m, d;

    if (s == NULL || strlen(s) < 10 || digits(s, 4, &y) < 0 || s[4] != '-' ||
        digits(s + 5, 2, &m) < 0 || s[7] != '-' || digits(s + 8, 2, &d) < 0 || y < 1 || m < 1 ||
        m > 12 || d < 1 || d > days_in_month(y, m))
        return -1;
    if (py != NULL)
        *py = y;
    if (pm != NULL)
        *pm = m;
    if (pd != NULL)
        *pd = d;
    return s[10] == '\0' ? 0 : 1; /* 1: more follows (used by timefmt_parse) */
}

int timefmt_parse(const char *s, long long *us)
{
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    long long frac = 0, scale = 100000;
    const char *p;

    if (timefmt_parse_date(s, &y, &mo, &d) != 1)
        return -1;
    p = s + 10;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    if (digits(p + 1, 2, &h) < 0 || p[3] != ':' || digits(p + 4, 2, &mi) < 0 || p[6] != ':' ||
        digits(p + 7, 2, &sec) < 0 || h > 23 || mi > 59 || sec > 59)
        return -1;
    p += 9;
    if (*p == '.') {
        int n = 0;
        for (p++; isdigit((unsigned char)*p); p++, n++) {
            if (n >= 9)
                return -1;
            if (scale > 0) {
                frac += (*p - '0') * scale;
                scale /= 10;
            }
        }
        if (n == 0)
            return -1;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        if (digits(p + 1, 2, &oh) < 0 || p[3] != ':' || digits(p + 4, 2, &om) < 0 || oh > 23 ||
            om > 59)
            return -1;
        p += 6;
    } else {
        return -1; /* an instant needs its offset */
    }
    if (*p != '\0')
        return -1;
    *us = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) -
           sign * (oh * 3600 + om * 60)) *
              US_PER_S +
          frac;
    return 0;
}

int timefmt_uuid(const char *s, char *lower)
{
    static const int dash[] = {8, 13, 18, 23};

    if (s == NULL || strlen(s) != 36)
        return 0;
    for (int i = 0, k = 0; i < 36; i++) {
        if (k < 4 && i == dash[k]) {
            if (s[i] != '-')
                return 0;
            k++;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    if (lower != NULL) {
        for (int i = 0; i < 36; i++)
            lower[i] = (char)tolower((unsigned char)s[i]);
        lower[36] = '\0';
    }
    return 1;
}

void timefmt_uuid_v4(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[16];

    if (RAND_bytes(r, sizeof(r)) != 1)
        abort();
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    for (int i = 0, o = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[r[i] >> 4];
        out[o++] = hex[r[i] & 15];
    }
    out[36] = '\0';
}
