#include "sks/catalogue.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/json.h"
#include "core/text.h"
#include "sks/order.h"
#include "sks/search.h"

#define SOURCE_MAX_BYTES (16 * 1024 * 1024)

const struct cat_topic catalogue_topics[CATALOGUE_TOPICS] = {
    {"navigation", "Navigation"},
    {"schifffahrtsrecht", "Schifffahrtsrecht"},
    {"wetterkunde", "Wetterkunde"},
    {"seemannschaft_i", "Seemannschaft I"},
    {"seemannschaft_ii", "Seemannschaft II"},
};

int catalogue_topic_index(const char *value)
{
    for (int i = 0; value != NULL && i < CATALOGUE_TOPICS; i++)
        if (strcmp(value, catalogue_topics[i].value) == 0)
            return i;
    return -1;
}

static struct catalogue *catalogue_new(void)
{
    struct catalogue *c = calloc(1, sizeof(*c));
    if (c == NULL)
        abort();
    arena_init(&c->arena, 256 * 1024);
    return c;
}

void catalogue_free(struct catalogue *c)
{
    if (c == NULL)
        return;
    free(c->cards);
    free(c->tasks);
    free(c->by_hash);
    free(c->new_order);
    arena_cleanup(&c->arena);
    free(c);
}

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

const struct cat_card *catalogue_card(const struct catalogue *c, const char *card_id)
{
    if (c == NULL || card_id == NULL || c->hash_size == 0)
        return NULL;
    for (uint32_t i = hash_str(card_id) & (uint32_t)(c->hash_size - 1);;
         i = (i + 1) & (uint32_t)(c->hash_size - 1)) {
        int k = c->by_hash[i];
        if (k < 0)
            return NULL;
        if (strcmp(c->cards[k].card_id, card_id) == 0)
            return &c->cards[k];
    }
}

const struct cat_task *catalogue_task(const struct catalogue *c, const char *task_id)
{
    int sheet, number;
    char tail;

    /* nav_<sheet>_<task>: the id says where the task is. */
    if (c == NULL || task_id == NULL ||
        sscanf(task_id, "nav_%d_%d%c", &sheet, &number, &tail) != 2 || sheet < 1 ||
        sheet > CATALOGUE_NAV_SHEETS)
        return NULL;
    for (int i = 0; i < c->nav_count[sheet]; i++) {
        const struct cat_task *t = &c->tasks[c->nav_first[sheet] + i];
        if (t->number == number && strcmp(t->task_id, task_id) == 0)
            return t;
    }
    return NULL;
}

/* --- building ----------------------------------------------------------- */

static int invalid(struct err *e, const char *where, const char *what)
{
    return err_set(e, 500, "catalogue_invalid", "%s: %s", where, what);
}

static struct cat_card *add_card(struct catalogue *c)
{
    if ((c->ncards & (c->ncards - 1)) == 0) { /* grow at powers of two */
        size_t cap = c->ncards == 0 ? 64 : (size_t)c->ncards * 2;
        c->cards = realloc(c->cards, cap * sizeof(*c->cards));
        if (c->cards == NULL)
            abort();
    }
    memset(&c->cards[c->ncards], 0, sizeof(c->cards[0]));
    return &c->cards[c->ncards++];
}

static struct cat_task *add_task(struct catalogue *c)
{
    if ((c->ntasks & (c->ntasks - 1)) == 0) {
        size_t cap = c->ntasks == 0 ? 64 : (size_t)c->ntasks * 2;
        c->tasks = realloc(c->tasks, cap * sizeof(*c->tasks));
        if (c->tasks == NULL)
            abort();
    }
    memset(&c->tasks[c->ntasks], 0, sizeof(c->tasks[0]));
    return &c->tasks[c->ntasks++];
}

static int card_order(const void *a, const void *b)
{
    const struct cat_card *x = a, *y = b;
    if (x->topic != y->topic)
        return x->topic - y->topic;
    return (x->number > y->number) - (x->number < y->number);
}

