/*
 * test_fsrs.c - lib/sks/fsrs against py-fsrs 3.1.0: the golden vectors of the
 * behaviour reference (section 3.6), longer sequences whose expected values
 * were computed with py-fsrs 3.1.0 itself, rounding, the interval cap, day
 * counting, retrievability and refused input.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "sks/fsrs.h"
#include "tap.h"

#define MIN_US 60000000LL
#define HOUR_US (60 * MIN_US)
#define DAY_US (24 * HOUR_US)
#define T0 1725192000000000LL /* 2024-09-01T12:00:00Z */

struct expect {
    int state;
    double s, d;
    long long due_after_us; /* due - review time */
    int scheduled_days, reps, lapses;
};

static int near(double a, double b, double tol)
{
    return fabs(a - b) <= tol;
}

static void check(const struct fsrs_card *c, long long now, const struct expect *x,
                  const char *name)
{
    ok(c->state == x->state && near(c->stability, x->s, 1e-6) && near(c->difficulty, x->d, 1e-6) &&
           c->due_us == now + x->due_after_us && c->scheduled_days == x->scheduled_days &&
           c->reps == x->reps && c->lapses == x->lapses && c->has_last_review &&
           c->last_review_us == now,
       "%s: state %d S %.6f D %.6f due %+lld us sched %d reps %d lapses %d", name, c->state,
       c->stability, c->difficulty, c->due_us - now, c->scheduled_days, c->reps, c->lapses);
}

static struct fsrs_card reviewed(const struct fsrs_card *c, int rating, long long now)
{
    struct fsrs_card out;
    struct err e;

    if (fsrs_review(c, rating, now, &out, NULL, &e) != 0) {
        ok(0, "review refused: %s %s", e.code, e.msg);
        return *c;
    }
    return out;
}

static struct fsrs_card review_card(double s, double d, long long last_review_us, int state)
{
    struct fsrs_card c;

    fsrs_card_init(&c, last_review_us);
    c.state = state;
    c.stability = s;
    c.difficulty = d;
    c.last_review_us = last_review_us;
    c.has_last_review = 1;
    c.reps = 2;
    return c;
}

static void golden_vectors(void)
{
    static const struct expect first[4] = {
        {FSRS_LEARNING, 0.4072, 7.2102, 1 * MIN_US, 0, 1, 0},
        {FSRS_LEARNING, 1.1829, 6.508547, 5 * MIN_US, 0, 1, 0},
        {FSRS_LEARNING, 3.1262, 5.314578, 10 * MIN_US, 0, 1, 0},
        {FSRS_REVIEW, 15.4722, 3.282856, 15 * DAY_US, 15, 1, 0},
    };
    static const struct expect second[4] = {
        {FSRS_LEARNING, 1.589789, 7.347389, 5 * MIN_US, 0, 2, 0},
        {FSRS_LEARNING, 2.630045, 6.307212, 10 * MIN_US, 0, 2, 0},
        {FSRS_REVIEW, 4.350979, 5.267036, 4 * DAY_US, 4, 2, 0},
        {FSRS_REVIEW, 7.197984, 4.226859, 7 * DAY_US, 7, 2, 0},
    };
    static const struct expect third[4] = {
        {FSRS_RELEARNING, 1.34331, 7.300959, 5 * MIN_US, 0, 3, 1},
        {FSRS_REVIEW, 6.901851, 6.260782, 7 * DAY_US, 7, 3, 0},
        {FSRS_REVIEW, 14.9487, 5.220606, 15 * DAY_US, 15, 3, 0},
        {FSRS_REVIEW, 35.578224, 4.180429, 36 * DAY_US, 36, 3, 0},
    };
    static const char *const rn[5] = {"", "Again", "Hard", "Good", "Easy"};
    struct fsrs_card c0, c1, c2, out;
    struct fsrs_review_log log;
    long long t1 = T0 + 10 * MIN_US, t2;
    struct err e;
    char name[64];
    int r;

    fsrs_card_init(&c0, T0);
    for (r = FSRS_AGAIN; r <= FSRS_EASY; r++) {
        snprintf(name, sizeof(name), "3.6 new card, %s", rn[r]);
        memset(&log, 0xff, sizeof(log));
        ok(fsrs_review(&c0, r, T0, &out, &log, &e) == 0, "%s accepted", name);
        check(&out, T0, &first[r - 1], name);
        ok(out.elapsed_days == 0 && log.rating == r && log.state == FSRS_NEW &&
               log.elapsed_days == 0 && log.scheduled_days == first[r - 1].scheduled_days &&
               log.reviewed_us == T0,
           "%s: log holds rating, pre-review state, elapsed and new scheduled days", name);
    }
    c1 = reviewed(&c0, FSRS_GOOD, T0);
    for (r = FSRS_AGAIN; r <= FSRS_EASY; r++) {
        snprintf(name, sizeof(name), "3.6 after Good, %s at +10 min", rn[r]);
        out = reviewed(&c1, r, t1);
        check(&out, t1, &second[r - 1], name);
    }
    c2 = reviewed(&c1, FSRS_GOOD, t1);
    t2 = c2.due_us;
    for (r = FSRS_AGAIN; r <= FSRS_EASY; r++) {
        snprintf(name, sizeof(name), "3.6 Good, Good, %s at due (+4 d)", rn[r]);
        ok(fsrs_review(&c2, r, t2, &out, &log, &e) == 0, "%s accepted", name);
        check(&out, t2, &third[r - 1], name);
        ok(out.elapsed_days == 4 && log.elapsed_days == 4 && log.state == FSRS_REVIEW &&
               log.scheduled_days == third[r - 1].scheduled_days,
           "%s: elapsed 4 days, log state REVIEW", name);
    }
}

