#include "sks/fsrs.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>

/*
 * Every formula below mirrors py-fsrs 3.1.0 (fsrs/fsrs.py) term by term and
 * in the same order, because floating point is not associative and a card
 * has to land on the same side of an interval's .5 as it would in Python.
 * Python's float ** and math.exp/math.pow are libm's pow and exp; -std=c11
 * keeps GCC from contracting a * b + c into an FMA.
 */

#define MINUTE_US 60000000LL
#define DAY_US 86400000000LL

static const double W[19] = {0.4072, 1.1829, 3.1262, 15.4722, 7.2102, 0.5316, 1.0651,
                             0.0234, 1.616,  0.1544, 1.0824,  1.9813, 0.0953, 0.2975,
                             2.2042, 0.2407, 2.9466, 0.5034,  0.6567};
static const double DECAY = -0.5;
static const double REQUEST_RETENTION = 0.9;

/* FACTOR = 0.9 ** (1 / DECAY) - 1, about 19/81, so that R(S days) = 0.9. */
static double factor(void)
{
    return pow(0.9, 1.0 / DECAY) - 1.0;
}

static double clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

static int time_ok(long long t)
{
    return t >= FSRS_TIME_MIN_US && t <= FSRS_TIME_MAX_US;
}

/* timedelta.days: floor division, also for negative differences. Both
 * instants are in range, so the subtraction cannot overflow. */
static int days_between(long long from_us, long long to_us)
{
    long long d = to_us - from_us;
    long long q = d / DAY_US;

    if (d % DAY_US != 0 && d < 0)
        q--;
    return (int)q;
}

static double init_stability(int rating)
{
    return fmax(W[rating - 1], 0.1);
}

static double init_difficulty(int rating)
{
    return clamp(W[4] - exp(W[5] * (rating - 1)) + 1, 1, 10);
}

static double forgetting_curve(int elapsed_days, double stability)
{
    return pow(1 + factor() * elapsed_days / stability, DECAY);
}

int fsrs_next_interval(double stability)
{
    double days = stability / factor() * (pow(REQUEST_RETENTION, 1.0 / DECAY) - 1);

    /* Clamping before rounding gives the same integer as Python's
     * min(max(round(x), 1), max) because the bounds are whole numbers. */
    if (!(days >= 1))
        return 1;
    if (days >= FSRS_MAX_INTERVAL)
        return FSRS_MAX_INTERVAL;
    return (int)nearbyint(days); /* default mode: half to even, like round() */
}

static double next_difficulty(double d, int rating)
{
    double next_d = d - W[6] * (rating - 3);

    /* Mean reversion towards the initial difficulty of Easy. */
    return clamp(W[7] * init_difficulty(FSRS_EASY) + (1 - W[7]) * next_d, 1, 10);
}

static double short_term_stability(double s, int rating)
{
    return s * exp(W[17] * (rating - 3 + W[18]));
}

static double recall_stability(double d, double s, double r, int rating)
{
    double hard_penalty = rating == FSRS_HARD ? W[15] : 1;
    double easy_bonus = rating == FSRS_EASY ? W[16] : 1;

    return s * (1 + exp(W[8]) * (11 - d) * pow(s, -W[9]) * (exp((1 - r) * W[10]) - 1) *
                        hard_penalty * easy_bonus);
}

static double forget_stability(double d, double s, double r)
{
    return W[11] * pow(d, -W[12]) * (pow(s + 1, W[13]) - 1) * exp((1 - r) * W[14]);
}

/* The memory state a reviewed card must have; NULL if usable, else why not. */
static const char *memory_problem(const struct fsrs_card *c)
{
    if (c->state < FSRS_NEW || c->state > FSRS_RELEARNING)
        return "state must be 0..3";
    if (c->state == FSRS_NEW)
        return NULL;
    if (!c->has_last_review)
        return "a reviewed card needs last_review";
    if (!time_ok(c->last_review_us))
        return "last_review out of range";
    if (!isfinite(c->stability) || c->stability <= 0)
        return "stability must be finite and positive";
    if (!(c->difficulty >= 1 && c->difficulty <= 10))
        return "difficulty must be within 1..10";
    return NULL;
}

static void review_new(struct fsrs_card *c, int rating, long long now_us)
{
    static const long long step_us[] = {0, 1 * MINUTE_US, 5 * MINUTE_US, 10 * MINUTE_US};

    c->difficulty = init_difficulty(rating);
    c->stability = init_stability(rating);
    if (rating == FSRS_EASY) {
        c->state = FSRS_REVIEW;
        c->scheduled_days = fsrs_next_interval(c->stability);
        c->due_us = now_us + c->scheduled_days * DAY_US;
    } else {
        c->state = FSRS_LEARNING;
        c->due_us = now_us + step_us[rating];
    }
}

