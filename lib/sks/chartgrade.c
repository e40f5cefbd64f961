#include "sks/chartgrade.h"

#include <string.h>

#include "core/text.h"
#include "sks/grade.h"
#include "sks/navnum.h"

#define MAX_KEYS 32
#define MAX_ANSWER_VALUES 64

struct parsed {
    struct navnum_key keys[MAX_KEYS];
    const char *texts[MAX_KEYS];
    int sub_of[MAX_KEYS];
    int n;
};

/* The task's keys with a value, repeats dropped, and their sub-questions. */
static void parse_keys(const struct cat_task *t, int n_subs, struct parsed *p)
{
    const char *sub_texts[16];

    p->n = 0;
    for (int i = 0; i < t->n_keys && p->n < MAX_KEYS; i++) {
        struct navnum_key k;
        int dup = 0;
        if (navnum_parse_key(t->key_answers[i], &k) < 0)
            continue;
        for (int j = 0; j < p->n && !dup; j++)
            dup = navnum_key_same(&p->keys[j], &k);
        if (dup)
            continue;
        p->keys[p->n] = k;
        p->texts[p->n] = t->key_answers[i];
        p->n++;
    }
    for (int s = 0; s < n_subs && s < 16; s++)
        sub_texts[s] = t->n_sub > 0 ? t->sub_questions[s].text : "";
    navnum_assign(sub_texts, n_subs < 16 ? n_subs : 16, p->keys, p->n, p->sub_of);
}

static void fill_keys(struct arena *a, const struct cat_task *t, struct parsed *p,
                      struct chartgrade_result *out)
{
    int n_subs = t->n_sub > 0 ? t->n_sub : 1;

    if (n_subs > 16)
        n_subs = 16;
    memset(out, 0, sizeof(*out));
    out->n_subs = n_subs;
    out->subs = arena_alloc(a, (size_t)n_subs * sizeof(*out->subs));
    parse_keys(t, n_subs, p);
    for (int s = 0; s < n_subs; s++) {
        struct chartgrade_sub *sub = &out->subs[s];
        memset(sub, 0, sizeof(*sub));
        sub->max = t->n_sub > 0 ? t->sub_questions[s].points : t->points;
        sub->key_texts = arena_alloc(a, (size_t)(p->n > 0 ? p->n : 1) * sizeof(*sub->key_texts));
        for (int i = 0; i < p->n; i++)
            if (p->sub_of[i] == s)
                sub->key_texts[sub->keys++] = p->texts[i];
        sub->needs_self_assessment = sub->keys == 0;
        if (sub->needs_self_assessment)
            out->needs_self_assessment = 1;
    }
}

void chartgrade_keys(struct arena *a, const struct cat_task *t, struct chartgrade_result *out)
{
    struct parsed *p = arena_alloc(a, sizeof(*p));

    fill_keys(a, t, p, out);
}

void chartgrade_task(struct arena *a, const struct cat_task *t, const char *const *sub_answers,
                     int n_sub_answers, const char *answer, struct chartgrade_result *out)
{
    struct parsed *p = arena_alloc(a, sizeof(*p));
    struct navnum_value *vals = arena_alloc(a, MAX_ANSWER_VALUES * sizeof(*vals));
    int assessed = 0, full = 0, nvals_all;
    double total = 0;

    fill_keys(a, t, p, out);
    nvals_all = navnum_scan(answer, vals, MAX_ANSWER_VALUES);
    for (int s = 0; s < out->n_subs; s++) {
        struct chartgrade_sub *sub = &out->subs[s];
        struct navnum_value *v = vals;
        int nv = nvals_all;
        if (sub->keys == 0)
            continue;
        if (sub_answers != NULL) {
            v = arena_alloc(a, MAX_ANSWER_VALUES * sizeof(*v));
            nv = navnum_scan(s < n_sub_answers ? sub_answers[s] : NULL, v, MAX_ANSWER_VALUES);
        }
        for (int i = 0; i < p->n; i++)
            if (p->sub_of[i] == s && navnum_key_matches(&p->keys[i], v, nv))
                sub->matched++;
        sub->score = grade_round1(sub->max * sub->matched / sub->keys);
        total += sub->score;
        assessed++;
        full += sub->matched == sub->keys;
    }
    out->score = grade_round1(total);
    out->is_correct = out->score >= 0.8 * t->points - 1e-9;
    if (assessed == 0)
        out->feedback = "Automatische Bewertung nicht möglich – bitte mit der Musterlösung "
                        "vergleichen.";
    else
        out->feedback = arena_sprintf(
            a, "%d von %d Teilaufgaben mit allen Werten in der Toleranz.%s", full, assessed,
            out->needs_self_assessment
                ? " Teilaufgaben ohne Lösungswerte bitte selbst mit der Musterlösung bewerten."
                : "");
}