/* Expected values computed with py-fsrs 3.1.0 (FSRS().review_card). */
struct step {
    int rating;
    long long at; /* offset from T0; -1 = at the card's due time */
    struct expect x;
    int elapsed_days;
};

static void run_sequence(const char *what, const struct step *st, int n)
{
    struct fsrs_card c;
    struct fsrs_review_log log;
    struct err e;
    long long now;
    char name[96];
    int i;

    fsrs_card_init(&c, T0);
    for (i = 0; i < n; i++) {
        now = st[i].at < 0 ? c.due_us : T0 + st[i].at;
        snprintf(name, sizeof(name), "%s step %d (rating %d)", what, i + 1, st[i].rating);
        if (fsrs_review(&c, st[i].rating, now, &c, &log, &e) != 0) {
            ok(0, "%s refused: %s", name, e.msg);
            return;
        }
        check(&c, now, &st[i].x, name);
        ok(c.elapsed_days == st[i].elapsed_days && log.elapsed_days == st[i].elapsed_days &&
               log.scheduled_days == c.scheduled_days,
           "%s: elapsed_days %d", name, c.elapsed_days);
    }
}

static void relearning_and_lapses(void)
{
    /* Good, Good, lapse, Again in relearning, back to REVIEW, second lapse
     * (D reaches its cap 10), Hard in relearning, Easy out of relearning. */
    static const struct step st[] = {
        {3, 0, {FSRS_LEARNING, 3.1262, 5.314577829570867, 10 * MIN_US, 0, 1, 0}, 0},
        {3,
         10 * MIN_US,
         {FSRS_REVIEW, 4.350979488306093, 5.267035550345074, 4 * DAY_US, 4, 2, 0},
         0},
        {1, -1, {FSRS_RELEARNING, 1.3433098901714373, 7.300959080453166, 5 * MIN_US, 0, 3, 1}, 4},
        {1,
         346500000000LL,
         {FSRS_RELEARNING, 0.6831228383938889, 9.287288799956727, 5 * MIN_US, 0, 4, 1},
         0},
        {3,
         346800000000LL,
         {FSRS_REVIEW, 0.9507560162002587, 9.146785084023906, DAY_US, 1, 5, 1},
         0},
        {1, -1, {FSRS_RELEARNING, 0.4441849030383423, 10, 5 * MIN_US, 0, 6, 2}, 1},
        {2, 433500000000LL, {FSRS_RELEARNING, 0.373688926511831, 10, 10 * MIN_US, 0, 7, 2}, 0},
        {4,
         444300000000LL,
         {FSRS_REVIEW, 0.8604078181742821, 8.802642181986167, 2 * DAY_US, 2, 8, 2},
         0},
    };
    run_sequence("relearning", st, (int)(sizeof(st) / sizeof(st[0])));
}

