/*
 * test_plan.c - lib/plan: the pace to meet every target card a week before
 * the exam (even spread, the day's cards counted once, the learner's limit
 * a ceiling and only ever a suggestion, the deadline passed, no exam date),
 * the weakest sheet, and the focus cards by gain in expected points.
 */
#include <math.h>
#include <stdio.h>

#include "sks/plan.h"
#include "tap.h"

int main(void)
{
    struct plan_pace p;
    struct plan_input in = {.has_exam_date = 1,
                            .days_left = 30,
                            .target_unseen = 418,
                            .introduced_today = 0,
                            .new_per_day = 20,
                            .due_reviews = 12};

    plan_pace_compute(&in, &p);
    /* 30 days left, deadline day 23: 24 study days (today .. deadline). */
    ok(p.study_days == 24 && p.needed_per_day == 18 && p.today_new == 18 && p.today_reviews == 12 &&
           p.on_track == 1 && p.suggested_new_per_day == 0,
       "30 days, 418 to meet, limit 20: 24 days, 18 a day, on track (%d, %d, %d, %d)", p.study_days,
       p.needed_per_day, p.today_new, p.on_track);

    in.introduced_today = 10;
    in.target_unseen = 408;
    plan_pace_compute(&in, &p);
    ok(p.needed_per_day == 18 && p.today_new == 8,
       "ten met today: the pace stays 18, 8 still to do today (%d, %d)", p.needed_per_day,
       p.today_new);

    in.introduced_today = 0;
    in.target_unseen = 418;
    in.new_per_day = 10;
    plan_pace_compute(&in, &p);
    ok(p.needed_per_day == 18 && p.today_new == 10 && p.on_track == 0 &&
           p.suggested_new_per_day == 18,
       "limit 10 < 18 needed: today 10 (the ceiling), not on track, 18 suggested");

    in.new_per_day = 20;
    in.days_left = 3;
    plan_pace_compute(&in, &p);
    ok(p.study_days == 1 && p.deadline_passed == 1 && p.needed_per_day == 418 &&
           p.today_new == 20 && p.on_track == 0 && p.suggested_new_per_day == 418,
       "three days left: past the deadline, everything now, the limit still caps today");

    in.days_left = 7;
    plan_pace_compute(&in, &p);
    ok(p.study_days == 1 && p.deadline_passed == 0, "the deadline is today: one day, not passed");

    in.days_left = 30;
    in.target_unseen = 0;
    plan_pace_compute(&in, &p);
    ok(p.needed_per_day == 0 && p.today_new == 0 && p.on_track == 1,
       "every target card met: no new cards needed, on track");

    in = (struct plan_input){.has_exam_date = 0, .new_available = 20, .due_reviews = 5};
    plan_pace_compute(&in, &p);
    ok(p.needed_per_day == -1 && p.on_track == -1 && p.today_new == 20 && p.today_reviews == 5,
       "no exam date: no pace, today = what the limit allows plus the reviews due");

    {
        struct readiness_sheet s[4] = {{.expected_points = 30, .pass_probability = 0.2},
                                       {.expected_points = 20, .pass_probability = 0.1},
                                       {.expected_points = 18, .pass_probability = 0.1},
                                       {.expected_points = 50, .pass_probability = 0.9}};
        ok(plan_weakest_sheet(s, 4) == 2, "weakest: lowest pass probability, then fewer points");
        ok(plan_weakest_sheet(s, 0) == -1, "no sheets: none");
    }
    {
        double now[6] = {0.9, 0.0, 0.5, 0.2, 1.0, NAN}, after[6] = {0.95, 0.3, 0.9, 0.3, 1.0, 0.4};
        int out[10], k;
        double gain[10];
        k = plan_focus(now, after, 6, 10, out, gain);
        ok(k == 5 && out[0] == 2 && out[1] == 5 && out[2] == 1 && out[3] == 3 && out[4] == 0,
           "focus: by gain 0.8, 0.8, 0.6, 0.2, 0.1; ties by index; no gain left out (k=%d)", k);
        ok(fabs(gain[0] - 0.8) < 1e-9 && fabs(gain[2] - 0.6) < 1e-9, "gains in expected points");
        k = plan_focus(now, after, 6, 2, out, NULL);
        ok(k == 2 && out[0] == 2 && out[1] == 5, "focus: at most max");
    }
    return tap_done();
}
