/*
 * fuzz_catalogue.c - the catalogue loader (catalogue_from_source) on
 * arbitrary source files. An input is the question catalogue
 * (sks_catalog.json), then a line "=====" and the chart tasks
 * (sks_navigation_catalog.json); without that line both files get the
 * whole input. They are written to a scratch directory of this process,
 * since the loader reads a directory as `easysks-migrate seed` does.
 *
 * A refusal is catalogue_invalid or file_unreadable with a message; an
 * accepted catalogue finds every card by its id, in catalogue order with
 * positions 0..n-1, every exam sheet 1..15 with exactly 30 questions that
 * are cards of it, and every chart task by its id.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sks/catalogue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void check(int cond)
{
    if (!cond)
        abort();
}

static void put(const char *name, const uint8_t *p, size_t n)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0)
        abort();
}

static void cleanup(void)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/sks_catalog.json", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/sks_navigation_catalog.json", dir);
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char sep[] = "\n=====\n";
    const uint8_t *cut = NULL;
    struct catalogue *c;
    struct err e = {0};

    if (dir[0] == '\0') {
        snprintf(dir, sizeof(dir), "/tmp/easysks-fuzz-cat.XXXXXX");
        if (mkdtemp(dir) == NULL)
            abort();
        atexit(cleanup);
    }
    for (size_t i = 0; i + sizeof(sep) - 1 <= size; i++)
        if (memcmp(data + i, sep, sizeof(sep) - 1) == 0) {
            cut = data + i;
            break;
        }
    if (cut != NULL) {
        put("sks_catalog.json", data, (size_t)(cut - data));
        put("sks_navigation_catalog.json", cut + sizeof(sep) - 1,
            size - (size_t)(cut - data) - (sizeof(sep) - 1));
    } else {
        put("sks_catalog.json", data, size);
        put("sks_navigation_catalog.json", data, size);
    }
    c = catalogue_from_source(dir, &e);
    if (c == NULL) {
        check(
            e.code != NULL &&
            (strcmp(e.code, "catalogue_invalid") == 0 || strcmp(e.code, "file_unreadable") == 0) &&
            e.msg[0] != '\0');
        return 0;
    }
    check(c->ncards > 0);
    for (int i = 0; i < c->ncards; i++) {
        const struct cat_card *k = &c->cards[i];
        check(k->position == i && catalogue_card(c, k->card_id) == k);
        check(k->topic >= 0 && k->topic < CATALOGUE_TOPICS && k->json != NULL);
    }
    for (int n = 1; n <= CATALOGUE_EXAM_SHEETS; n++) {
        check(c->sheet_count[n] == CATALOGUE_SHEET_QUESTIONS);
        for (int i = 0; i < c->sheet_count[n]; i++) {
            const struct cat_card *k = &c->cards[c->sheet_cards[n][i]];
            int on = 0;
            for (int s = 0; s < k->n_sheets; s++)
                on |= k->sheets[s] == n;
            check(on);
        }
    }
    for (int i = 0; i < c->ntasks; i++)
        check(catalogue_task(c, c->tasks[i].task_id) == &c->tasks[i]);
    catalogue_free(c);
    return 0;
}