static void late_and_early_reviews(void)
{
    /* 10 days late, 2 days into a 35-day interval, 1 us short of a day
     * later (elapsed 0: S unchanged, Good pushed past Hard), 400 days, then
     * a lapse after 3000 days. */
    static const struct step st[] = {
        {3, 0, {FSRS_LEARNING, 3.1262, 5.314577829570867, 10 * MIN_US, 0, 1, 0}, 0},
        {3,
         10 * MIN_US,
         {FSRS_REVIEW, 4.350979488306093, 5.267035550345074, 4 * DAY_US, 4, 2, 0},
         0},
        {3,
         1228200000000LL,
         {FSRS_REVIEW, 34.745490531834506, 5.220605760453165, 35 * DAY_US, 35, 3, 0},
         14},
        {2,
         1401000000000LL,
         {FSRS_REVIEW, 35.76671412818228, 6.215439087644727, 36 * DAY_US, 36, 4, 0},
         2},
        {3,
         1487399999999LL,
         {FSRS_REVIEW, 35.76671412818228, 6.146816654980006, 37 * DAY_US, 37, 5, 0},
         0},
        {4,
         36047399999999LL,
         {FSRS_REVIEW, 1030.8986628314506, 5.039623327239639, 1031 * DAY_US, 1031, 6, 0},
         400},
        {1,
         295247399999999LL,
         {FSRS_RELEARNING, 19.361074870666894, 7.078868303368397, 5 * MIN_US, 0, 7, 1},
         3000},
    };
    run_sequence("late/early", st, (int)(sizeof(st) / sizeof(st[0])));
}

/* A LEARNING card whose Good stability is exactly `target`, found by walking
 * the doubles around target / e^(w17 * w18) (the S_st factor for Good). */
static int learning_card_landing_on(double target, struct fsrs_card *c)
{
    double s = target / exp(0.5034 * (3 - 3 + 0.6567));
    struct fsrs_card probe;
    int i;

    for (i = 0; i < 200; i++) {
        *c = review_card(s, 5.0, T0, FSRS_LEARNING);
        probe = reviewed(c, FSRS_GOOD, T0 + MIN_US);
        if (probe.stability == target)
            return 1;
        s = nextafter(s, probe.stability < target ? INFINITY : 0);
    }
    return 0;
}

static void rounding(void)
{
    struct fsrs_card c, out;
    int found;

    ok(fsrs_next_interval(2.5) == 2 && fsrs_next_interval(3.5) == 4 &&
           fsrs_next_interval(4.5) == 4 && fsrs_next_interval(15.5) == 16,
       "interval rounds half to even like Python's round()");
    ok(fsrs_next_interval(nextafter(2.5, 3)) == 3 && fsrs_next_interval(nextafter(3.5, 3)) == 3,
       "just above/below .5 rounds to nearest");
    ok(fsrs_next_interval(0.4) == 1 && fsrs_next_interval(0.5) == 1 &&
           fsrs_next_interval(1.5) == 2 && fsrs_next_interval(0) == 1 &&
           fsrs_next_interval(-3) == 1 && fsrs_next_interval(NAN) == 1,
       "interval is at least one day");
    ok(fsrs_next_interval(15.4722) == 15 && fsrs_next_interval(4.350979488306093) == 4,
       "interval of a stability is about the stability at retention 0.9");

    found = learning_card_landing_on(2.5, &c);
    ok(found, "found a LEARNING card whose Good stability is exactly 2.5");
    out = reviewed(&c, FSRS_GOOD, T0 + MIN_US);
    ok(found && out.scheduled_days == 2 && out.due_us == T0 + MIN_US + 2 * DAY_US,
       "a review landing on 2.5 days schedules 2 (half to even), got %d", out.scheduled_days);
    found = learning_card_landing_on(3.5, &c);
    out = reviewed(&c, FSRS_GOOD, T0 + MIN_US);
    ok(found && out.scheduled_days == 4, "a review landing on 3.5 days schedules 4, got %d",
       out.scheduled_days);
}

