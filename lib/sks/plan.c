#include "sks/plan.h"

#include <math.h>
#include <string.h>

void plan_pace_compute(const struct plan_input *in, struct plan_pace *out)
{
    int unseen_at_start, limit_left;

    memset(out, 0, sizeof(*out));
    out->today_reviews = in->due_reviews > 0 ? in->due_reviews : 0;
    if (!in->has_exam_date) {
        out->needed_per_day = -1;
        out->on_track = -1;
        out->today_new = in->new_available > 0 ? in->new_available : 0;
        return;
    }
    out->study_days = in->days_left - PLAN_DEADLINE_DAYS + 1;
    if (out->study_days < 1) {
        out->deadline_passed = in->days_left < PLAN_DEADLINE_DAYS;
        out->study_days = 1;
    }
    /* The pace is set at the start of the day: the cards met today still
     * count as to do, so meeting them does not lower today's number. */
    unseen_at_start = (in->target_unseen > 0 ? in->target_unseen : 0) +
                      (in->introduced_today > 0 ? in->introduced_today : 0);
    out->needed_per_day = (unseen_at_start + out->study_days - 1) / out->study_days;
    if (in->target_unseen <= 0)
        out->needed_per_day = 0;
    limit_left = in->new_per_day - in->introduced_today;
    out->today_new =
        (out->needed_per_day < in->new_per_day ? out->needed_per_day : in->new_per_day) -
        in->introduced_today;
    if (out->today_new > in->target_unseen)
        out->today_new = in->target_unseen;
    if (out->today_new > limit_left)
        out->today_new = limit_left;
    if (out->today_new < 0)
        out->today_new = 0;
    out->on_track = out->needed_per_day <= in->new_per_day;
    out->suggested_new_per_day = out->on_track ? 0 : out->needed_per_day;
}

int plan_weakest_sheet(const struct readiness_sheet *sheets, int n)
{
    int best = -1;

    for (int i = 0; i < n; i++) {
        if (best < 0 || sheets[i].pass_probability < sheets[best].pass_probability ||
            (sheets[i].pass_probability == sheets[best].pass_probability &&
             sheets[i].expected_points < sheets[best].expected_points))
            best = i;
    }
    return best;
}

static double clamp01(double p)
{
    if (isnan(p) || p < 0.0)
        return 0.0;
    return p > 1.0 ? 1.0 : p;
}

int plan_focus(const double *p_now, const double *p_after, int n, int max, int *out, double *gain)
{
    int k = 0;

    /* Selection, `max` passes over n: n is one sheet's 30 questions. */
    while (k < max) {
        int best = -1;
        double best_gain = 0.0;
        for (int i = 0; i < n; i++) {
            double g = READINESS_POINTS_PER_QUESTION * (clamp01(p_after[i]) - clamp01(p_now[i]));
            int taken = 0;
            for (int j = 0; j < k && !taken; j++)
                taken = out[j] == i;
            if (!taken && g > best_gain) { /* strictly more: ties keep the lower index */
                best = i;
                best_gain = g;
            }
        }
        if (best < 0)
            break;
        out[k] = best;
        if (gain != NULL)
            gain[k] = best_gain;
        k++;
    }
    return k;
}
