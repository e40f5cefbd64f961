/*
 * test_catalogue.c - lib/sks/catalogue from the real source files: counts,
 * stable ids, catalogue and sheet order, images, the rendered CardOut, the
 * id lookups; and broken sources refused with a message naming the problem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "sks/catalogue.h"
#include "tap.h"

static const char *data_dir(void)
{
    const char *d = getenv("EASYSKS_SKS_DATA");
    return d != NULL && *d ? d : "../shared/data/sks";
}

/* A scratch copy of the sources with sks_catalog.json replaced by `text`. */
static const char *broken_dir(const char *text)
{
    static char dir[64];
    char path[128], cmd[1024];
    FILE *f;

    snprintf(dir, sizeof(dir), "/tmp/easysks-cat-test.%d", (int)getpid());
    snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir -p %s && cp %s/sks_navigation_catalog.json %s",
             dir, dir, data_dir(), dir);
    if (system(cmd) != 0)
        return NULL;
    snprintf(path, sizeof(path), "%s/sks_catalog.json", dir);
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return dir;
}

int main(void)
{
    struct err e = {0};
    struct catalogue *c = catalogue_from_source(data_dir(), &e);
    const struct cat_card *k;
    const struct cat_task *t;
    cJSON *j;
    int ordered = 1, sheets_ok = 1;
    char msg[300];

    if (c == NULL) {
        printf("1..0 # SKIP catalogue not readable from %s: %s\n", data_dir(), e.msg);
        return 0;
    }
    ok(c->ncards == 638 && c->ntasks == 177, "638 questions, 177 chart tasks (%d, %d)", c->ncards,
       c->ntasks);
    ok(c->topic_count[0] == 118 && c->topic_count[1] == 110 && c->topic_count[2] == 101 &&
           c->topic_count[3] == 163 && c->topic_count[4] == 146,
       "questions per topic");
    for (int i = 1; i < c->ncards; i++) {
        const struct cat_card *a = &c->cards[i - 1], *b = &c->cards[i];
        ordered &= b->position == i &&
                   (a->topic < b->topic || (a->topic == b->topic && a->number < b->number));
    }
    ok(ordered, "catalogue order: topic, then question number");
    for (int n = 1; n <= CATALOGUE_EXAM_SHEETS; n++) {
        sheets_ok &= c->sheet_count[n] == 30;
        for (int i = 1; i < c->sheet_count[n]; i++)
            sheets_ok &= c->sheet_cards[n][i - 1] < c->sheet_cards[n][i];
    }
    ok(sheets_ok, "every exam sheet has 30 questions in official order");
    {
        int per_topic[CATALOGUE_TOPICS] = {0};
        for (int i = 0; i < c->sheet_count[1]; i++)
            per_topic[c->cards[c->sheet_cards[1][i]].topic]++;
        ok(per_topic[0] == 9 && per_topic[1] == 7 && per_topic[2] == 5 && per_topic[3] == 9 &&
               per_topic[4] == 0 && c->cards[c->sheet_cards[1][0]].topic == 0 &&
               c->cards[c->sheet_cards[1][29]].topic == 3,
           "sheet 1: 9 Navigation, 7 Schifffahrtsrecht, 5 Wetterkunde, 9 Seemannschaft I, in "
           "that order");
    }

    k = catalogue_card(c, "seemannschaft_ii_146");
    ok(k != NULL && k->topic == 4 && k->number == 146, "lookup by id");
    ok(catalogue_card(c, "seemannschaft_ii_147") == NULL && catalogue_card(c, "") == NULL &&
           catalogue_card(c, NULL) == NULL,
       "unknown ids are NULL");
    k = catalogue_card(c, "schifffahrtsrecht_19");
    ok(k != NULL && k->n_front_images == 2 &&
           strcmp(k->front_images[1].image_id, "schifffahrtsrecht_q19_q2") == 0 &&
           strcmp(k->front_images[1].storage_key, "/media/schifffahrtsrecht_q19_q2.gif") == 0 &&
           strstr(k->front_images[1].alt_text, "2 von 2") != NULL,
       "images: id from the file name, /media/ key, alt text");
    ok(k != NULL && strstr(k->front_text, "[image:") == NULL &&
           strncmp(k->front_text, "Man hört", 9) == 0,
       "inline image markers are cleaned out of the text");
    j = k != NULL ? cJSON_Parse(k->json) : NULL;
    ok(j != NULL && strlen(k->json) == k->json_len &&
           strcmp(cJSON_GetObjectItem(j, "card_id")->valuestring, "schifffahrtsrecht_19") == 0 &&
           cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "front"), "images")) ==
               2 &&
           cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "answer"), "images")) ==
               0 &&
           strcmp(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "tags"), 0)->valuestring,
                  "schifffahrtsrecht") == 0,
       "the rendered CardOut parses and carries the card");
    cJSON_Delete(j);

    t = catalogue_task(c, "nav_3_12");
    ok(t != NULL && t->sheet == 3 && t->number == 12 && t->n_sub > 0, "chart task by id");
    ok(catalogue_task(c, "nav_3_99") == NULL && catalogue_task(c, "nav_11_1") == NULL &&
           catalogue_task(c, "nav_3_12x") == NULL && catalogue_task(c, "x") == NULL,
       "unknown task ids are NULL");
    {
        int pts = 0;
        for (int i = 0; i < c->nav_count[1]; i++)
            pts += c->tasks[c->nav_first[1] + i].points;
        ok(c->nav_count[1] == 18 && pts == 30, "chart-task sheet 1: 18 tasks, 30 points");
    }
    ok(strlen(c->source_sha256) == 64, "the sources' checksum is kept");
    catalogue_free(c);
    catalogue_free(NULL);

    ok(catalogue_from_source("/nonexistent", &e) == NULL && strcmp(e.code, "file_unreadable") == 0,
       "a missing directory: file_unreadable");
    ok(catalogue_from_source(broken_dir("[{\"topic\":"), &e) == NULL &&
           strstr(e.msg, "not valid JSON") != NULL,
       "broken JSON named (%s)", e.msg);
    ok(catalogue_from_source(broken_dir("[{\"topic\":\"astrology\",\"question_number\":1,"
                                        "\"question\":\"q\",\"answer\":\"a\"}]"),
                             &e) == NULL &&
           strstr(e.msg, "entry 0") != NULL,
       "an unknown topic names the entry (%s)", e.msg);
    snprintf(msg, sizeof(msg),
             "[{\"topic\":\"navigation\",\"question_number\":1,\"question\":\"q\",\"answer\":\"a\","
             "\"short_answer\":[],\"exam_sheets\":[1]}]");
    ok(catalogue_from_source(broken_dir(msg), &e) == NULL && strstr(e.msg, "exactly 30") != NULL,
       "a sheet without 30 questions is refused (%s)", e.msg);
    /* Numbers outside int's range are refused before any cast (under
     * clang's UBSan, float-cast-overflow aborts on a cast that overflows). */
    {
        static const char *const huge[] = {
            "[{\"topic\":\"navigation\",\"question_number\":1e10,\"question\":\"q\",\"answer\":"
            "\"a\"}]",
            "[{\"topic\":\"navigation\",\"question_number\":-1e300,\"question\":\"q\",\"answer\":"
            "\"a\"}]",
            ("[{\"topic\":\"navigation\",\"question_number\":1,\"question\":\"q\",\"answer\":\"a\","
             "\"short_answer\":[],\"exam_sheets\":[1e10]}]"),
            "[{\"topic\":\"navigation\",\"question_number\":2.5,\"question\":\"q\",\"answer\":"
            "\"a\"}]",
        };
        for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
            memset(&e, 0, sizeof(e));
            ok(catalogue_from_source(broken_dir(huge[i]), &e) == NULL && e.code != NULL &&
                   strcmp(e.code, "catalogue_invalid") == 0,
               "a number that is no int is refused (%zu: %s)", i, e.msg);
        }
    }
    if (system("rm -rf /tmp/easysks-cat-test.*") != 0)
        ok(0, "scratch directory removed");
    return tap_done();
}
