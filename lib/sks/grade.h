/*
 * grade.h - the heuristic graders: theory exam answers (whole points), study
 * self-checks (partial credit) and chart tasks (key values). They compare
 * words and numbers, never meaning; the AI graders wrap them as fallback.
 *
 * Inputs are NUL-terminated UTF-8 of any length (NULL counts as ""; bad
 * bytes separate words); the 10 000-character answer limit is the caller's.
 * Strings and arrays in the results live in the arena `a` or are static;
 * every result string is valid UTF-8. All graders return 0, or -1 with
 * 500 grade_invalid_input when max_score is negative or not finite or an
 * array count is negative (or > 0 with a NULL array).
 *
 * Exam (reference §4.1, kept exactly): the key points are the short-answer
 * items (trimmed, blank ones dropped), else the reference answer split at
 * newlines, "." and ";" (first 5 pieces). A point is covered when at least
 * max(1, ⌊k/2⌋) of its k words of four or more code points (repeats count)
 * occur among the student's words (text_tokenize). ratio = covered / points;
 * score = ratio × max rounded half to even; correct at score ≥ 0.75 × max.
 *
 * Study (§4.2 with real partial credit, our decision): the verdict and the
 * suggested rating follow the unrounded coverage ratio, and awarded_points
 * follows the verdict (1, 0.5, 0). The reference rounded the exam score to
 * a whole point first, so it only ever said full or incorrect.
 *
 * Chart tasks (§4.3 with its quirks fixed, our decisions):
 *  (a) whole tokens: a key's value and the answer are split into numbers
 *      ("9,7", "08:53", "12.04.2013" stay one), words (Latin letters), and
 *      signs (+, -, ±; – and − count as -); everything else separates
 *      (spaces, °, ', quotes, /, =, Greek letters, symbol-font glyphs). A
 *      key matches when its tokens occur consecutively in the answer, so
 *      "1286" no longer matches 286 while "286°" and "286 °" do.
 *  (b) Unicode spaces (U+00A0, thin and hair spaces, ...) separate on both
 *      sides, so "BS = -7°" matches the key "BS =  - 7°".
 *  (c) a task without usable keys scores 0 with needs_self_assessment set
 *      (the reference gave half points for any text).
 *  (d) a key without "=" ("331° [Keine Toleranz]", "WPT 1 bis WPT 2 21,3 sm
 *      [± 0,3 sm]") is valued by its last number, with a sign right before
 *      it, up to the tolerance bracket: "331", "21,3", "14:53 mesz/bz". A key
 *      with no number at all ("[Keine Toleranz]", once in the data) has no
 *      value and is left out of the denominator: there is nothing to match.
 * Otherwise as the reference: the value follows the first "=" up to "[" (or
 * the end of the line), trimmed, one trailing run of spaces/°/' and one
 * trailing unit (sm kn m min h s Bft) dropped; ratio = matched / keys;
 * score = max × ratio rounded to 0.1 as Python's round(x, 1); correct at
 * ratio ≥ 0.8. Tolerances ("[± 1°]") are not applied: values match exactly.
 */
#ifndef EASYSKS_GRADE_H
#define EASYSKS_GRADE_H

#include "core/arena.h"
#include "core/err.h"

struct grade_exam_result {
    double score;         /* 0..max_score, whole points */
    double ratio;         /* covered / key points, 0..1 (1 when there were none) */
    int is_correct;       /* score >= 0.75 * max_score */
    const char *feedback; /* static German sentence */
    const char **errors;  /* "Fehlender Kernpunkt: …" for the first 5 misses */
    int nerrors;
};

/* Grade one exam answer out of max_score (2 on an exam sheet). */
int grade_exam_answer(struct arena *a, const char *const *short_answer, int n_short,
                      const char *reference_answer, const char *student_answer, double max_score,
                      struct grade_exam_result *out, struct err *e);

struct grade_study_result {
    double awarded_points; /* by verdict: full 1.0, partial 0.5, incorrect 0 */
    double max_points;     /* 1.0 */
    double ratio;          /* the exam grader's coverage ratio */
    const char *verdict;   /* "full" (ratio >= 0.9), "partial" (>= 0.45), "incorrect" */
    int suggested_rating;  /* 4 (>= 0.9), 3 (>= 0.65), 2 (>= 0.35), else 1 */
    const char *reasoning_summary;
    const char **mistakes; /* the API's missing_points is the same list */
    int nmistakes;
    const char *improved_answer_suggestion;
};

/* Grade a study self-check. The suggestion is "Beispielstruktur: " and the
 * first 4 short-answer items joined by "; " (raw), else the reference answer
 * with whitespace collapsed, cut to 260 code points, else the feedback. */
int grade_study_answer(struct arena *a, const char *const *short_answer, int n_short,
                       const char *reference_answer, const char *user_answer,
                       struct grade_study_result *out, struct err *e);

struct grade_nav_result {
    double score;              /* max_score * ratio rounded to 0.1 */
    double ratio;              /* matched / keys */
    int is_correct;            /* ratio >= 0.8 */
    int needs_self_assessment; /* no usable keys: compare with the model solution */
    int matched;
    int keys;    /* key answers with a value: the denominator */
    int skipped; /* key answers without a value, not counted */
    const char *feedback;
};

/* Grade a chart-task answer against the task's key answers. */
int grade_nav_answer(struct arena *a, const char *const *key_answers, int n_keys,
                     const char *student_answer, double max_score, struct grade_nav_result *out,
                     struct err *e);

/* The value a key answer is matched on, lower-case with spaces collapsed
 * ("KaK = 286° [± 1°]" -> "286"), or NULL when it has none. */
const char *grade_nav_key_value(struct arena *a, const char *key_answer);

/* Python's round(x, 1): correctly rounded from the binary value, exact ties
 * to even (0.25 -> 0.2, 0.35 -> 0.3 because 0.35 is stored below .35). */
double grade_round1(double x);

#endif