static int task_order(const void *a, const void *b)
{
    const struct cat_task *x = a, *y = b;
    if (x->sheet != y->sheet)
        return x->sheet - y->sheet;
    return (x->number > y->number) - (x->number < y->number);
}

static void json_images(struct buf *b, const struct cat_image *im, int n)
{
    buf_putc(b, '[');
    for (int i = 0; i < n; i++) {
        buf_puts(b, i > 0 ? ",{\"image_id\":" : "{\"image_id\":");
        buf_json_string(b, im[i].image_id);
        buf_puts(b, ",\"storage_key\":");
        buf_json_string(b, im[i].storage_key);
        buf_puts(b, ",\"alt_text\":");
        if (im[i].alt_text != NULL)
            buf_json_string(b, im[i].alt_text);
        else
            buf_puts(b, "null");
        buf_putc(b, '}');
    }
    buf_putc(b, ']');
}

static const char *images_json(struct catalogue *c, const struct cat_image *im, int n,
                               struct buf *b)
{
    buf_reset(b);
    json_images(b, im, n);
    return arena_strndup(&c->arena, buf_str(b), b->len);
}

/* CardOut of the reference contract, and its image lists on their own. */
static void render_card(struct catalogue *c, struct cat_card *k, struct buf *b)
{
    k->front_images_json = images_json(c, k->front_images, k->n_front_images, b);
    k->answer_images_json = images_json(c, k->answer_images, k->n_answer_images, b);
    buf_reset(b);
    buf_puts(b, "{\"card_id\":");
    buf_json_string(b, k->card_id);
    buf_puts(b, ",\"front\":{\"text\":");
    buf_json_string(b, k->front_text);
    buf_puts(b, ",\"images\":");
    buf_puts(b, k->front_images_json);
    buf_puts(b, "},\"answer\":{\"text\":");
    buf_json_string(b, k->answer_text);
    buf_puts(b, ",\"images\":");
    buf_puts(b, k->answer_images_json);
    buf_puts(b, "},\"short_answer\":[");
    for (int i = 0; i < k->n_short; i++) {
        if (i > 0)
            buf_putc(b, ',');
        buf_json_string(b, k->short_answer[i]);
    }
    buf_puts(b, "],\"tags\":[");
    buf_json_string(b, catalogue_topics[k->topic].value);
    buf_puts(b, "],\"exam_sheets\":[");
    for (int i = 0; i < k->n_sheets; i++)
        buf_printf(b, i > 0 ? ",%d" : "%d", k->sheets[i]);
    buf_puts(b, "]}");
    k->json = arena_strndup(&c->arena, buf_str(b), b->len);
    k->json_len = b->len;
}

/* Order, index and check what was added; render the JSON. */
/* The mixed order of new cards: a function of the catalogue alone, so
 * both paths agree with what the seed wrote into cards.new_rank. */
static int set_new_order(struct catalogue *c)
{
    int *rank = malloc((size_t)c->ncards * 3 * sizeof(*rank)), *topic = rank + c->ncards,
        *sheets = topic + c->ncards;

    _Static_assert(CATALOGUE_TOPICS == ORDER_TOPICS, "lib/sks/order.h knows the topics");
    c->new_order = malloc((size_t)c->ncards * sizeof(*c->new_order));
    if (rank == NULL || c->new_order == NULL)
        abort();
    for (int i = 0; i < c->ncards; i++) {
        topic[i] = c->cards[i].topic;
        sheets[i] = c->cards[i].n_sheets;
    }
    order_new_cards(topic, sheets, c->ncards, rank);
    for (int i = 0; i < c->ncards; i++) {
        c->cards[i].new_rank = rank[i];
        c->new_order[rank[i]] = i;
    }
    free(rank);
    return 0;
}

