/*
 * chartgrade.h - a chart task graded by sub-question (docs/grading.md):
 * each sub-question's key answers (sks/navnum: which key belongs where, and
 * the numbers with their tolerances) against that sub-question's answer, or
 * against the whole answer when the learner sent one text for the task (the
 * old clients' form). A sub-question scores points × matched / keys, rounded
 * to 0.1; one without key answers scores 0 and needs self-assessment.
 */
#ifndef EASYSKS_CHARTGRADE_H
#define EASYSKS_CHARTGRADE_H

#include "core/arena.h"
#include "sks/catalogue.h"

struct chartgrade_sub {
    double max;                /* the sub-question's points */
    double score;              /* 0..max */
    int needs_self_assessment; /* no key answers to compare */
    int keys, matched;         /* distinct key answers of this sub-question, and matched */
    const char **key_texts;    /* those key answers as written, in the arena */
};

struct chartgrade_result {
    struct chartgrade_sub *subs; /* n_subs of them, in the arena */
    int n_subs;                  /* the task's sub-questions (1 when it lists none) */
    double score;                /* the sum, rounded to 0.1 */
    int is_correct;              /* score >= 0.8 × the task's points */
    int needs_self_assessment;   /* any sub-question needs it */
    const char *feedback;        /* German, in the arena */
};

/* Which sub-question each of the task's key answers belongs to, and the
 * distinct keys per sub-question, without grading: fills subs' max, keys,
 * key_texts and needs_self_assessment. */
void chartgrade_keys(struct arena *a, const struct cat_task *t, struct chartgrade_result *out);

/* Grade. `sub_answers` holds n_sub_answers texts (one per sub-question), or
 * is NULL to grade every sub-question against `answer`. NULL texts are "". */
void chartgrade_task(struct arena *a, const struct cat_task *t, const char *const *sub_answers,
                     int n_sub_answers, const char *answer, struct chartgrade_result *out);

#endif
