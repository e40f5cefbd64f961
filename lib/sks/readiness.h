/*
 * readiness.h - how likely a learner is to pass an SKS theory sheet.
 *
 * An official sheet has 30 questions worth 2 points each; 39 of 60 points
 * pass. Question i is taken to be answered correctly with probability p[i],
 * its FSRS retrievability on the exam date (0 for a card never reviewed),
 * and then to earn its 2 points. The number of correct answers is then
 * Poisson-binomial, computed here exactly by dynamic programming in O(n^2)
 * instead of a normal approximation, which is poor for n = 30 and p near 1.
 *
 * Limits of the model, to keep in mind when showing the number:
 * - Answers are taken as independent. They are not: a bad day, or a weak
 *   topic, lowers several at once, so the real spread is wider.
 * - Retrievability is FSRS's chance of recalling a card, not of writing an
 *   answer the examiner gives full marks; examiners also give 1 point for a
 *   partly right answer, which this model never does (so it is pessimistic
 *   there and optimistic where recall is not enough for full marks).
 * - Never-reviewed questions count as certainly wrong, although some are
 *   answerable from general knowledge.
 *
 * Pure functions, no global state. Probabilities outside [0, 1] are clamped
 * and NaN counts as 0, so a caller can pass raw values.
 */
#ifndef EASYSKS_READINESS_H
#define EASYSKS_READINESS_H

#define READINESS_POINTS_PER_QUESTION 2
#define READINESS_SKS_QUESTIONS 30
#define READINESS_SKS_PASS_POINTS 39

/* out[k] = P(exactly k of the n questions right), k = 0..n; `out` must hold
 * n + 1 doubles. n <= 0 is an empty sheet: out[0] = 1 (p may then be NULL). */
void readiness_distribution(const double *p, int n, double *out);

/* P(at least k of the n questions right): 1 for k <= 0, 0 for k > n.
 * Allocates n + 1 doubles internally (aborts if out of memory). */
double readiness_at_least(const double *p, int n, int k);

/* Correct answers needed for at least `points`: ceil(points / 2), 0 for
 * points <= 0 (39 points -> 20 answers, since points come in steps of 2). */
int readiness_answers_for_points(int points);

struct readiness_sheet {
    double expected_points;  /* 2 * sum of p: the mean score */
    int max_points;          /* 2 * n */
    int pass_points;         /* the threshold asked for */
    int pass_answers;        /* readiness_answers_for_points(pass_points) */
    double pass_probability; /* P(score >= pass_points) */
};

/* Score one sheet of n questions against a pass mark given in POINTS (for a
 * real sheet READINESS_SKS_PASS_POINTS); fills *out. */
void readiness_sheet_eval(const double *p, int n, int pass_points, struct readiness_sheet *out);

#endif