static int finish(struct catalogue *c, struct err *e)
{
    struct buf b;
    char where[96];

    if (c->ncards == 0)
        return invalid(e, "cards", "no questions");
    qsort(c->cards, (size_t)c->ncards, sizeof(*c->cards), card_order);
    if (c->ntasks > 1)
        qsort(c->tasks, (size_t)c->ntasks, sizeof(*c->tasks), task_order);

    c->hash_size = 16;
    while (c->hash_size < c->ncards * 2)
        c->hash_size *= 2;
    c->by_hash = malloc((size_t)c->hash_size * sizeof(*c->by_hash));
    if (c->by_hash == NULL)
        abort();
    memset(c->by_hash, 0xff, (size_t)c->hash_size * sizeof(*c->by_hash));
    for (int t = 0; t < CATALOGUE_TOPICS; t++)
        c->topic_first[t] = -1;

    buf_init(&b);
    for (int i = 0; i < c->ncards; i++) {
        struct cat_card *k = &c->cards[i];
        uint32_t h;
        if (catalogue_card(c, k->card_id) != NULL) {
            buf_cleanup(&b);
            snprintf(where, sizeof(where), "card %s", k->card_id);
            return invalid(e, where, "appears twice");
        }
        for (h = hash_str(k->card_id) & (uint32_t)(c->hash_size - 1); c->by_hash[h] >= 0;
             h = (h + 1) & (uint32_t)(c->hash_size - 1))
            ;
        c->by_hash[h] = i;
        k->position = i;
        if (c->topic_first[k->topic] < 0)
            c->topic_first[k->topic] = i;
        c->topic_count[k->topic]++;
        for (int s = 0; s < k->n_sheets; s++) {
            int n = k->sheets[s];
            if (n < 1 || n > CATALOGUE_EXAM_SHEETS) {
                buf_cleanup(&b);
                snprintf(where, sizeof(where), "card %s", k->card_id);
                return invalid(e, where, "exam sheet outside 1..15");
            }
            if (c->sheet_count[n] == CATALOGUE_SHEET_QUESTIONS) {
                buf_cleanup(&b);
                snprintf(where, sizeof(where), "exam sheet %d", n);
                return invalid(e, where, "more than 30 questions");
            }
            c->sheet_cards[n][c->sheet_count[n]++] = i;
        }
        render_card(c, k, &b);
        k->search_text = search_fold(
            &c->arena, arena_sprintf(&c->arena, "%s\n%s", k->front_text, k->answer_text));
    }
    buf_cleanup(&b);
    for (int n = 1; n <= CATALOGUE_EXAM_SHEETS; n++) {
        if (c->sheet_count[n] != CATALOGUE_SHEET_QUESTIONS) {
            snprintf(where, sizeof(where), "exam sheet %d", n);
            return invalid(e, where, "does not have exactly 30 questions");
        }
    }
    for (int i = 0; i < c->ntasks; i++) {
        const struct cat_task *t = &c->tasks[i];
        if (t->sheet < 1 || t->sheet > CATALOGUE_NAV_SHEETS)
            return invalid(e, t->task_id, "chart-task sheet outside 1..10");
        if (i > 0 && t->sheet == t[-1].sheet && t->number == t[-1].number)
            return invalid(e, t->task_id, "task number appears twice on its sheet");
        if (c->nav_count[t->sheet]++ == 0)
            c->nav_first[t->sheet] = i;
    }
    for (int n = 1; n <= CATALOGUE_NAV_SHEETS; n++) {
        if (c->nav_count[n] == 0) {
            snprintf(where, sizeof(where), "chart-task sheet %d", n);
            return invalid(e, where, "has no tasks");
        }
    }
    return set_new_order(c);
}

/* --- from the source files --------------------------------------------- */

static const char *str_field(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A JSON number that is an int exactly: the range is checked on the double,
 * since casting one outside int's range is undefined behaviour. */
static int as_int(const cJSON *v, int *out)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= INT_MIN && v->valuedouble <= INT_MAX) ||
        v->valuedouble != floor(v->valuedouble))
        return -1;
    *out = (int)v->valuedouble;
    return 0;
}

