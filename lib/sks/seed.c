#include "sks/seed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "core/json.h"

/* All cards as one JSON array parameter: one round trip for the lot. */
static const char upsert_cards[] =
    "WITH src AS ("
    "  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(card_id text, topic text,"
    "    question_number integer, position integer, front_text text, answer_text text,"
    "    front_images jsonb, answer_images jsonb, short_answer jsonb, exam_sheets jsonb,"
    "    new_rank integer)"
    "), edited AS ("
    /* Cards whose content changes; a new_rank that moved only because other
     * cards came or went (lib/sks/order.h ranks the whole set) is written
     * but not counted as a change. */
    "  SELECT c.card_id FROM cards c JOIN src USING (card_id)"
    "  WHERE (c.topic, c.question_number, c.position, c.front_text, c.answer_text,"
    "         c.front_images, c.answer_images, c.short_answer, c.exam_sheets, c.retired)"
    "    IS DISTINCT FROM (src.topic, src.question_number, src.position, src.front_text,"
    "         src.answer_text, src.front_images, src.answer_images, src.short_answer,"
    "         ARRAY(SELECT jsonb_array_elements_text(src.exam_sheets)::integer), false)"
    "), up AS ("
    "  INSERT INTO cards AS c (card_id, topic, question_number, position, front_text,"
    "    answer_text, front_images, answer_images, short_answer, exam_sheets, retired, new_rank)"
    "  SELECT card_id, topic, question_number, position, front_text, answer_text,"
    "    front_images, answer_images, short_answer,"
    "    ARRAY(SELECT jsonb_array_elements_text(exam_sheets)::integer), false, new_rank FROM src"
    "  ON CONFLICT (card_id) DO UPDATE SET topic = EXCLUDED.topic,"
    "    question_number = EXCLUDED.question_number, position = EXCLUDED.position,"
    "    front_text = EXCLUDED.front_text, answer_text = EXCLUDED.answer_text,"
    "    front_images = EXCLUDED.front_images, answer_images = EXCLUDED.answer_images,"
    "    short_answer = EXCLUDED.short_answer, exam_sheets = EXCLUDED.exam_sheets,"
    "    retired = false, new_rank = EXCLUDED.new_rank"
    "  WHERE (c.topic, c.question_number, c.position, c.front_text, c.answer_text,"
    "         c.front_images, c.answer_images, c.short_answer, c.exam_sheets, c.retired,"
    "         c.new_rank)"
    "    IS DISTINCT FROM (EXCLUDED.topic, EXCLUDED.question_number, EXCLUDED.position,"
    "         EXCLUDED.front_text, EXCLUDED.answer_text, EXCLUDED.front_images,"
    "         EXCLUDED.answer_images, EXCLUDED.short_answer, EXCLUDED.exam_sheets, false,"
    "         EXCLUDED.new_rank)"
    "  RETURNING xmax = 0 AS inserted, c.card_id"
    "), gone AS ("
    "  UPDATE cards SET retired = true"
    "  WHERE NOT retired AND card_id NOT IN (SELECT card_id FROM src) RETURNING 1"
    ")"
    " SELECT count(*) FILTER (WHERE inserted),"
    "  count(*) FILTER (WHERE NOT inserted AND card_id IN (SELECT card_id FROM edited)),"
    "  (SELECT count(*) FROM gone) FROM up";