static void interval_cap(void)
{
    struct fsrs_card rc = review_card(1e6, 5.0, T0 - 10 * DAY_US, FSRS_REVIEW);
    struct fsrs_card lc = review_card(1e6, 5.0, T0 - 10 * DAY_US, FSRS_LEARNING);

    ok(fsrs_next_interval(1e9) == FSRS_MAX_INTERVAL &&
           fsrs_next_interval(INFINITY) == FSRS_MAX_INTERVAL &&
           fsrs_next_interval(36499.5) == 36500 && fsrs_next_interval(36498.5) == 36498,
       "interval capped at 36500 days");
    ok(reviewed(&rc, FSRS_AGAIN, T0).scheduled_days == 0, "cap: REVIEW Again relearns");
    ok(reviewed(&rc, FSRS_HARD, T0).scheduled_days == 36500, "cap: REVIEW Hard 36500");
    /* py-fsrs applies "Good > Hard, Easy > Good" after the cap. */
    ok(reviewed(&rc, FSRS_GOOD, T0).scheduled_days == 36501, "cap quirk: REVIEW Good 36501");
    ok(reviewed(&rc, FSRS_EASY, T0).due_us == T0 + 36502 * DAY_US,
       "cap quirk: REVIEW Easy 36502 days");
    ok(reviewed(&lc, FSRS_GOOD, T0).scheduled_days == 36500 &&
           reviewed(&lc, FSRS_EASY, T0).scheduled_days == 36501,
       "cap: LEARNING Good 36500, Easy 36501");
}

static void day_counting(void)
{
    struct fsrs_card c = review_card(10.0, 5.0, T0, FSRS_REVIEW), out;
    /* 23:59 on one calendar day to 00:01 the next is 0 days, not 1. */
    struct fsrs_card late = review_card(10.0, 5.0, T0 + 11 * HOUR_US + 59 * MIN_US, FSRS_REVIEW);

    ok(reviewed(&c, FSRS_GOOD, T0 + DAY_US - 1).elapsed_days == 0, "1 us short of a day is 0");
    ok(reviewed(&c, FSRS_GOOD, T0 + DAY_US).elapsed_days == 1, "exactly one day is 1");
    ok(reviewed(&c, FSRS_GOOD, T0 + 3 * DAY_US - 1).elapsed_days == 2, "2 d 23:59:59.999999 is 2");
    ok(reviewed(&late, FSRS_GOOD, T0 + 12 * HOUR_US + MIN_US).elapsed_days == 0,
       "crossing midnight UTC is not a day");
    out = reviewed(&c, FSRS_GOOD, T0 - 1000000);
    ok(out.elapsed_days == 0 && out.stability == 10.0 && out.last_review_us == T0 - 1000000,
       "review before last_review counts as 0 days (S unchanged at R = 1)");
    out = reviewed(&c, FSRS_GOOD, T0 - 5 * DAY_US);
    ok(out.elapsed_days == 0 && out.due_us == T0 - 5 * DAY_US + out.scheduled_days * DAY_US,
       "days before last_review also clamp to 0; due counts from the review time");
}

static void counters_and_quirks(void)
{
    struct fsrs_card c, out;

    fsrs_card_init(&c, T0);
    c.scheduled_days = 7;
    ok(reviewed(&c, FSRS_AGAIN, T0).scheduled_days == 7 &&
           reviewed(&c, FSRS_EASY, T0).scheduled_days == 15,
       "NEW Again keeps scheduled_days (py-fsrs), Easy sets it");
    c = reviewed(&c, FSRS_AGAIN, T0);
    c = reviewed(&c, FSRS_AGAIN, T0 + MIN_US);
    ok(c.lapses == 0 && c.reps == 2 && c.state == FSRS_LEARNING,
       "Again while LEARNING is not a lapse");
    c = review_card(20.0, 6.0, T0, FSRS_REVIEW);
    c.lapses = 4;
    out = reviewed(&c, FSRS_AGAIN, T0 + 20 * DAY_US);
    ok(out.lapses == 5 && out.reps == 3 && out.state == FSRS_RELEARNING, "REVIEW Again: lapse 5");
    out = reviewed(&out, FSRS_AGAIN, T0 + 20 * DAY_US + 5 * MIN_US);
    ok(out.lapses == 5 && out.state == FSRS_RELEARNING, "RELEARNING Again: no extra lapse");

    c = review_card(20.0, 6.0, T0, FSRS_REVIEW);
    ok(fsrs_review(&c, FSRS_HARD, T0 + DAY_US, &c, NULL, NULL) == 0 && c.reps == 3 &&
           c.last_review_us == T0 + DAY_US,
       "after may be before; log and err may be NULL");

    fsrs_card_init(&c, T0 + 5);
    ok(c.state == FSRS_NEW && c.due_us == T0 + 5 && c.stability == 0 && c.difficulty == 0 &&
           c.reps == 0 && c.lapses == 0 && c.elapsed_days == 0 && c.scheduled_days == 0 &&
           !c.has_last_review,
       "fsrs_card_init: NEW, due now, zeros, no last review");
    c.stability = NAN;
    c.difficulty = -4;
    ok(reviewed(&c, FSRS_GOOD, T0).stability == 3.1262,
       "a NEW card's stability and difficulty are ignored");
}