static int int_field(const cJSON *o, const char *key, int *out)
{
    return as_int(cJSON_GetObjectItemCaseSensitive(o, key), out);
}

/* "sks_images/schifffahrtsrecht_q19_q1.gif" -> id, "/media/<file>", alt. */
static int source_images(struct catalogue *c, const cJSON *arr, const char *what, int number,
                         int topic, const struct cat_image **out, int *n)
{
    int count = cJSON_GetArraySize(arr), i = 0;
    struct cat_image *im;
    const cJSON *it;

    *out = NULL;
    *n = 0;
    if (arr == NULL)
        return 0;
    if (!cJSON_IsArray(arr))
        return -1;
    im = arena_alloc(&c->arena, (size_t)(count > 0 ? count : 1) * sizeof(*im));
    cJSON_ArrayForEach(it, arr)
    {
        const char *path, *file, *dot;
        if (!cJSON_IsString(it))
            return -1;
        path = it->valuestring;
        file = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
        dot = strrchr(file, '.');
        if (*file == '\0' || dot == NULL || dot == file ||
            strspn(file, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != strlen(file))
            return -1;
        im[i].image_id = arena_strndup(&c->arena, file, (size_t)(dot - file));
        im[i].storage_key = arena_sprintf(&c->arena, "/media/%s", file);
        im[i].alt_text = count > 1
                             ? arena_sprintf(&c->arena, "Abbildung %d von %d zur %s %d (%s)", i + 1,
                                             count, what, number, catalogue_topics[topic].label)
                             : arena_sprintf(&c->arena, "Abbildung zur %s %d (%s)", what, number,
                                             catalogue_topics[topic].label);
        i++;
    }
    *out = im;
    *n = count;
    return 0;
}

static const char **string_array(struct catalogue *c, const cJSON *arr, int *n, int clean)
{
    int count = cJSON_GetArraySize(arr), i = 0;
    const char **out;
    const cJSON *it;

    *n = 0;
    if (!cJSON_IsArray(arr))
        return NULL;
    out = arena_alloc(&c->arena, (size_t)(count > 0 ? count : 1) * sizeof(*out));
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it))
            return NULL;
        out[i++] = clean ? text_clean_catalogue(&c->arena, it->valuestring)
                         : arena_strdup(&c->arena, it->valuestring);
    }
    *n = count;
    return out;
}

static int *int_array(struct catalogue *c, const cJSON *arr, int *n)
{
    int count = cJSON_GetArraySize(arr), i = 0, *out;
    const cJSON *it;

    *n = 0;
    if (!cJSON_IsArray(arr))
        return NULL;
    out = arena_alloc(&c->arena, (size_t)(count > 0 ? count : 1) * sizeof(*out));
    cJSON_ArrayForEach(it, arr)
    {
        if (as_int(it, &out[i++]) < 0)
            return NULL;
    }
    *n = count;
    return out;
}

static int source_cards(struct catalogue *c, const cJSON *root, struct err *e)
{
    const cJSON *it;
    char where[96];
    int i = 0;

    if (!cJSON_IsArray(root))
        return invalid(e, "sks_catalog.json", "not an array");
    cJSON_ArrayForEach(it, root)
    {
        struct cat_card *k = add_card(c);
        const char *q = str_field(it, "question"), *a = str_field(it, "answer");
        snprintf(where, sizeof(where), "sks_catalog.json entry %d", i++);
        k->topic = catalogue_topic_index(str_field(it, "topic"));
        if (k->topic < 0 || int_field(it, "question_number", &k->number) < 0 || k->number < 1 ||
            q == NULL || a == NULL)
            return invalid(e, where, "needs a known topic, a question_number, question, answer");
        k->card_id = arena_sprintf(&c->arena, "%s_%d", catalogue_topics[k->topic].value, k->number);
        k->front_text = text_clean_catalogue(&c->arena, q);
        k->answer_text = text_clean_catalogue(&c->arena, a);
        k->short_answer =
            string_array(c, cJSON_GetObjectItemCaseSensitive(it, "short_answer"), &k->n_short, 1);
        k->sheets = int_array(c, cJSON_GetObjectItemCaseSensitive(it, "exam_sheets"), &k->n_sheets);
        if (k->short_answer == NULL || k->sheets == NULL ||
            source_images(c, cJSON_GetObjectItemCaseSensitive(it, "question_images"), "Frage",
                          k->number, k->topic, &k->front_images, &k->n_front_images) < 0 ||
            source_images(c, cJSON_GetObjectItemCaseSensitive(it, "answer_images"), "Antwort",
                          k->number, k->topic, &k->answer_images, &k->n_answer_images) < 0)
            return invalid(e, where, "short_answer, exam_sheets or images malformed");
    }
    return 0;
}