static const char upsert_tasks[] =
    "WITH src AS ("
    "  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(task_id text, sheet_number integer,"
    "    task_number integer, points integer, context text, sub_questions jsonb,"
    "    solution_text text, key_answers jsonb)"
    "), up AS ("
    "  INSERT INTO navigation_tasks AS t (task_id, sheet_number, task_number, points, context,"
    "    sub_questions, solution_text, key_answers, retired)"
    "  SELECT task_id, sheet_number, task_number, points, context, sub_questions,"
    "    solution_text, key_answers, false FROM src"
    "  ON CONFLICT (task_id) DO UPDATE SET sheet_number = EXCLUDED.sheet_number,"
    "    task_number = EXCLUDED.task_number, points = EXCLUDED.points,"
    "    context = EXCLUDED.context, sub_questions = EXCLUDED.sub_questions,"
    "    solution_text = EXCLUDED.solution_text, key_answers = EXCLUDED.key_answers,"
    "    retired = false"
    "  WHERE (t.sheet_number, t.task_number, t.points, t.context, t.sub_questions,"
    "         t.solution_text, t.key_answers, t.retired)"
    "    IS DISTINCT FROM (EXCLUDED.sheet_number, EXCLUDED.task_number, EXCLUDED.points,"
    "         EXCLUDED.context, EXCLUDED.sub_questions, EXCLUDED.solution_text,"
    "         EXCLUDED.key_answers, false)"
    "  RETURNING xmax = 0 AS inserted"
    "), gone AS ("
    "  UPDATE navigation_tasks SET retired = true"
    "  WHERE NOT retired AND task_id NOT IN (SELECT task_id FROM src) RETURNING 1"
    ")"
    " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),"
    "  (SELECT count(*) FROM gone) FROM up";

/* $1: [{"sheet_number": n, "allowed_materials": "…", "material_rules": "…"}]. */
static const char upsert_sheets[] =
    "INSERT INTO navigation_sheets AS s (sheet_number, allowed_materials, material_rules)"
    " SELECT sheet_number, allowed_materials, material_rules FROM jsonb_to_recordset($1::jsonb)"
    "  AS x(sheet_number integer, allowed_materials text, material_rules text)"
    " ON CONFLICT (sheet_number) DO UPDATE SET allowed_materials = EXCLUDED.allowed_materials,"
    "  material_rules = EXCLUDED.material_rules";

static const char upsert_meta[] =
    "INSERT INTO catalogue_meta AS m (source_sha256, cards, tasks) VALUES ($1, $2::int, $3::int)"
    " ON CONFLICT (singleton) DO UPDATE SET source_sha256 = EXCLUDED.source_sha256,"
    "  cards = EXCLUDED.cards, tasks = EXCLUDED.tasks, loaded_at = now()"
    " WHERE (m.source_sha256, m.cards, m.tasks)"
    "  IS DISTINCT FROM (EXCLUDED.source_sha256, EXCLUDED.cards, EXCLUDED.tasks)";

static cJSON *images_json(const struct cat_image *im, int n)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *o = json_new_object();
        json_add_string(o, "image_id", im[i].image_id);
        json_add_string(o, "storage_key", im[i].storage_key);
        json_add_string(o, "alt_text", im[i].alt_text);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static char *cards_json(const struct catalogue *c)
{
    cJSON *arr = cJSON_CreateArray();
    char *text;

    for (int i = 0; i < c->ncards; i++) {
        const struct cat_card *k = &c->cards[i];
        cJSON *o = json_new_object();
        json_add_string(o, "card_id", k->card_id);
        json_add_string(o, "topic", catalogue_topics[k->topic].value);
        json_add_number(o, "question_number", k->number);
        /* A stable sort key, not the array index: removing a question must
         * not rewrite every row after it. */
        json_add_number(o, "position", k->topic * 10000 + k->number);
        json_add_string(o, "front_text", k->front_text);
        json_add_string(o, "answer_text", k->answer_text);
        cJSON_AddItemToObject(o, "front_images", images_json(k->front_images, k->n_front_images));
        cJSON_AddItemToObject(o, "answer_images",
                              images_json(k->answer_images, k->n_answer_images));
        cJSON_AddItemToObject(o, "short_answer",
                              cJSON_CreateStringArray(k->short_answer, k->n_short));
        cJSON_AddItemToObject(o, "exam_sheets", cJSON_CreateIntArray(k->sheets, k->n_sheets));
        json_add_number(o, "new_rank", k->new_rank); /* lib/order.h */
        cJSON_AddItemToArray(arr, o);
    }
    text = json_print(arr);
    cJSON_Delete(arr);
    return text;
}

