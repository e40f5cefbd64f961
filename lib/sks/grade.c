#include "sks/grade.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"

#define EXAM_MIN_WORD 4 /* code points */
#define EXAM_MAX_REF_PHRASES 5
#define EXAM_MAX_ERRORS 5
#define STUDY_SUGGEST_ITEMS 4
#define STUDY_SUGGEST_CHARS 260

static int check_input(const void *arr, int n, double max_score, struct err *e)
{
    if (!isfinite(max_score) || max_score < 0)
        return err_set(e, 500, "grade_invalid_input", "max score must be finite and >= 0");
    if (n < 0 || (n > 0 && arr == NULL))
        return err_set(e, 500, "grade_invalid_input", "invalid criteria array");
    return 0;
}

static double clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

double grade_round1(double x)
{
    char buf[400]; /* "%.1f" of DBL_MAX has 311 characters */

    /* glibc prints the exact binary value rounded half to even, as Python's
     * round() does; reading it back gives the nearest double. */
    snprintf(buf, sizeof(buf), "%.1f", x);
    return strtod(buf, NULL);
}

/* --- exam ------------------------------------------------------------- */

/* The key points: trimmed non-blank short-answer items, else the first
 * pieces of the reference answer split at runs of newline, "." and ";". */
static int key_points(struct arena *a, const char *const *items, int n, const char *ref,
                      const char ***out)
{
    const char **pts;
    int count = 0;

    if (n > 0) {
        pts = arena_alloc(a, (size_t)n * sizeof(*pts));
        for (int i = 0; i < n; i++) {
            const char *t = text_trim(a, items[i]);
            if (*t)
                pts[count++] = t;
        }
        if (count > 0) {
            *out = pts;
            return count;
        }
    }
    pts = arena_alloc(a, EXAM_MAX_REF_PHRASES * sizeof(*pts));
    for (const char *p = ref == NULL ? "" : ref; *p && count < EXAM_MAX_REF_PHRASES;) {
        size_t len = strcspn(p, "\n.;");
        const char *t = text_trim(a, arena_strndup(a, p, len));
        if (*t)
            pts[count++] = t;
        p += len;
        p += strspn(p, "\n.;");
    }
    *out = pts;
    return count;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Is the point covered by the sorted student words? */
static int covered(struct arena *a, const char *point, const char **words, size_t nwords)
{
    struct text_token *tok;
    size_t ntok = text_tokenize(a, point, &tok), k = 0, hits = 0;

    for (size_t i = 0; i < ntok; i++) {
        if (tok[i].ncp < EXAM_MIN_WORD)
            continue;
        k++; /* repeated words count each time */
        if (nwords > 0 && bsearch(&tok[i].s, words, nwords, sizeof(*words), cmp_str) != NULL)
            hits++;
    }
    return k > 0 && hits >= (k / 2 > 1 ? k / 2 : 1);
}

int grade_exam_answer(struct arena *a, const char *const *short_answer, int n_short,
                      const char *reference_answer, const char *student_answer, double max_score,
                      struct grade_exam_result *out, struct err *e)
{
    const char **points, **words = NULL;
    struct text_token *tok;
    size_t nwords;
    int npoints, ncovered = 0;

    if (check_input(short_answer, n_short, max_score, e) < 0)
        return -1;
    memset(out, 0, sizeof(*out));
    if (text_is_blank(student_answer)) {
        out->feedback = "Keine Antwort abgegeben.";
        out->errors = arena_alloc(a, sizeof(*out->errors));
        out->errors[0] = "Es wurde keine Antwort eingereicht.";
        out->nerrors = 1;
        return 0;
    }
    npoints = key_points(a, short_answer, n_short, reference_answer, &points);
    if (npoints == 0) {
        out->score = max_score;
        out->ratio = 1.0;
        out->is_correct = 1;
        out->feedback = "Antwort eingereicht. Es lagen keine Referenzkriterien vor.";
        return 0;
    }

    nwords = text_tokenize(a, student_answer, &tok);
    if (nwords > 0) {
        words = arena_alloc(a, nwords * sizeof(*words));
        for (size_t i = 0; i < nwords; i++)
            words[i] = tok[i].s;
        qsort(words, nwords, sizeof(*words), cmp_str);
    }
    out->errors = arena_alloc(a, EXAM_MAX_ERRORS * sizeof(*out->errors));
    for (int i = 0; i < npoints; i++) {
        if (covered(a, points[i], words, nwords))
            ncovered++;
        else if (out->nerrors < EXAM_MAX_ERRORS)
            out->errors[out->nerrors++] = arena_sprintf(a, "Fehlender Kernpunkt: %s", points[i]);
    }

    out->ratio = (double)ncovered / npoints;
    out->score = clamp(nearbyint(out->ratio * max_score), 0, max_score); /* ties to even */
    out->is_correct = out->score >= 0.75 * max_score;
    if (out->ratio >= 0.9)
        out->feedback = "Sehr gute Antwort, die wichtigsten Kernpunkte sind enthalten.";
    else if (out->ratio >= 0.55)
        out->feedback = "Teilweise korrekt, einige Kernpunkte fehlen noch.";
    else
        out->feedback = "Zu viele Kernpunkte fehlen für eine ausreichende Bewertung.";
    return 0;
}

/* --- study ------------------------------------------------------------ */

static const char *suggestion(struct arena *a, const char *const *items, int n, const char *ref,
                              const char *feedback)
{
    if (n > 0) {
        static const char head[] = "Beispielstruktur: ";
        int k = n < STUDY_SUGGEST_ITEMS ? n : STUDY_SUGGEST_ITEMS;
        size_t len = sizeof(head), m;
        char *s, *p;

        for (int i = 0; i < k; i++)
            len += (items[i] ? strlen(items[i]) : 0) + 2;
        s = p = arena_alloc(a, len);
        memcpy(p, head, sizeof(head) - 1);
        p += sizeof(head) - 1;
        for (int i = 0; i < k; i++) {
            if (i > 0) {
                memcpy(p, "; ", 2);
                p += 2;
            }
            if (items[i] != NULL) {
                m = strlen(items[i]);
                memcpy(p, items[i], m);
                p += m;
            }
        }
        *p = '\0';
        return text_prefix(a, s, SIZE_MAX); /* items are used raw: only repair bad bytes */
    }
    const char *t = text_prefix(a, text_normalize_space(a, ref), STUDY_SUGGEST_CHARS);
    return *t ? t : feedback;
}

int grade_study_answer(struct arena *a, const char *const *short_answer, int n_short,
                       const char *reference_answer, const char *user_answer,
                       struct grade_study_result *out, struct err *e)
{
    struct grade_exam_result ex;
    double r;

    if (grade_exam_answer(a, short_answer, n_short, reference_answer, user_answer, 1.0, &ex, e) < 0)
        return -1;
    r = ex.ratio;
    memset(out, 0, sizeof(*out));
    out->ratio = r;
    out->max_points = 1.0;
    out->verdict = r >= 0.9 ? "full" : r >= 0.45 ? "partial" : "incorrect";
    /* Points follow the verdict, so the two never disagree (rounding the
     * ratio to half points gave 1.0 for a "partial" 0.75). */
    out->awarded_points = r >= 0.9 ? 1.0 : r >= 0.45 ? 0.5 : 0.0;
    out->suggested_rating = r >= 0.9 ? 4 : r >= 0.65 ? 3 : r >= 0.35 ? 2 : 1;
    out->reasoning_summary = ex.feedback;
    out->mistakes = ex.errors;
    out->nmistakes = ex.nerrors;
    out->improved_answer_suggestion =
        suggestion(a, short_answer, n_short, reference_answer, ex.feedback);
    return 0;
}

/* --- chart tasks ------------------------------------------------------ */

struct nav_tok {
    const char *s;
    size_t len;
};

static int is_sign(uint32_t cp)
{
    return cp == '+' || cp == '-' || cp == 0x2013 || cp == 0x2212 || cp == 0xB1;
}

/* Latin letters after lower-casing (ASCII, Latin-1, Latin Extended-A). */
static int is_letter(uint32_t cp)
{
    return (cp >= 'a' && cp <= 'z') || (cp >= 0xDF && cp <= 0xFF && cp != 0xF7) ||
           (cp >= 0x100 && cp <= 0x17F);
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Separators kept inside a number: 9,7  08:53  12.04.2013 */
static int is_num_sep(char c)
{
    return c == ',' || c == '.' || c == ':';
}

/* Split lower-cased text into numbers, words and signs; fill `out` when not
 * NULL; return the count. */
static size_t nav_scan(const char *s, struct nav_tok *out)
{
    size_t count = 0, n;
    uint32_t cp;

    while ((n = text_utf8_decode(s, &cp)) > 0) {
        const char *start = s;
        uint32_t c2;

        if (is_digit(*s)) {
            while (is_digit(*s) || (is_num_sep(*s) && is_digit(s[1])))
                s++;
        } else if (is_letter(cp)) {
            while ((n = text_utf8_decode(s, &c2)) > 0 && is_letter(c2))
                s += n;
        } else if (is_sign(cp)) {
            s += n;
            if (cp == 0x2013 || cp == 0x2212)
                start = "-";
            if (out != NULL)
                out[count] = (struct nav_tok){start, cp == 0xB1 ? n : 1};
            count++;
            continue;
        } else {
            s += n;
            continue;
        }
        if (out != NULL)
            out[count] = (struct nav_tok){start, (size_t)(s - start)};
        count++;
    }
    return count;
}

static size_t nav_tokens(struct arena *a, const char *text, struct nav_tok **out)
{
    char *low = text_lower(a, text);
    size_t count = nav_scan(low, NULL);

    *out = count > 0 ? arena_alloc(a, count * sizeof(**out)) : NULL;
    if (count > 0)
        nav_scan(low, *out);
    return count;
}

static int tok_eq(const struct nav_tok *x, const struct nav_tok *y)
{
    return x->len == y->len && memcmp(x->s, y->s, x->len) == 0;
}

/* Do the key's tokens occur consecutively in the answer's? */
static int nav_contains(const struct nav_tok *ans, size_t nans, const struct nav_tok *key,
                        size_t nkey)
{
    for (size_t i = 0; nkey <= nans && i <= nans - nkey; i++) {
        size_t j = 0;
        while (j < nkey && tok_eq(&ans[i + j], &key[j]))
            j++;
        if (j == nkey)
            return 1;
    }
    return 0;
}

/* Start of the code point that ends at s + len (valid UTF-8). */
static size_t last_cp(const char *s, size_t len, uint32_t *cp)
{
    size_t i = len;

    while (i > 0 && ((unsigned char)s[--i] & 0xC0) == 0x80)
        ;
    text_utf8_decode(s + i, cp);
    return i;
}

/* Value of a key without "=": from its last number (and a sign right before
 * it) to the end of the statement; NULL without a number. */
static const char *last_number(const char *key, size_t len)
{
    size_t i = len, j;
    uint32_t cp;

    while (i > 0 && !is_digit(key[i - 1]))
        i--;
    if (i == 0)
        return NULL;
    /* Back to the number's start, as nav_scan would read it forwards. */
    while (i > 0 && (is_digit(key[i - 1]) || (i >= 2 && is_num_sep(key[i - 1]) &&
                                              is_digit(key[i - 2]) && is_digit(key[i]))))
        i--;
    /* Step back over spaces to a sign: "BS –7°" keeps its minus. */
    for (j = i; j > 0;) {
        size_t k = last_cp(key, j, &cp);
        if (is_sign(cp))
            return key + k;
        if (!text_is_space(cp))
            break;
        j = k;
    }
    return key + i;
}

static int is_unit(const char *w)
{
    static const char *const units[] = {"sm", "kn", "m", "min", "h", "s", "Bft"};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(w, units[i]) == 0)
            return 1;
    return 0;
}

const char *grade_nav_key_value(struct arena *a, const char *key)
{
    const char *eq, *start, *end;
    char *v;
    size_t len, i, k;
    uint32_t cp;

    if (key == NULL)
        return NULL;
    eq = strchr(key, '=');
    if (eq != NULL) {
        start = eq + 1;
        end = start + strcspn(start, "[\n");
    } else {
        end = key + strcspn(key, "[\n");
        start = last_number(key, (size_t)(end - key));
        if (start == NULL)
            return NULL;
    }
    v = text_trim(a, arena_strndup(a, start, (size_t)(end - start)));
    len = strlen(v);
    /* One trailing run of spaces, ° and ' ("286°", "12,3'"). */
    for (; len > 0; len = k) {
        k = last_cp(v, len, &cp);
        if (!text_is_space(cp) && cp != 0xB0 && cp != '\'')
            break;
    }
    v[len] = '\0';
    /* One trailing unit after a space ("9,7 sm", "6 h 38 min"). */
    for (i = len; i > 0; i = k) {
        k = last_cp(v, i, &cp);
        if (text_is_space(cp))
            break;
    }
    if (i > 0 && is_unit(v + i)) {
        for (len = i; len > 0; len = k) {
            k = last_cp(v, len, &cp);
            if (!text_is_space(cp))
                break;
        }
        v[len] = '\0';
    }
    v = text_normalize_space(a, text_lower(a, v));
    return *v ? v : NULL;
}

int grade_nav_answer(struct arena *a, const char *const *key_answers, int n_keys,
                     const char *student_answer, double max_score, struct grade_nav_result *out,
                     struct err *e)
{
    struct nav_tok *ans, *kt;
    size_t nans;

    if (check_input(key_answers, n_keys, max_score, e) < 0)
        return -1;
    memset(out, 0, sizeof(*out));
    if (text_is_blank(student_answer)) {
        out->feedback = "Keine Antwort eingegeben.";
        return 0;
    }
    nans = nav_tokens(a, student_answer, &ans);
    for (int i = 0; i < n_keys; i++) {
        const char *v = grade_nav_key_value(a, key_answers[i]);
        size_t nkt = v == NULL ? 0 : nav_tokens(a, v, &kt);

        if (nkt == 0) { /* fix (d): nothing to match, not counted */
            out->skipped++;
            continue;
        }
        out->keys++;
        out->matched += nav_contains(ans, nans, kt, nkt);
    }
    if (out->keys == 0) { /* fix (c): no free half points */
        out->needs_self_assessment = 1;
        out->feedback = "Automatische Bewertung nicht möglich – bitte mit der Musterlösung "
                        "vergleichen.";
        return 0;
    }
    out->ratio = (double)out->matched / out->keys;
    out->score = grade_round1(max_score * out->ratio);
    out->is_correct = out->ratio >= 0.8;
    if (out->is_correct)
        out->feedback = "Alle wesentlichen Werte korrekt.";
    else if (out->matched > 0)
        out->feedback = arena_sprintf(a,
                                      "%d von %d Schlüsselwerten erkannt. Bitte mit der "
                                      "Musterlösung vergleichen.",
                                      out->matched, out->keys);
    else
        out->feedback = "Keine übereinstimmenden Werte gefunden. Bitte Musterlösung prüfen.";
    return 0;
}