/* The sheet's "Erlaubte Hilfsmittel:" paragraph (up to "Für die Prüfung"),
 * its line breaks joined, split at commas outside parentheses; and the
 * rule paragraph after it (up to "Hinweise:"). */
static void source_materials(struct catalogue *c, int sheet, const char *intro)
{
    const char *start, *end, *rules, *rules_end;
    struct buf b;
    int depth = 0;

    if (intro == NULL || sheet < 1 || sheet > CATALOGUE_NAV_SHEETS ||
        (start = strstr(intro, "Erlaubte Hilfsmittel:")) == NULL)
        return;
    start += strlen("Erlaubte Hilfsmittel:");
    rules = strstr(start, "Für die Prüfung");
    end = rules != NULL ? rules : start + strlen(start);
    buf_init(&b);
    for (const char *p = start; p < end; p++) {
        if (*p == '\n' || *p == '\r') {
            /* "Begleit-\nheft" is one word; other breaks are spaces */
            if (b.len > 0 && buf_str(&b)[b.len - 1] == '-' && p + 1 < end && p[1] >= 'a' &&
                p[1] <= 'z')
                b.len--;
            else if (b.len > 0 && buf_str(&b)[b.len - 1] != ' ' && buf_str(&b)[b.len - 1] != '\n')
                buf_putc(&b, ' ');
            continue;
        }
        if (*p == '(')
            depth++;
        else if (*p == ')' && depth > 0)
            depth--;
        if (*p == ',' && depth == 0) {
            buf_putc(&b, '\n');
            while (p + 1 < end && p[1] == ' ')
                p++;
            continue;
        }
        if (*p == ' ' && (b.len == 0 || buf_str(&b)[b.len - 1] == '\n'))
            continue;
        buf_putc(&b, *p);
    }
    while (b.len > 0 && (buf_str(&b)[b.len - 1] == ' ' || buf_str(&b)[b.len - 1] == '.' ||
                         buf_str(&b)[b.len - 1] == '\n'))
        b.len--;
    if (b.len > 0)
        c->nav_materials[sheet] = arena_strndup(&c->arena, buf_str(&b), b.len);
    if (rules != NULL) {
        buf_reset(&b);
        rules_end = strstr(rules, "Hinweise:");
        if (rules_end == NULL)
            rules_end = rules + strlen(rules);
        for (const char *p = rules; p < rules_end; p++) {
            if (*p == '\n') {
                if (b.len > 0 && buf_str(&b)[b.len - 1] == '-' && p[1] >= 'a' && p[1] <= 'z')
                    b.len--;
                else
                    buf_putc(&b, ' ');
                continue;
            }
            buf_putc(&b, *p);
        }
        while (b.len > 0 && buf_str(&b)[b.len - 1] == ' ')
            b.len--;
        c->nav_material_rules[sheet] = arena_strndup(&c->arena, buf_str(&b), b.len);
    }
    buf_cleanup(&b);
}