static void retrievability(void)
{
    struct fsrs_card c, g = review_card(10.0, 5.0, T0, FSRS_REVIEW);
    double r, prev = 2;
    int i, falls = 1;

    fsrs_card_init(&c, T0);
    ok(fsrs_retrievability(&c, T0 + DAY_US) == 0.0, "NEW card: 0.0");
    c = reviewed(&c, FSRS_GOOD, T0);
    r = fsrs_retrievability(&c, T0 + 2 * DAY_US);
    ok(r > 0 && r <= 1, "after Good: %.6f in (0, 1]", r);
    ok(fsrs_retrievability(&c, T0) == 1.0, "at the review instant: 1.0");
    for (i = 1; i <= 400; i++) {
        r = fsrs_retrievability(&c, T0 + i * DAY_US);
        falls &= r < prev;
        prev = r;
    }
    ok(falls && r > 0, "falls strictly from one day to the next (day 400: %.6f)", r);
    ok(fsrs_retrievability(&c, T0 + DAY_US) == fsrs_retrievability(&c, T0 + 2 * DAY_US - 1),
       "constant within a day (whole elapsed days)");
    ok(near(fsrs_retrievability(&g, T0 + 10 * DAY_US), 0.9, 1e-12), "REVIEW S = 10: 0.9 at 10 d");
    ok(near(fsrs_retrievability(&g, T0 + 11 * DAY_US), 0.8915699399384024, 1e-12),
       "REVIEW S = 10: py-fsrs value at 11 d");
    ok(fsrs_retrievability(&g, T0 - 3 * DAY_US) == 1.0, "before last_review: 1.0 (t clamped)");
    g.state = FSRS_RELEARNING;
    ok(near(fsrs_retrievability(&g, T0 + 10 * DAY_US), 0.9, 1e-12), "RELEARNING covered too");
    g.has_last_review = 0;
    ok(fsrs_retrievability(&g, T0) == 0.0, "no last review: 0.0");
    g = review_card(0.0, 5.0, T0, FSRS_REVIEW);
    ok(fsrs_retrievability(&g, T0 + DAY_US) == 0.0, "stability 0: 0.0, no division by zero");
}

static int refused(const struct fsrs_card *c, int rating, long long now, const char *code)
{
    struct fsrs_card out;
    struct fsrs_review_log log;
    struct err e;

    memset(&out, 0x5a, sizeof(out));
    memset(&log, 0x5a, sizeof(log));
    err_clear(&e);
    if (fsrs_review(c, rating, now, &out, &log, &e) != -1 || e.status != 422 ||
        strcmp(e.code, code) != 0)
        return 0;
    /* Nothing written on failure. */
    return ((unsigned char *)&out)[0] == 0x5a && ((unsigned char *)&log)[0] == 0x5a;
}

