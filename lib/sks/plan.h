/*
 * plan.h - the pass plan: what to do today to pass on the exam date.
 *
 * Pace (docs/api.md "Pass plan"): the target set is every card of the
 * learner's variant that an official sheet can ask (sail: the 418 cards on
 * the 15 sheets; motor: the sheets' shared questions plus all of
 * Seemannschaft II, which has no sheet assignment). Every target card
 * should have been met (reviewed once) by a week before the exam, the
 * deadline, leaving that week for reviews. The new cards per day needed are
 * the target cards not met at the start of today spread evenly over the
 * days from today to the deadline (both counted; at least one day, so a
 * learner past the deadline is asked to meet them all now). Today's target
 * is the new cards still to meet today (the needed pace, capped by the
 * learner's own daily new-card limit, minus the cards met today) plus every
 * review due now. On track: the needed pace fits the learner's limit. When
 * it does not, the plan suggests a limit; it never changes one.
 *
 * Focus: the weakest sheet is the one with the lowest pass probability
 * (then fewer expected points, then the lower number). Its cards are ranked
 * by the expected points one review rated "Gut" today would add on the exam
 * date: 2 * (R_after - R_now) with R the FSRS retrievability then.
 *
 * Pure functions, no database, no clock.
 */
#ifndef EASYSKS_PLAN_H
#define EASYSKS_PLAN_H

#include "sks/readiness.h"

#define PLAN_DEADLINE_DAYS 7 /* met every card this many days before the exam */
#define PLAN_FOCUS_MAX 10

struct plan_input {
    int has_exam_date;
    int days_left;        /* exam date minus today, in the learner's days (may be < 0) */
    int target_unseen;    /* target cards not met yet */
    int introduced_today; /* cards met for the first time today */
    int new_per_day;      /* the learner's daily new-card limit */
    int due_reviews;      /* scheduled cards due now */
    int new_available;    /* new cards the limit still allows today (no exam date) */
};

struct plan_pace {
    int study_days;      /* days from today to the deadline, both counted; >= 1 (0: no exam date) */
    int deadline_passed; /* today is after the deadline */
    int needed_per_day;  /* new cards per day to meet the target by the deadline (-1: no date) */
    int today_new;       /* new cards still to meet today */
    int today_reviews;   /* reviews due now */
    int on_track;        /* 1 yes, 0 no, -1 no exam date */
    int suggested_new_per_day; /* a limit that would keep the pace, 0 = none needed */
};

void plan_pace_compute(const struct plan_input *in, struct plan_pace *out);

/* The weakest of n sheets (index into `sheets`), -1 for n <= 0. */
int plan_weakest_sheet(const struct readiness_sheet *sheets, int n);

/* Up to `max` indices into p_now/p_after (n entries) by gain 2 * (p_after -
 * p_now), largest first, ties by index; gains <= 0 are left out. Writes
 * out[0..k) and gain[0..k) (gain may be NULL); returns k. */
int plan_focus(const double *p_now, const double *p_after, int n, int max, int *out, double *gain);

#endif
