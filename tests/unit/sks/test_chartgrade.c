/* chartgrade: every chart task of the catalogue graded by sub-question. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "sks/catalogue.h"
#include "sks/chartgrade.h"
#include "tap.h"

static const char *data_dir(void)
{
    const char *d = getenv("EASYSKS_SKS_DATA");
    return d != NULL && *d ? d : "../shared/data/sks";
}

/* Each sub-question answered with its own key answers: full points there,
 * none and self-assessment where it has none; the same keys all in one text
 * (the old clients' form) give the same points; an empty answer gives 0. */
static void test_catalogue(struct arena *a, const struct catalogue *c)
{
    int tasks = 0, full = 0, single_same = 0, empty_zero = 0, subs = 0, with_keys = 0;

    for (int i = 0; i < c->ntasks; i++) {
        const struct cat_task *t = &c->tasks[i];
        struct chartgrade_result keys, g, one, none;
        const char **answers;
        char *all;
        size_t len = 1;
        double want = 0;
        int ok_task = 1;

        arena_reset(a);
        chartgrade_keys(a, t, &keys);
        answers = arena_alloc(a, (size_t)keys.n_subs * sizeof(*answers));
        for (int s = 0; s < keys.n_subs; s++) {
            size_t n = 1;
            char *p;
            for (int k = 0; k < keys.subs[s].keys; k++)
                n += strlen(keys.subs[s].key_texts[k]) + 2;
            p = arena_alloc(a, n);
            p[0] = '\0';
            for (int k = 0; k < keys.subs[s].keys; k++)
                strcat(strcat(p, keys.subs[s].key_texts[k]), "; ");
            answers[s] = p;
            len += n;
            if (keys.subs[s].keys > 0)
                want += keys.subs[s].max;
        }
        all = arena_alloc(a, len);
        all[0] = '\0';
        for (int s = 0; s < keys.n_subs; s++)
            strcat(all, answers[s]);
        chartgrade_task(a, t, answers, keys.n_subs, "", &g);
        chartgrade_task(a, t, NULL, 0, all, &one);
        chartgrade_task(a, t, NULL, 0, "", &none);
        tasks++;
        for (int s = 0; s < g.n_subs; s++) {
            const struct chartgrade_sub *sub = &g.subs[s];
            subs++;
            with_keys += sub->keys > 0;
            if (sub->keys > 0 ? sub->score != sub->max || sub->needs_self_assessment
                              : sub->score != 0 || !sub->needs_self_assessment)
                ok_task = 0;
        }
        if (ok_task && g.score == want)
            full++;
        else
            printf("# %s: %g of %g\n", t->task_id, g.score, want);
        single_same += one.score == g.score;
        empty_zero += none.score == 0;
    }
    ok(tasks == 177, "177 chart tasks (%d)", tasks);
    ok(full == tasks, "each sub-question answered with its keys gets its points (%d)", full);
    ok(single_same == tasks, "the one-text form gives the same points (%d)", single_same);
    ok(empty_zero == tasks, "an empty answer gets nothing (%d)", empty_zero);
    ok(with_keys == 150 && subs == 239, "150 of 239 sub-questions have keys (%d of %d)", with_keys,
       subs);
}

static void test_one_task(struct arena *a, const struct catalogue *c)
{
    const struct cat_task *t = catalogue_task(c, "nav_1_14");
    const char *ans[3] = {"gezeichnet", "MgK 084°, BS -7°", "FüG 6,7 kn"};
    struct chartgrade_result g;

    if (!ok(t != NULL && t->n_sub == 3, "nav_1_14 has three sub-questions"))
        return;
    chartgrade_task(a, t, ans, 3, "", &g);
    ok(g.n_subs == 3 && g.subs[0].needs_self_assessment && g.subs[0].score == 0,
       "the drawing needs the learner");
    ok(g.subs[1].keys == 2 && g.subs[1].matched == 1 && g.subs[1].score == 0.5,
       "MgK outside, BS inside: half the points (%g)", g.subs[1].score);
    ok(g.subs[2].score == 1 && g.score == 1.5 && g.needs_self_assessment && !g.is_correct,
       "the task: 1.5 of 3 (%g)", g.score);
    ans[1] = "MgK 083°, BS -7°";
    chartgrade_task(a, t, ans, 3, "", &g);
    ok(g.score == 2 && g.subs[1].matched == 2, "MgK on the edge (%g)", g.score);
}

/* The allowed materials, from each chart sheet's text. */
static void test_materials(const struct catalogue *c)
{
    int same = 1;

    ok(c->nav_materials[1] != NULL &&
           strcmp(c->nav_materials[1],
                  "Übungskarte 49 (INT 1463)\nKarte 1/INT 1\nBegleitheft für die Kartenaufgaben im "
                  "Fach Navigation für den SKS (Ausgabe 2013)\nTaschenrechner (nicht programmiert "
                  "und nicht programmierbar)\nNavigationsbesteck und Schreibgeräte") == 0,
       "sheet 1's materials, one per line");
    ok(c->nav_material_rules[1] != NULL &&
           strncmp(c->nav_material_rules[1], "Für die Prüfung", 16) == 0 &&
           strstr(c->nav_material_rules[1], "Begleitheft dürfen") != NULL &&
           strstr(c->nav_material_rules[1], "Hinweise") == NULL,
       "the rule on them, the hyphenation joined");
    for (int n = 1; n <= CATALOGUE_NAV_SHEETS; n++)
        same &=
            c->nav_materials[n] != NULL && strcmp(c->nav_materials[n], c->nav_materials[1]) == 0;
    ok(same, "all ten sheets list materials (the same ones)");
}

int main(void)
{
    struct err e = {0};
    struct catalogue *c = catalogue_from_source(data_dir(), &e);
    struct arena a;

    if (c == NULL) {
        ok(1, "chart-task catalogue # SKIP %s", e.msg);
        return tap_done();
    }
    arena_init(&a, 1 << 16);
    test_catalogue(&a, c);
    test_one_task(&a, c);
    test_materials(c);
    arena_cleanup(&a);
    catalogue_free(c);
    return tap_done();
}