static int source_tasks(struct catalogue *c, const cJSON *root, struct err *e)
{
    const cJSON *sheet, *task;
    char where[96];

    if (!cJSON_IsArray(root))
        return invalid(e, "sks_navigation_catalog.json", "not an array");
    cJSON_ArrayForEach(sheet, root)
    {
        int sheet_number;
        if (int_field(sheet, "sheet_number", &sheet_number) < 0 ||
            !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(sheet, "tasks")))
            return invalid(e, "sks_navigation_catalog.json", "a sheet without number or tasks");
        source_materials(c, sheet_number, str_field(sheet, "intro_text"));
        cJSON_ArrayForEach(task, cJSON_GetObjectItemCaseSensitive(sheet, "tasks"))
        {
            struct cat_task *t = add_task(c);
            const cJSON *sol = cJSON_GetObjectItemCaseSensitive(task, "solution"), *sq;
            const char *ctx = str_field(task, "context");
            const char *md = str_field(sol, "solution_markdown"),
                       *full = str_field(sol, "full_text");
            struct cat_subquestion *subs;
            int nsub, i = 0;

            t->sheet = sheet_number; /* the sheet's number, not the task's copy */
            snprintf(where, sizeof(where), "chart-task sheet %d task %d", sheet_number, c->ntasks);
            if (int_field(task, "task_number", &t->number) < 0 ||
                int_field(task, "points", &t->points) < 0 || t->points < 0 || ctx == NULL ||
                full == NULL)
                return invalid(e, where, "needs task_number, points, context and a solution");
            t->task_id = arena_sprintf(&c->arena, "nav_%d_%d", t->sheet, t->number);
            t->context = arena_strdup(&c->arena, ctx);
            t->solution_text = arena_strdup(&c->arena, md != NULL ? md : full);
            t->key_answers = string_array(c, cJSON_GetObjectItemCaseSensitive(sol, "key_answers"),
                                          &t->n_keys, 0);
            sq = cJSON_GetObjectItemCaseSensitive(task, "sub_questions");
            nsub = cJSON_GetArraySize(sq);
            if (t->key_answers == NULL || !cJSON_IsArray(sq))
                return invalid(e, where, "key_answers or sub_questions malformed");
            subs = arena_alloc(&c->arena, (size_t)(nsub > 0 ? nsub : 1) * sizeof(*subs));
            cJSON_ArrayForEach(sq, cJSON_GetObjectItemCaseSensitive(task, "sub_questions"))
            {
                const char *text = str_field(sq, "text");
                if (text == NULL)
                    return invalid(e, where, "a sub-question without text");
                subs[i].text = arena_strdup(&c->arena, text);
                if (int_field(sq, "points", &subs[i].points) < 0)
                    subs[i].points = 1; /* as the reference reads a missing value */
                i++;
            }
            t->sub_questions = subs;
            t->n_sub = nsub;
        }
    }
    return 0;
}

struct catalogue *catalogue_from_source(const char *dir, struct err *e)
{
    static const char *const files[2] = {"sks_catalog.json", "sks_navigation_catalog.json"};
    struct catalogue *c = catalogue_new();
    char path[4096], *text[2] = {NULL, NULL};
    size_t len[2] = {0, 0};
    cJSON *root[2] = {NULL, NULL};
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char digest[32];
    unsigned dlen = 0;
    int rc = -1;

    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
        abort();
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        if ((text[i] = file_read(path, SOURCE_MAX_BYTES, &len[i], e)) == NULL)
            goto out;
        EVP_DigestUpdate(md, text[i], len[i]);
        if ((root[i] = cJSON_ParseWithLength(text[i], len[i])) == NULL) {
            invalid(e, files[i], "not valid JSON");
            goto out;
        }
    }
    EVP_DigestFinal_ex(md, digest, &dlen);
    for (unsigned i = 0; i < 32; i++)
        snprintf(c->source_sha256 + 2 * i, 3, "%02x", digest[i]);
    if (source_cards(c, root[0], e) < 0 || source_tasks(c, root[1], e) < 0 || finish(c, e) < 0)
        goto out;
    rc = 0;
