/*
 * test_readiness.c - lib/sks/readiness: the dynamic programme against brute
 * force over all 2^n outcomes and against the binomial closed form, edge
 * cases, monotonicity, clamping and the points-to-answers conversion.
 */
#include <math.h>
#include <string.h>

#include "sks/readiness.h"
#include "tap.h"

#define MAXN 30

static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;

static double uniform(void) /* xorshift64*: deterministic, [0, 1) */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* P(exactly k right) by summing the probability of every outcome. */
static void brute_force(const double *p, int n, double *out)
{
    unsigned long mask;
    int i;

    memset(out, 0, (size_t)(n + 1) * sizeof(*out));
    for (mask = 0; mask < (1UL << n); mask++) {
        double prob = 1;
        int right = 0;

        for (i = 0; i < n; i++) {
            int hit = (mask >> i) & 1;

            prob *= hit ? p[i] : 1 - p[i];
            right += hit;
        }
        out[right] += prob;
    }
}

static double binomial_pmf(int n, int k, double q)
{
    return exp(lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0)) * pow(q, k) *
           pow(1 - q, n - k);
}

static double sum_of(const double *d, int n)
{
    double s = 0;
    int k;

    for (k = 0; k <= n; k++)
        s += d[k];
    return s;
}

static void against_brute_force(void)
{
    double p[MAXN], dp[MAXN + 1], bf[MAXN + 1], err, worst = 0, worst_sum = 0, tail;
    int n, trial, k, tails_ok = 1;

    for (n = 1; n <= 14; n++) {
        for (trial = 0; trial < 20; trial++) {
            for (k = 0; k < n; k++) /* mix of interior values and exact 0 / 1 */
                p[k] = trial % 5 == 4 && k % 3 == 0 ? (double)(k % 2) : uniform();
            readiness_distribution(p, n, dp);
            brute_force(p, n, bf);
            for (k = 0; k <= n; k++) {
                err = fabs(dp[k] - bf[k]);
                worst = err > worst ? err : worst;
            }
            err = fabs(sum_of(dp, n) - 1);
            worst_sum = err > worst_sum ? err : worst_sum;
            for (k = 0, tail = 1; k <= n + 1; k++) {
                tails_ok &= fabs(readiness_at_least(p, n, k) - tail) <= 1e-12;
                tail -= k <= n ? bf[k] : 0;
            }
        }
    }
    ok(worst <= 1e-12, "n = 1..14, 280 random sheets: matches all 2^n outcomes (worst %.2g)",
       worst);
    ok(worst_sum <= 1e-12, "distribution sums to 1 (worst %.2g)", worst_sum);
    ok(tails_ok, "readiness_at_least equals the brute-force tail for every k");
}

static void edge_cases(void)
{
    double p[MAXN], d[MAXN + 1], worst = 0, err;
    int k, good = 1;

    readiness_distribution(NULL, 0, d);
    ok(d[0] == 1, "n = 0: P(0 right) = 1");
    ok(readiness_at_least(NULL, 0, 0) == 1 && readiness_at_least(NULL, 0, 1) == 0,
       "n = 0: at least 0 is certain, at least 1 impossible");
    readiness_distribution(NULL, -3, d);
    ok(d[0] == 1, "negative n is an empty sheet");

    for (k = 0; k < MAXN; k++)
        p[k] = 0;
    readiness_distribution(p, MAXN, d);
    for (k = 1; k <= MAXN; k++)
        good &= d[k] == 0;
    ok(d[0] == 1 && good, "all p = 0: exactly 0 right");
    for (k = 0; k < MAXN; k++)
        p[k] = 1;
    readiness_distribution(p, MAXN, d);
    for (k = 0, good = 1; k < MAXN; k++)
        good &= d[k] == 0;
    ok(d[MAXN] == 1 && good, "all p = 1: exactly n right");
    ok(readiness_at_least(p, MAXN, MAXN) == 1 && readiness_at_least(p, MAXN, MAXN + 1) == 0 &&
           readiness_at_least(p, MAXN, -7) == 1,
       "all p = 1: at least n certain, at least n + 1 impossible, k < 0 certain");

    for (k = 0; k < MAXN; k++)
        p[k] = 0.5;
    readiness_distribution(p, MAXN, d);
    for (k = 0; k <= MAXN; k++) {
        err = fabs(d[k] - binomial_pmf(MAXN, k, 0.5));
        worst = err > worst ? err : worst;
    }
    /* C(30, 15) / 2^30 and C(30, 0) / 2^30 are exact in binary. */
    ok(worst <= 1e-12 && d[15] == 155117520.0 / 1073741824.0 && d[0] == 1.0 / 1073741824.0,
       "n = 30, p = 0.5: binomial closed form (worst %.2g)", worst);
}