static void invalid_input(void)
{
    struct fsrs_card c, ok_card = review_card(5.0, 5.0, T0, FSRS_REVIEW);
    static const int bad_ratings[] = {0, 5, -1, INT_MIN, INT_MAX};
    size_t i;

    fsrs_card_init(&c, T0);
    for (i = 0; i < sizeof(bad_ratings) / sizeof(bad_ratings[0]); i++)
        ok(refused(&c, bad_ratings[i], T0, "invalid_rating"), "rating %d refused", bad_ratings[i]);

    ok(refused(&c, FSRS_GOOD, FSRS_TIME_MAX_US + 1, "invalid_time") &&
           refused(&c, FSRS_GOOD, LLONG_MIN, "invalid_time"),
       "review time out of range refused");
    ok(fsrs_review(&c, FSRS_GOOD, FSRS_TIME_MAX_US, &c, NULL, NULL) == 0,
       "9999-12-31T23:59:59.999999Z accepted");

    c = ok_card, c.state = 4;
    ok(refused(&c, FSRS_GOOD, T0, "invalid_card"), "state 4 refused");
    c = ok_card, c.state = -1;
    ok(refused(&c, FSRS_GOOD, T0, "invalid_card"), "state -1 refused");
    c = ok_card, c.has_last_review = 0;
    ok(refused(&c, FSRS_GOOD, T0, "invalid_card"), "REVIEW without last_review refused");
    c = review_card(5.0, 5.0, T0, FSRS_LEARNING), c.has_last_review = 0;
    ok(refused(&c, FSRS_AGAIN, T0, "invalid_card"), "LEARNING without last_review refused");
    c = ok_card, c.last_review_us = FSRS_TIME_MIN_US - 1;
    ok(refused(&c, FSRS_GOOD, T0, "invalid_card"), "last_review out of range refused");
    c = ok_card, c.stability = 0;
    ok(refused(&c, FSRS_GOOD, T0, "invalid_card"), "stability 0 refused");
    c = ok_card, c.stability = -1;
    ok(refused(&c, FSRS_GOOD, T0, "invalid_card"), "negative stability refused");
    c = ok_card, c.stability = NAN;
    ok(refused(&c, FSRS_GOOD, T0, "invalid_card"), "NaN stability refused");
    c = ok_card, c.stability = INFINITY;
    ok(refused(&c, FSRS_GOOD, T0, "invalid_card"), "infinite stability refused");
    c = review_card(1.7e308, 5.0, T0, FSRS_LEARNING);
    ok(refused(&c, FSRS_EASY, T0, "invalid_card"), "stability that would overflow refused");
    c = ok_card, c.difficulty = 0;
    ok(refused(&c, FSRS_GOOD, T0, "invalid_card"), "difficulty 0 refused");
    c = ok_card, c.difficulty = 10.5;
    ok(refused(&c, FSRS_GOOD, T0, "invalid_card"), "difficulty 10.5 refused");
    c = ok_card, c.difficulty = NAN;
    ok(refused(&c, FSRS_GOOD, T0, "invalid_card"), "NaN difficulty refused");
    c = ok_card, c.reps = -1;
    ok(refused(&c, FSRS_GOOD, T0, "invalid_card"), "negative reps refused");
    c = ok_card, c.reps = INT_MAX;
    ok(refused(&c, FSRS_GOOD, T0, "invalid_card"), "reps at INT_MAX refused (no overflow)");
    c = ok_card, c.lapses = INT_MAX;
    ok(refused(&c, FSRS_AGAIN, T0, "invalid_card"), "lapses at INT_MAX refused");
    c = ok_card, c.difficulty = 1, c.stability = 1e-9;
    ok(fsrs_review(&c, FSRS_AGAIN, T0, &c, NULL, NULL) == 0, "boundary values accepted");
}

int main(void)
{
    ok(strcmp(fsrs_state_name(FSRS_NEW), "NEW") == 0 &&
           strcmp(fsrs_state_name(FSRS_LEARNING), "LEARNING") == 0 &&
           strcmp(fsrs_state_name(FSRS_REVIEW), "REVIEW") == 0 &&
           strcmp(fsrs_state_name(FSRS_RELEARNING), "RELEARNING") == 0,
       "state names");
    ok(fsrs_state_name(-1) == NULL && fsrs_state_name(4) == NULL, "unknown state: NULL");
    golden_vectors();
    relearning_and_lapses();
    late_and_early_reviews();
    rounding();
    interval_cap();
    day_counting();
    counters_and_quirks();
    retrievability();
    invalid_input();
    return tap_done();
}