out:
    EVP_MD_CTX_free(md);
    for (int i = 0; i < 2; i++) {
        cJSON_Delete(root[i]);
        free(text[i]);
    }
    if (rc < 0) {
        catalogue_free(c);
        return NULL;
    }
    return c;
}

/* --- from the database -------------------------------------------------- */

static const struct db_stmt load_version = {
    "catalogue_version",
    "SELECT source_sha256 || ' ' || cards || ' ' || tasks || ' ' || loaded_at::text"
    " FROM catalogue_meta"};

int catalogue_db_version(struct db *db, int timeout_ms, char *out, struct err *e)
{
    PGresult *r = db_query(db, &load_version, 0, NULL, timeout_ms, e);

    if (r == NULL)
        return -1;
    snprintf(out, CATALOGUE_VERSION_MAX, "%s", PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return 0;
}

static const struct db_stmt load_cards = {
    "catalogue_cards",
    "SELECT card_id, topic, question_number, front_text, answer_text, front_images::text,"
    " answer_images::text, short_answer::text, array_to_json(exam_sheets)::text"
    " FROM cards WHERE NOT retired"};

static const struct db_stmt load_tasks = {
    "catalogue_tasks", "SELECT task_id, sheet_number, task_number, points, context,"
                       " sub_questions::text, solution_text, key_answers::text,"
                       " (SELECT source_sha256 FROM catalogue_meta)"
                       " FROM navigation_tasks WHERE NOT retired"};

static const struct db_stmt load_sheets = {"catalogue_sheets",
                                           "SELECT sheet_number, allowed_materials, material_rules"
                                           " FROM navigation_sheets"};

static cJSON *parse_col(const PGresult *r, int row, int col)
{
    const char *v = PQgetvalue(r, row, col);
    return cJSON_ParseWithLength(v, (size_t)PQgetlength(r, row, col));
}

static int db_images(struct catalogue *c, const cJSON *arr, const struct cat_image **out, int *n)
{
    int count = cJSON_GetArraySize(arr), i = 0;
    struct cat_image *im;
    const cJSON *it;

    if (!cJSON_IsArray(arr))
        return -1;
    im = arena_alloc(&c->arena, (size_t)(count > 0 ? count : 1) * sizeof(*im));
    cJSON_ArrayForEach(it, arr)
    {
        const char *id = str_field(it, "image_id"), *key = str_field(it, "storage_key");
        const char *alt = str_field(it, "alt_text");
        if (id == NULL || key == NULL)
            return -1;
        im[i].image_id = arena_strdup(&c->arena, id);
        im[i].storage_key = arena_strdup(&c->arena, key);
        im[i].alt_text = alt != NULL ? arena_strdup(&c->arena, alt) : NULL;
        i++;
    }
    *out = im;
    *n = count;
    return 0;
}

/* The JSON columns of a cards row (5..8); 1 when they all parse. */
static int parse_card_json(struct catalogue *c, struct cat_card *k, const PGresult *r, int row)
{
    cJSON *front = parse_col(r, row, 5), *answer = parse_col(r, row, 6);
    cJSON *shorts = parse_col(r, row, 7), *sheets = parse_col(r, row, 8);
    int ok = k->topic >= 0 && (k->sheets = int_array(c, sheets, &k->n_sheets)) != NULL &&
             (k->short_answer = string_array(c, shorts, &k->n_short, 0)) != NULL &&
             db_images(c, front, &k->front_images, &k->n_front_images) == 0 &&
             db_images(c, answer, &k->answer_images, &k->n_answer_images) == 0;

    cJSON_Delete(front);
    cJSON_Delete(answer);
    cJSON_Delete(shorts);
    cJSON_Delete(sheets);
    return ok;
}

struct catalogue *catalogue_from_db(struct db *db, struct err *e)
{
    struct catalogue *c = catalogue_new();
    PGresult *r = NULL;
    cJSON *j[2] = {NULL, NULL};
    char where[96];

    r = db_query(db, &load_cards, 0, NULL, 0, e);
    if (r == NULL)
        goto fail;
    if (PQntuples(r) == 0) {
        err_set(e, 503, "catalogue_missing", "the question catalogue has not been loaded");
        goto fail;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        struct cat_card *k = add_card(c);
        snprintf(where, sizeof(where), "cards row %s", PQgetvalue(r, i, 0));
        k->card_id = arena_strdup(&c->arena, PQgetvalue(r, i, 0));
        k->topic = catalogue_topic_index(PQgetvalue(r, i, 1));
        k->number = atoi(PQgetvalue(r, i, 2));
        k->front_text = arena_strdup(&c->arena, PQgetvalue(r, i, 3));
        k->answer_text = arena_strdup(&c->arena, PQgetvalue(r, i, 4));
        if (!parse_card_json(c, k, r, i)) {
            invalid(e, where, "does not parse");
            goto fail;
        }
    }
    PQclear(r);
    r = db_query(db, &load_tasks, 0, NULL, 0, e);
    if (r == NULL)
        goto fail;
    for (int i = 0; i < PQntuples(r); i++) {
        struct cat_task *t = add_task(c);
        struct cat_subquestion *subs;
        const cJSON *sq;
        int n = 0;

        snprintf(where, sizeof(where), "navigation_tasks row %s", PQgetvalue(r, i, 0));
        t->task_id = arena_strdup(&c->arena, PQgetvalue(r, i, 0));
        t->sheet = atoi(PQgetvalue(r, i, 1));
        t->number = atoi(PQgetvalue(r, i, 2));
        t->points = atoi(PQgetvalue(r, i, 3));
        t->context = arena_strdup(&c->arena, PQgetvalue(r, i, 4));
        t->solution_text = arena_strdup(&c->arena, PQgetvalue(r, i, 6));
        j[0] = parse_col(r, i, 5);
        j[1] = parse_col(r, i, 7);
        t->key_answers = string_array(c, j[1], &t->n_keys, 0);
        if (!cJSON_IsArray(j[0]) || t->key_answers == NULL) {
            invalid(e, where, "does not parse");
            goto fail;
        }
        subs = arena_alloc(&c->arena, (size_t)(cJSON_GetArraySize(j[0]) + 1) * sizeof(*subs));
        cJSON_ArrayForEach(sq, j[0])
        {
            const char *text = str_field(sq, "text");
            if (text == NULL || int_field(sq, "points", &subs[n].points) < 0) {
                invalid(e, where, "sub_questions do not parse");
                goto fail;
            }
            subs[n++].text = arena_strdup(&c->arena, text);
        }
        t->sub_questions = subs;
        t->n_sub = n;
        for (int k = 0; k < 2; k++) {
            cJSON_Delete(j[k]);
            j[k] = NULL;
        }
        if (!PQgetisnull(r, i, 8))
            snprintf(c->source_sha256, sizeof(c->source_sha256), "%s", PQgetvalue(r, i, 8));
    }
    PQclear(r);
    /* Empty until the seed has run with this version: no materials then. */
    r = db_query(db, &load_sheets, 0, NULL, 0, e);
    if (r == NULL)
        goto fail;
    for (int i = 0; i < PQntuples(r); i++) {
        int n = atoi(PQgetvalue(r, i, 0));
        if (n < 1 || n > CATALOGUE_NAV_SHEETS)
            continue;
        if (!PQgetisnull(r, i, 1))
            c->nav_materials[n] = arena_strdup(&c->arena, PQgetvalue(r, i, 1));
        if (!PQgetisnull(r, i, 2))
            c->nav_material_rules[n] = arena_strdup(&c->arena, PQgetvalue(r, i, 2));
    }
    PQclear(r);
    r = NULL;
    if (finish(c, e) < 0)
        goto fail;
    return c;
fail:
    cJSON_Delete(j[0]);
    cJSON_Delete(j[1]);
    PQclear(r);
    catalogue_free(c);
    return NULL;
}