static char *tasks_json(const struct catalogue *c)
{
    cJSON *arr = cJSON_CreateArray();
    char *text;

    for (int i = 0; i < c->ntasks; i++) {
        const struct cat_task *t = &c->tasks[i];
        cJSON *o = json_new_object(), *subs = cJSON_CreateArray();
        json_add_string(o, "task_id", t->task_id);
        json_add_number(o, "sheet_number", t->sheet);
        json_add_number(o, "task_number", t->number);
        json_add_number(o, "points", t->points);
        json_add_string(o, "context", t->context);
        for (int k = 0; k < t->n_sub; k++) {
            cJSON *s = json_new_object();
            json_add_string(s, "text", t->sub_questions[k].text);
            json_add_number(s, "points", t->sub_questions[k].points);
            cJSON_AddItemToArray(subs, s);
        }
        cJSON_AddItemToObject(o, "sub_questions", subs);
        json_add_string(o, "solution_text", t->solution_text);
        cJSON_AddItemToObject(o, "key_answers", cJSON_CreateStringArray(t->key_answers, t->n_keys));
        cJSON_AddItemToArray(arr, o);
    }
    text = json_print(arr);
    cJSON_Delete(arr);
    return text;
}

static char *sheets_json(const struct catalogue *c)
{
    cJSON *arr = cJSON_CreateArray();
    char *text;

    for (int n = 1; n <= CATALOGUE_NAV_SHEETS; n++) {
        cJSON *o = json_new_object();
        json_add_number(o, "sheet_number", n);
        if (c->nav_materials[n] != NULL)
            json_add_string(o, "allowed_materials", c->nav_materials[n]);
        if (c->nav_material_rules[n] != NULL)
            json_add_string(o, "material_rules", c->nav_material_rules[n]);
        cJSON_AddItemToArray(arr, o);
    }
    text = json_print(arr);
    cJSON_Delete(arr);
    return text;
}

static PGresult *exec(PGconn *conn, const char *sql, int n, const char *const *params,
                      struct err *e)
{
    PGresult *r = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);

    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        err_set(e, 500, "seed_failed", "%s", PQresultErrorMessage(r));
        PQclear(r);
        return NULL;
    }
    return r;
}

static int counts(PGresult *r, int *new_, int *changed, int *retired)
{
    if (r == NULL)
        return -1;
    *new_ = atoi(PQgetvalue(r, 0, 0));
    *changed = atoi(PQgetvalue(r, 0, 1));
    *retired = atoi(PQgetvalue(r, 0, 2));
    PQclear(r);
    return 0;
}

int seed_catalogue(PGconn *conn, const struct catalogue *c, struct seed_counts *out, struct err *e)
{
    char *cards = cards_json(c), *tasks = tasks_json(c), *sheets = sheets_json(c), lock[32],
         ncards[16], ntasks[16];
    const char *p[3];
    int rc = -1;

    memset(out, 0, sizeof(*out));
    out->cards = c->ncards;
    out->tasks = c->ntasks;
    snprintf(lock, sizeof(lock), "%lld", SEED_LOCK_KEY);
    snprintf(ncards, sizeof(ncards), "%d", c->ncards);
    snprintf(ntasks, sizeof(ntasks), "%d", c->ntasks);

    PQclear(exec(conn, "BEGIN", 0, NULL, e));
    p[0] = lock;
    PGresult *r = exec(conn, "SELECT pg_advisory_xact_lock($1::bigint)", 1, p, e);
    if (r == NULL)
        goto out;
    PQclear(r);
    p[0] = cards;
    if (counts(exec(conn, upsert_cards, 1, p, e), &out->cards_new, &out->cards_changed,
               &out->cards_retired) < 0)
        goto out;
    p[0] = tasks;
    if (counts(exec(conn, upsert_tasks, 1, p, e), &out->tasks_new, &out->tasks_changed,
               &out->tasks_retired) < 0)
        goto out;
    p[0] = sheets;
    if ((r = exec(conn, upsert_sheets, 1, p, e)) == NULL)
        goto out;
    PQclear(r);
    p[0] = c->source_sha256;
    p[1] = ncards;
    p[2] = ntasks;
    if ((r = exec(conn, upsert_meta, 3, p, e)) == NULL)
        goto out;
    PQclear(r);
    if ((r = exec(conn, "COMMIT", 0, NULL, e)) == NULL)
        goto out;
    PQclear(r);
    rc = 0;
out:
    if (rc < 0)
        PQclear(PQexec(conn, "ROLLBACK"));
    free(cards);
    free(tasks);
    free(sheets);
    return rc;
}