static void monotonicity(void)
{
    double p[MAXN], lo[MAXN + 1];
    int k, i, step, good = 1;

    for (i = 0; i < MAXN; i++)
        p[i] = uniform();
    for (step = 0; step < 200; step++) {
        for (k = 0; k <= MAXN; k++)
            lo[k] = readiness_at_least(p, MAXN, k);
        i = step % MAXN;
        p[i] += (1 - p[i]) * uniform(); /* raise one question's chance */
        for (k = 0; k <= MAXN; k++)
            good &= readiness_at_least(p, MAXN, k) >= lo[k] - 1e-15;
    }
    ok(good, "raising any p never lowers P(at least k), for every k");
    for (k = 1, good = 1; k <= MAXN; k++)
        good &= readiness_at_least(p, MAXN, k) <= readiness_at_least(p, MAXN, k - 1);
    ok(good, "P(at least k) falls as k grows");
}

static void clamping(void)
{
    double raw[6] = {-0.5, 1.5, NAN, 0.3, INFINITY, -INFINITY};
    double clean[6] = {0, 1, 0, 0.3, 1, 0};
    double a[7], b[7];
    struct readiness_sheet s;

    readiness_distribution(raw, 6, a);
    readiness_distribution(clean, 6, b);
    ok(memcmp(a, b, sizeof(a)) == 0, "values outside [0, 1] clamp, NaN counts as 0");
    ok(readiness_at_least(raw, 6, 2) == readiness_at_least(clean, 6, 2),
       "readiness_at_least clamps the same way");
    readiness_sheet_eval(raw, 6, 4, &s);
    ok(fabs(s.expected_points - 4.6) < 1e-12 && !isnan(s.pass_probability),
       "expected points use the clamped values (%.2f)", s.expected_points);
}

static void sheets(void)
{
    double p[READINESS_SKS_QUESTIONS], tail = 0;
    struct readiness_sheet s;
    int k;

    ok(readiness_answers_for_points(39) == 20 && readiness_answers_for_points(40) == 20 &&
           readiness_answers_for_points(41) == 21 && readiness_answers_for_points(1) == 1 &&
           readiness_answers_for_points(60) == 30,
       "points to answers: ceil(points / 2), 39 -> 20");
    ok(readiness_answers_for_points(0) == 0 && readiness_answers_for_points(-4) == 0,
       "no points needed: no answers needed");

    for (k = 0; k < READINESS_SKS_QUESTIONS; k++)
        p[k] = 0.65;
    readiness_sheet_eval(p, READINESS_SKS_QUESTIONS, READINESS_SKS_PASS_POINTS, &s);
    for (k = 20; k <= READINESS_SKS_QUESTIONS; k++)
        tail += binomial_pmf(READINESS_SKS_QUESTIONS, k, 0.65);
    ok(fabs(s.expected_points - 39) < 1e-12 && s.max_points == 60 && s.pass_points == 39 &&
           s.pass_answers == 20,
       "SKS sheet, p = 0.65: 39 expected points of 60, 20 answers needed");
    ok(fabs(s.pass_probability - tail) < 1e-12, "pass probability %.6f = binomial tail %.6f",
       s.pass_probability, tail);

    for (k = 0; k < READINESS_SKS_QUESTIONS; k++)
        p[k] = k < 19 ? 1.0 : 0.0;
    readiness_sheet_eval(p, READINESS_SKS_QUESTIONS, READINESS_SKS_PASS_POINTS, &s);
    ok(s.pass_probability == 0 && s.expected_points == 38, "19 sure answers (38 points): fails");
    p[19] = 1.0;
    readiness_sheet_eval(p, READINESS_SKS_QUESTIONS, READINESS_SKS_PASS_POINTS, &s);
    ok(s.pass_probability == 1 && s.expected_points == 40, "20 sure answers (40 points): passes");
    readiness_sheet_eval(p, READINESS_SKS_QUESTIONS, 61, &s);
    ok(s.pass_probability == 0 && s.pass_answers == 31, "a pass mark above the maximum: 0");
    readiness_sheet_eval(NULL, 0, 0, &s);
    ok(s.pass_probability == 1 && s.expected_points == 0 && s.max_points == 0,
       "empty sheet, pass mark 0: certain");
}

int main(void)
{
    against_brute_force();
    edge_cases();
    monotonicity();
    clamping();
    sheets();
    return tap_done();
}