static void review_learning(struct fsrs_card *c, int rating, long long now_us)
{
    double s = c->stability;
    int good = fsrs_next_interval(short_term_stability(s, FSRS_GOOD));

    /* py-fsrs also computes R here but never uses it. */
    c->difficulty = next_difficulty(c->difficulty, rating);
    c->stability = short_term_stability(s, rating);
    switch (rating) {
    case FSRS_AGAIN:
        c->scheduled_days = 0;
        c->due_us = now_us + 5 * MINUTE_US;
        break;
    case FSRS_HARD:
        c->scheduled_days = 0;
        c->due_us = now_us + 10 * MINUTE_US;
        break;
    case FSRS_GOOD:
        c->state = FSRS_REVIEW;
        c->scheduled_days = good;
        c->due_us = now_us + c->scheduled_days * DAY_US;
        break;
    default: /* Easy: at least a day past Good */
        c->state = FSRS_REVIEW;
        c->scheduled_days = fsrs_next_interval(c->stability);
        if (c->scheduled_days < good + 1)
            c->scheduled_days = good + 1;
        c->due_us = now_us + c->scheduled_days * DAY_US;
        break;
    }
}

static void review_review(struct fsrs_card *c, int rating, long long now_us)
{
    double d = c->difficulty, s = c->stability;
    double r = forgetting_curve(c->elapsed_days, s);
    int hard, good, easy;

    /* All three intervals are needed: each is pushed past the one before. */
    hard = fsrs_next_interval(recall_stability(d, s, r, FSRS_HARD));
    good = fsrs_next_interval(recall_stability(d, s, r, FSRS_GOOD));
    hard = hard < good ? hard : good;
    good = good > hard + 1 ? good : hard + 1;
    easy = fsrs_next_interval(recall_stability(d, s, r, FSRS_EASY));
    easy = easy > good + 1 ? easy : good + 1;

    c->difficulty = next_difficulty(d, rating);
    if (rating == FSRS_AGAIN) {
        c->state = FSRS_RELEARNING;
        c->stability = forget_stability(d, s, r);
        c->lapses++;
        c->scheduled_days = 0;
        c->due_us = now_us + 5 * MINUTE_US;
        return;
    }
    c->stability = recall_stability(d, s, r, rating);
    c->scheduled_days = rating == FSRS_HARD ? hard : rating == FSRS_GOOD ? good : easy;
    c->due_us = now_us + c->scheduled_days * DAY_US;
}

void fsrs_card_init(struct fsrs_card *c, long long now_us)
{
    *c = (struct fsrs_card){.state = FSRS_NEW, .due_us = now_us};
}

int fsrs_review(const struct fsrs_card *before, int rating, long long now_us,
                struct fsrs_card *after, struct fsrs_review_log *log, struct err *e)
{
    struct fsrs_card c = *before; /* copy first: after may alias before */
    const char *why;

    if (rating < FSRS_AGAIN || rating > FSRS_EASY)
        return err_set(e, 422, "invalid_rating", "rating must be 1..4, got %d", rating);
    if (!time_ok(now_us))
        return err_set(e, 422, "invalid_time", "review time out of range");
    if ((why = memory_problem(&c)) != NULL)
        return err_set(e, 422, "invalid_card", "%s", why);
    if (c.reps < 0 || c.reps == INT_MAX || c.lapses < 0 || c.lapses == INT_MAX)
        return err_set(e, 422, "invalid_card", "reps and lapses must be 0..INT_MAX-1");

    /* Bookkeeping common to every rating (FSRS.repeat). */
    if (c.state == FSRS_NEW) {
        c.elapsed_days = 0;
    } else {
        c.elapsed_days = days_between(c.last_review_us, now_us);
        if (c.elapsed_days < 0)
            c.elapsed_days = 0;
    }
    c.last_review_us = now_us;
    c.has_last_review = 1;
    c.reps++;

    if (c.state == FSRS_NEW)
        review_new(&c, rating, now_us);
    else if (c.state == FSRS_REVIEW)
        review_review(&c, rating, now_us);
    else
        review_learning(&c, rating, now_us);

    /* Only absurd stabilities (near DBL_MAX) get here; refuse to store inf. */
    if (!isfinite(c.stability))
        return err_set(e, 422, "invalid_card", "stability overflows");

    if (log != NULL) {
        log->rating = rating;
        log->state = before->state; /* read before *after is written */
        log->elapsed_days = c.elapsed_days;
        log->scheduled_days = c.scheduled_days;
        log->reviewed_us = now_us;
    }
    *after = c;
    return 0;
}

double fsrs_retrievability(const struct fsrs_card *c, long long at_us)
{
    int t;

    if (c->state == FSRS_NEW || memory_problem(c) != NULL || !time_ok(at_us))
        return 0.0;
    t = days_between(c->last_review_us, at_us);
    return forgetting_curve(t > 0 ? t : 0, c->stability);
}

const char *fsrs_state_name(int state)
{
    static const char *const names[] = {"NEW", "LEARNING", "REVIEW", "RELEARNING"};

    if (state < FSRS_NEW || state > FSRS_RELEARNING)
        return NULL;
    return names[state];
}
