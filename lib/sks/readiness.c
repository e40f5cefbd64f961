#include "sks/readiness.h"

#include <stdlib.h>

/* NaN fails both comparisons and becomes 0. */
static double clamp01(double x)
{
    return x >= 0 ? (x <= 1 ? x : 1) : 0;
}

void readiness_distribution(const double *p, int n, double *out)
{
    int i, k;

    out[0] = 1;
    /* After question i, out[0..i+1] is the distribution over the first
     * i + 1 questions; going down in k reuses the array in place. */
    for (i = 0; i < n; i++) {
        double q = clamp01(p[i]);

        out[i + 1] = out[i] * q;
        for (k = i; k >= 1; k--)
            out[k] = out[k] * (1 - q) + out[k - 1] * q;
        out[0] *= 1 - q;
    }
}

double readiness_at_least(const double *p, int n, int k)
{
    double *dist, sum = 0;
    int j;

    if (k <= 0)
        return 1;
    if (k > n)
        return 0;
    dist = malloc(((size_t)n + 1) * sizeof(*dist));
    if (dist == NULL)
        abort();
    readiness_distribution(p, n, dist);
    for (j = n; j >= k; j--)
        sum += dist[j];
    free(dist);
    return sum < 1 ? sum : 1; /* rounding may overshoot 1 by an ulp */
}

int readiness_answers_for_points(int points)
{
    if (points <= 0)
        return 0;
    return points / READINESS_POINTS_PER_QUESTION + (points % READINESS_POINTS_PER_QUESTION != 0);
}

void readiness_sheet_eval(const double *p, int n, int pass_points, struct readiness_sheet *out)
{
    double sum = 0;
    int i;

    for (i = 0; i < n; i++)
        sum += clamp01(p[i]);
    out->expected_points = READINESS_POINTS_PER_QUESTION * sum;
    out->max_points = n > 0 ? READINESS_POINTS_PER_QUESTION * n : 0;
    out->pass_points = pass_points;
    out->pass_answers = readiness_answers_for_points(pass_points);
    out->pass_probability = readiness_at_least(p, n, out->pass_answers);
}
