/*
 * fuzz_grade.c - the text helpers and the graders on arbitrary bytes.
 *
 * The input is split at NUL bytes: piece 0 is the student answer, piece 1
 * the reference answer, the rest are short-answer items (exam, study) and
 * key answers (chart task). Besides memory safety it checks the contracts:
 * cleaning is idempotent, every string returned is valid UTF-8, scores stay
 * in range.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sks/grade.h"
#include "core/text.h"

#define MAX_PIECES 18

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

static void text_contracts(struct arena *a, const char *s)
{
    const char *clean = text_clean_catalogue(a, s);
    const char *norm = text_normalize_space(a, s);
    struct text_token *tok;
    size_t n = text_tokenize(a, s, &tok);

    check(text_utf8_valid(clean) && strcmp(text_clean_catalogue(a, clean), clean) == 0);
    check(text_utf8_valid(norm) && strstr(norm, "  ") == NULL);
    check(*norm == '\0' || (norm[0] != ' ' && norm[strlen(norm) - 1] != ' '));
    for (size_t i = 0; i < n; i++)
        check(tok[i].len > 0 && tok[i].ncp > 0 && tok[i].ncp <= tok[i].len &&
              strlen(tok[i].s) == tok[i].len && text_utf8_valid(tok[i].s));
    check(text_utf8_valid(text_lower(a, s)) && text_utf8_valid(text_trim(a, s)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct arena a;
    static int ready;
    const char *piece[MAX_PIECES];
    char *buf;
    int n = 0;
    struct err e;
    struct grade_exam_result ex;
    struct grade_study_result st;
    struct grade_nav_result nv;

    if (!ready) {
        arena_init(&a, 1 << 16);
        ready = 1;
    }
    buf = arena_alloc(&a, size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';
    for (size_t i = 0; i <= size && n < MAX_PIECES; i += strlen(buf + i) + 1)
        piece[n++] = buf + i;
    for (int i = 0; i < n; i++) {
        const char *v = grade_nav_key_value(&a, piece[i]);
        text_contracts(&a, piece[i]);
        check(v == NULL || (*v && text_utf8_valid(v)));
    }
    while (n < 2)
        piece[n++] = "";

    check(grade_exam_answer(&a, piece + 2, n - 2, piece[1], piece[0], 2, &ex, &e) == 0);
    check(ex.score >= 0 && ex.score <= 2 && ex.ratio >= 0 && ex.ratio <= 1 && ex.nerrors >= 0 &&
          ex.nerrors <= 5 && text_utf8_valid(ex.feedback));
    for (int i = 0; i < ex.nerrors; i++)
        check(text_utf8_valid(ex.errors[i]));

    check(grade_study_answer(&a, piece + 2, n - 2, piece[1], piece[0], &st, &e) == 0);
    check((st.awarded_points == 0 || st.awarded_points == 0.5 || st.awarded_points == 1) &&
          st.suggested_rating >= 1 && st.suggested_rating <= 4 && st.verdict != NULL &&
          text_utf8_valid(st.improved_answer_suggestion));

    check(grade_nav_answer(&a, piece + 2, n - 2, piece[0], 30, &nv, &e) == 0);
    check(nv.score >= 0 && nv.score <= 30 && nv.matched <= nv.keys &&
          nv.keys + nv.skipped == (text_is_blank(piece[0]) ? 0 : n - 2) &&
          text_utf8_valid(nv.feedback));

    arena_reset(&a);
    return 0;
}
