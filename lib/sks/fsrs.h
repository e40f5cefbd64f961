/*
 * fsrs.h - the FSRS spaced-repetition scheduler, exactly as py-fsrs 3.1.0
 * schedules with all its defaults (the `FSRS` class API: weights w0..w18,
 * requested retention 0.9, maximum interval 36500 days, no fuzz).
 *
 * Why a port that copies py-fsrs to the last bit: the original Easy SKS
 * backend stored its card states with that library, and the study flow has
 * to go on from those rows as if nothing had changed. So the arithmetic
 * follows py-fsrs step by step (same operation order, same libm calls,
 * Python's round-half-to-even for intervals) and is checked against the
 * golden vectors of the behaviour reference, section 3.6.
 *
 * Pure functions: no I/O, no allocation, no global state. Times are Unix
 * microseconds UTC, PostgreSQL's precision. "Days between" two instants is
 * the floor of their difference in whole days, like Python's
 * timedelta.days (so -1 s is -1 day).
 *
 * Known py-fsrs quirks kept on purpose:
 * - The maximum interval caps each computed interval, but the "Good is at
 *   least Hard + 1, Easy at least Good + 1" rule is applied after the cap,
 *   so a very stable card can be scheduled 36501 or 36502 days out.
 * - A NEW card rated Again, Hard or Good keeps its scheduled_days.
 * - elapsed_days counts whole days, so learning steps within a day give 0.
 */
#ifndef EASYSKS_FSRS_H
#define EASYSKS_FSRS_H

#include "core/err.h"

enum fsrs_state { FSRS_NEW = 0, FSRS_LEARNING = 1, FSRS_REVIEW = 2, FSRS_RELEARNING = 3 };

enum fsrs_rating { FSRS_AGAIN = 1, FSRS_HARD, FSRS_GOOD, FSRS_EASY };

/* py-fsrs's default maximum interval in days. */
#define FSRS_MAX_INTERVAL 36500

/* Accepted instants: Python's datetime range, 0001-01-01T00:00:00Z to
 * 9999-12-31T23:59:59.999999Z. Within it no arithmetic here can overflow. */
#define FSRS_TIME_MIN_US (-62135596800000000LL)
#define FSRS_TIME_MAX_US 253402300799999999LL

/* One learner's scheduling state of one card (card_scheduling_info). */
struct fsrs_card {
    int state;                /* enum fsrs_state */
    double stability;         /* S, in days */
    double difficulty;        /* D, 1..10 once reviewed */
    int elapsed_days;         /* days between the last two reviews */
    int scheduled_days;       /* interval chosen at the last review */
    int reps;                 /* reviews so far */
    int lapses;               /* times a REVIEW card was rated Again */
    long long due_us;         /* next due instant */
    long long last_review_us; /* meaningful only if has_last_review */
    int has_last_review;      /* 0 = SQL NULL */
};

/* What py-fsrs 3.1.0's ReviewLog holds (models.py, built in
 * SchedulingCards.record_log from the card after its bookkeeping step). */
struct fsrs_review_log {
    int rating;         /* the rating given */
    int state;          /* the card's state BEFORE this review */
    int elapsed_days;   /* days since the previous review (0 if NEW) */
    int scheduled_days; /* the interval just chosen: the new card's value */
    long long reviewed_us;
};

/* A NEW card, due at now_us: S = D = 0, all counters 0, no last review. */
void fsrs_card_init(struct fsrs_card *c, long long now_us);

/* Review `before` with `rating` at now_us and write the result to `after`
 * (may be the same object as `before`) and, if `log` is not NULL, the review
 * log. Returns 0, or -1 with `after` and `log` untouched and e set to:
 *   422 invalid_rating  rating outside 1..4;
 *   422 invalid_time    now_us outside FSRS_TIME_MIN_US..FSRS_TIME_MAX_US;
 *   422 invalid_card    state outside 0..3; reps or lapses negative or at
 *                       INT_MAX; for a state other than NEW: no last review,
 *                       last review out of range, stability not finite and
 *                       > 0, difficulty not within 1..10; or a new stability
 *                       that overflows.
 * A NEW card's stability, difficulty and last review are ignored, as in
 * py-fsrs. Deliberate difference: a review time before last_review (clock
 * skew between hosts) counts as 0 elapsed days; py-fsrs would use a negative
 * day count and get a retrievability above 1 or crash. */
int fsrs_review(const struct fsrs_card *before, int rating, long long now_us,
                struct fsrs_card *after, struct fsrs_review_log *log, struct err *e);

/* Probability of recall at at_us, as py-fsrs 3.1.0's Card.get_retrievability:
 * for LEARNING, REVIEW and RELEARNING (1 + FACTOR * t / S) ^ -0.5 with
 * t = max(0, whole days since last_review); 0.0 for NEW. Also 0.0 (where
 * py-fsrs would crash) for an unknown state, a missing or out-of-range
 * last_review, a stability not finite and > 0, a difficulty outside 1..10,
 * or an at_us out of range. The result is in [0, 1], a step function of
 * whole days. */
double fsrs_retrievability(const struct fsrs_card *c, long long at_us);

/* The interval in days py-fsrs schedules for a stability: S scaled to the
 * requested retention (about S itself at 0.9), rounded half to even and
 * clamped to 1..FSRS_MAX_INTERVAL. NaN and values below 1 give 1. */
int fsrs_next_interval(double stability);

/* "NEW", "LEARNING", "REVIEW", "RELEARNING" (static storage), or NULL for any
 * other value. */
const char *fsrs_state_name(int state);

#endif
