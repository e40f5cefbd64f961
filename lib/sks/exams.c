#include "sks/exams.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sks/aiusage.h"
#include "sks/chartgrade.h"
#include "core/buf.h"
#include "sks/grade.h"
#include "core/log.h"
#include "infra/pgarr.h"
#include "core/text.h"
#include "core/timefmt.h"

#define STR2(x) #x
#define STR(x) STR2(x)
#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"
#define TS(x) "('epoch'::timestamptz + " x " * interval '1 microsecond')"
#define EXPIRED "s.deadline_at + interval '" STR(EXAM_EXPIRY_S) " seconds' < now()"
#define GRACE "interval '" STR(EXAM_SAVE_GRACE_S) " seconds'"

/* 0 id, 1 sheet, 2 status (expiry applied), 3 limit, 4 started, 5 deadline,
 * 6 submitted, 7 time_over, 8 total, 9 max, 10 passed, 11 outcome, 12 now,
 * 13 idempotency key, 14 grading, 15 grading note, 16 grader */
#define SESSION_COLS                                                                               \
    "s.id::text, s.sheet_number,"                                                                  \
    " CASE WHEN s.status = 'in_progress' AND " EXPIRED " THEN 'expired' ELSE s.status END,"        \
    " s.time_limit_minutes, " US("s.started_at") ", " US(                                          \
        "s.deadline_at") ","                                                                       \
                         " " US("s.submitted_at") ", s.time_over, s.total_score, s.max_score, "    \
                                                  "s.passed, s.outcome,"                           \
                                                  " " US("now()") ", s.idempotency_key,"           \
                                                                  " s.grading, s.grading_note,"    \
                                                                  " s.grader"
#define NSESSION_COLS 17

static const char *const kind_names[] = {"sheet", "chart"};

int exam_sheets(int kind)
{
    return kind == EXAM_SHEET ? CATALOGUE_EXAM_SHEETS : CATALOGUE_NAV_SHEETS;
}

const char *exam_outcome(int kind, double total, int time_over, int *passed)
{
    double pass = kind == EXAM_SHEET ? 39 : 20, oral = kind == EXAM_SHEET ? 33 : 17;

    *passed = !time_over && total >= pass;
    if (*passed)
        return "passed";
    return !time_over && total >= oral ? "oral_exam" : "failed";
}

/* The sheet's items in official order, nothing answered yet. */
static int sheet_items(const struct catalogue *cat, struct exam_session *s, struct arena *a)
{
    int n = s->kind == EXAM_SHEET ? cat->sheet_count[s->sheet] : cat->nav_count[s->sheet];

    s->items = arena_alloc(a, (size_t)(n > 0 ? n : 1) * sizeof(*s->items));
    s->nitems = n;
    for (int i = 0; i < n; i++) {
        struct exam_item *it = &s->items[i];
        memset(it, 0, sizeof(*it));
        if (s->kind == EXAM_SHEET) {
            it->card = &cat->cards[cat->sheet_cards[s->sheet][i]];
            it->item_id = it->card->card_id;
            it->number = i + 1;
        } else {
            it->task = &cat->tasks[cat->nav_first[s->sheet] + i];
            it->item_id = it->task->task_id;
            it->number = it->task->number;
            it->max_score = it->task->points;
        }
        if (s->kind == EXAM_SHEET)
            it->max_score = 2;
        it->answer = "";
        it->errors_json = "[]";
        it->self_points = -1;
    }
    return n;
}

static struct exam_item *find_item(struct exam_session *s, const char *item_id)
{
    for (int i = 0; i < s->nitems; i++)
        if (strcmp(s->items[i].item_id, item_id) == 0)
            return &s->items[i];
    return NULL;
}

static long long col_us(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* Session columns c..c+13 of `row` into *s (items untouched). */
static void read_session_at(const PGresult *r, int row, int c, int kind, struct arena *a,
                            struct exam_session *s)
{
    snprintf(s->id, sizeof(s->id), "%s", PQgetvalue(r, row, c));
    s->kind = kind;
    s->sheet = atoi(PQgetvalue(r, row, c + 1));
    s->status = arena_strdup(a, PQgetvalue(r, row, c + 2));
    s->time_limit_minutes = atoi(PQgetvalue(r, row, c + 3));
    s->started_us = col_us(r, row, c + 4);
    s->deadline_us = col_us(r, row, c + 5);
    s->submitted_us = col_us(r, row, c + 6);
    s->time_over = strcmp(PQgetvalue(r, row, c + 7), "t") == 0;
    s->evaluated = strcmp(s->status, "evaluated") == 0;
    s->total_score = PQgetisnull(r, row, c + 8) ? 0 : strtod(PQgetvalue(r, row, c + 8), NULL);
    s->max_score = PQgetisnull(r, row, c + 9) ? 0 : strtod(PQgetvalue(r, row, c + 9), NULL);
    s->passed = strcmp(PQgetvalue(r, row, c + 10), "t") == 0;
    s->outcome = PQgetisnull(r, row, c + 11) ? NULL : arena_strdup(a, PQgetvalue(r, row, c + 11));
    s->now_us = col_us(r, row, c + 12);
    s->idempotency_key =
        PQgetisnull(r, row, c + 13) ? NULL : arena_strdup(a, PQgetvalue(r, row, c + 13));
    s->grading = arena_strdup(a, PQgetvalue(r, row, c + 14));
    s->grading_note =
        PQgetisnull(r, row, c + 15) ? NULL : arena_strdup(a, PQgetvalue(r, row, c + 15));
    s->grader = PQgetisnull(r, row, c + 16) ? NULL : arena_strdup(a, PQgetvalue(r, row, c + 16));
}

static void read_session(const PGresult *r, int row, int kind, struct arena *a,
                         struct exam_session *s)
{
    read_session_at(r, row, 0, kind, a, s);
}

/* --- start -------------------------------------------------------------- */

/* $1 user, $2 kind, $3 sheet, $4 minutes, $5 key or NULL, $6 new id. An
 * in-progress session past its expiry is closed first, so the partial
 * unique index lets the new one in. */
static const struct db_stmt start_sql = {
    "exam_start",
    "WITH expire AS (UPDATE exam_sessions s SET status = 'expired'"
    "  WHERE s.user_id = $1::bigint AND s.kind = $2::text AND s.status = 'in_progress'"
    "  AND " EXPIRED " RETURNING 1),"
    " existing AS (SELECT " SESSION_COLS " FROM exam_sessions s"
    "  WHERE s.user_id = $1::bigint AND s.kind = $2::text"
    "  AND (($5::text IS NOT NULL AND s.idempotency_key = $5::text)"
    "   OR (s.sheet_number = $3::int AND s.status = 'in_progress' AND NOT " EXPIRED "))"
    "  ORDER BY s.idempotency_key IS NOT DISTINCT FROM $5::text DESC LIMIT 1),"
    " ins AS (INSERT INTO exam_sessions AS s (id, user_id, kind, sheet_number, idempotency_key,"
    "  time_limit_minutes, deadline_at)"
    "  SELECT $6::uuid, $1::bigint, $2::text, $3::int, $5::text, $4::int,"
    "   now() + make_interval(mins => $4::int)"
    "  WHERE NOT EXISTS (SELECT 1 FROM existing) ON CONFLICT DO NOTHING"
    "  RETURNING " SESSION_COLS ")"
    " SELECT true, * FROM ins UNION ALL SELECT false, * FROM existing"};

int exam_start(struct db *db, const struct catalogue *cat, const char *user_id, int kind, int sheet,
               int time_limit_minutes, const char *idempotency_key, struct arena *a,
               struct exam_session *out, int *created, struct err *e)
{
    char id[37], sheet_s[16], mins[16];
    const char *params[6] = {user_id, kind_names[kind], sheet_s, mins, idempotency_key, id};
    PGresult *r = NULL;

    if (sheet < 1 || sheet > exam_sheets(kind))
        return err_set(e, 422, "invalid_sheet", "sheet_number must be 1..%d", exam_sheets(kind));
    snprintf(sheet_s, sizeof(sheet_s), "%d", sheet);
    snprintf(mins, sizeof(mins), "%d", time_limit_minutes);
    /* The statement can return no row twice over: when an expired session
     * still holds the sheet's in-progress slot (the expiry and the insert run
     * on one snapshot, so the insert conflicts; the next try finds the slot
     * free), and when a concurrent start of the same sheet wins the insert
     * (its session, committed after our snapshot, is the existing one on the
     * next try). Both at once take three tries. */
    for (int attempt = 0; attempt < 3; attempt++) {
        timefmt_uuid_v4(id);
        PQclear(r);
        r = db_query(db, &start_sql, 6, params, 0, e);
        if (r == NULL)
            return -1;
        if (PQntuples(r) == 1)
            break;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        return err_set(e, 409, "start_conflict",
                       "the session was being started concurrently; retry");
    }
    memset(out, 0, sizeof(*out));
    *created = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    read_session_at(r, 0, 1, kind, a, out);
    PQclear(r);
    if (idempotency_key != NULL && out->idempotency_key != NULL &&
        strcmp(out->idempotency_key, idempotency_key) == 0 && out->sheet != sheet)
        return err_set(e, 409, "idempotency_key_reused", "this Idempotency-Key started sheet %d",
                       out->sheet);
    if (!*created) {
        /* Resuming: the learner's answers so far come with it. */
        char session_id[37];
        snprintf(session_id, sizeof(session_id), "%s", out->id);
        return exam_load(db, cat, user_id, kind, session_id, a, out, e);
    }
    sheet_items(cat, out, a);
    return 0;
}

/* --- load --------------------------------------------------------------- */

/* The sub-question arrays as JSON, the learner's points and when (answer
 * columns 12..17). */
#define SUB_COLS(t)                                                                                \
    "array_to_json(" t ".sub_answers)::text, array_to_json(" t ".sub_scores)::text,"               \
    " array_to_json(" t ".sub_needs_self)::text, array_to_json(" t ".sub_self_points)::text, " t   \
    ".self_points, " US(t ".self_assessed_at")

/* The session and its saved answers (one row per answer, or one row with
 * NULL answer columns when none). */
static const struct db_stmt load_sql = {
    "exam_load",
    "SELECT " SESSION_COLS ", a.item_id, a.answer, " US(
        "a.answered_at") ","
                         " a.score, a.is_correct, a.feedback, a.errors::text, "
                         "a.needs_self_assessment, a.grader, a.grader_model, a.ai_error, j.state,"
                         " " SUB_COLS(
                             "a") " FROM exam_sessions s LEFT JOIN exam_answers a ON a.session_id "
                                  "= s.id"
                                  " LEFT JOIN grading_jobs j ON j.session_id = a.session_id"
                                  "  AND j.item_id = a.item_id"
                                  " WHERE s.id = $1::uuid AND s.user_id = $2::bigint AND s.kind = "
                                  "$3::text"};

/* A job's state as the API shows it. */
static const char *ai_status(const char *job_state)
{
    if (strcmp(job_state, "done") == 0)
        return "graded";
    if (strcmp(job_state, "failed") == 0)
        return "failed";
    return "pending";
}

/* A JSON array (array_to_json) of n_subs numbers, booleans or strings into
 * the item; NULL elements become -1, 0 or NULL. */
static int json_array(const PGresult *r, int row, int col, cJSON **out)
{
    *out = NULL;
    if (PQgetisnull(r, row, col))
        return 0;
    *out = cJSON_Parse(PQgetvalue(r, row, col));
    if (*out == NULL || !cJSON_IsArray(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return 0;
    }
    return cJSON_GetArraySize(*out);
}

static void read_subs(const PGresult *r, int row, int c, struct exam_item *it, struct arena *a)
{
    cJSON *arr[4];
    int n[4], count = 0;

    for (int k = 0; k < 4; k++) {
        n[k] = json_array(r, row, c + k, &arr[k]);
        if (n[k] > count)
            count = n[k];
    }
    if (count > 0 && count <= 16) {
        it->n_subs = count;
        it->sub_scores = arena_alloc(a, (size_t)count * sizeof(double));
        it->sub_self = arena_alloc(a, (size_t)count * sizeof(double));
        it->sub_needs = arena_alloc(a, (size_t)count * sizeof(int));
        it->sub_answers = arr[0] != NULL ? arena_alloc(a, (size_t)count * sizeof(char *)) : NULL;
        for (int k = 0; k < count; k++) {
            const cJSON *x;
            if (it->sub_answers != NULL) {
                x = cJSON_GetArrayItem(arr[0], k);
                it->sub_answers[k] = cJSON_IsString(x) ? arena_strdup(a, x->valuestring) : "";
            }
            x = cJSON_GetArrayItem(arr[1], k);
            it->sub_scores[k] = cJSON_IsNumber(x) ? x->valuedouble : 0;
            x = cJSON_GetArrayItem(arr[2], k);
            it->sub_needs[k] = cJSON_IsTrue(x);
            x = cJSON_GetArrayItem(arr[3], k);
            it->sub_self[k] = cJSON_IsNumber(x) ? x->valuedouble : -1;
        }
    }
    for (int k = 0; k < 4; k++)
        cJSON_Delete(arr[k]);
    it->self_points = PQgetisnull(r, row, c + 4) ? -1 : strtod(PQgetvalue(r, row, c + 4), NULL);
    it->self_assessed_us = col_us(r, row, c + 5);
}

static void read_answers(const PGresult *r, int first_col, struct exam_session *s, struct arena *a)
{
    for (int row = 0; row < PQntuples(r); row++) {
        struct exam_item *it;
        if (PQgetisnull(r, row, first_col) ||
            (it = find_item(s, PQgetvalue(r, row, first_col))) == NULL)
            continue; /* no answers yet, or an item no longer on the sheet */
        it->answer = arena_strdup(a, PQgetvalue(r, row, first_col + 1));
        it->answered_us = col_us(r, row, first_col + 2);
        if (!PQgetisnull(r, row, first_col + 3)) {
            it->score = strtod(PQgetvalue(r, row, first_col + 3), NULL);
            it->is_correct = strcmp(PQgetvalue(r, row, first_col + 4), "t") == 0;
            it->feedback = arena_strdup(a, PQgetvalue(r, row, first_col + 5));
            it->errors_json = PQgetisnull(r, row, first_col + 6)
                                  ? "[]"
                                  : arena_strdup(a, PQgetvalue(r, row, first_col + 6));
            it->needs_self_assessment = strcmp(PQgetvalue(r, row, first_col + 7), "t") == 0;
        }
        if (PQnfields(r) > first_col + 11) {
            it->grader = PQgetisnull(r, row, first_col + 8)
                             ? NULL
                             : arena_strdup(a, PQgetvalue(r, row, first_col + 8));
            it->grader_model = PQgetisnull(r, row, first_col + 9)
                                   ? NULL
                                   : arena_strdup(a, PQgetvalue(r, row, first_col + 9));
            it->ai_error = PQgetisnull(r, row, first_col + 10)
                               ? NULL
                               : arena_strdup(a, PQgetvalue(r, row, first_col + 10));
            it->ai_status = PQgetisnull(r, row, first_col + 11)
                                ? NULL
                                : ai_status(PQgetvalue(r, row, first_col + 11));
        }
        if (PQnfields(r) > first_col + 17)
            read_subs(r, row, first_col + 12, it, a);
    }
}

/* provisional and self_assessed from the items. */
static void assessment_state(struct exam_session *s)
{
    s->provisional = s->self_assessed = 0;
    for (int i = 0; i < s->nitems; i++) {
        const struct exam_item *it = &s->items[i];
        int open = 0;
        if (it->self_points >= 0)
            s->self_assessed = 1;
        if (!it->needs_self_assessment)
            continue;
        if (it->n_subs == 0)
            open = it->self_points < 0;
        for (int k = 0; k < it->n_subs; k++)
            open |= it->sub_needs[k] && it->sub_self[k] < 0;
        if (open && s->evaluated)
            s->provisional = 1;
    }
}

int exam_load(struct db *db, const struct catalogue *cat, const char *user_id, int kind,
              const char *session_id, struct arena *a, struct exam_session *out, struct err *e)
{
    char id[37];
    const char *params[3] = {id, user_id, kind_names[kind]};
    PGresult *r;

    memset(out, 0, sizeof(*out));
    if (!timefmt_uuid(session_id, id))
        return err_set(e, 404, "session_not_found", "no such session");
    r = db_query(db, &load_sql, 3, params, 0, e);
    if (r == NULL)
        return -1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return err_set(e, 404, "session_not_found", "no such session");
    }
    read_session(r, 0, kind, a, out);
    sheet_items(cat, out, a);
    read_answers(r, NSESSION_COLS, out, a);
    PQclear(r);
    assessment_state(out);
    return 0;
}

double exam_item_points(const struct exam_item *it)
{
    return it->self_points >= 0 ? it->self_points : it->score;
}

/* --- save --------------------------------------------------------------- */

/* $4 item, $5/$6 the sheets the item is on and its position there, $7 the
 * answer, $8 the sub-question answers or NULL. The share lock orders a save against a submit, which
 * locks the row for update: whichever comes second sees the other's effect. */
static const struct db_stmt save_sql = {
    "exam_save",
    "WITH s AS (SELECT s.id, s.sheet_number,"
    "  CASE WHEN s.status = 'in_progress' AND " EXPIRED " THEN 'expired' ELSE s.status END AS st,"
    "  now() <= s.deadline_at + " GRACE " AS in_time FROM exam_sessions s"
    "  WHERE s.id = $1::uuid AND s.user_id = $2::bigint AND s.kind = $3::text FOR SHARE),"
    " p AS (SELECT u.pos FROM s, unnest($5::int[], $6::int[]) AS u(sheet, pos)"
    "  WHERE u.sheet = s.sheet_number),"
    " up AS (INSERT INTO exam_answers AS x (session_id, item_id, position, answer, answered_at,"
    "   sub_answers)"
    "  SELECT s.id, $4::text, p.pos, $7::text, now(), $8::text[] FROM s, p"
    "  WHERE s.st = 'in_progress' AND s.in_time"
    "  ON CONFLICT (session_id, item_id) DO UPDATE"
    "  SET answer = EXCLUDED.answer, answered_at = EXCLUDED.answered_at,"
    "   sub_answers = EXCLUDED.sub_answers"
    "  RETURNING " US(
        "answered_at") ")"
                       " SELECT s.st, (SELECT pos FROM p), (SELECT * FROM up) FROM s"};

/* The sub-question answers checked and joined into the task's answer
 * ("a) …\nb) …"); *arr is their array literal. 0, or -1 with e (422). */
static int join_sub_answers(const struct cat_task *task, const char *const *sub, int n,
                            struct arena *a, const char **joined, const char **arr, struct err *e)
{
    int want = task->n_sub > 0 ? task->n_sub : 1;
    struct pgarr x;
    struct buf b;

    if (n != want || n > 8)
        return err_set(e, 422, "invalid_sub_answers",
                       "sub_answers must hold %d answers, one per sub-question", want);
    for (int k = 0; k < n; k++) {
        if (!text_utf8_valid(sub[k]))
            return err_set(e, 422, "invalid_text", "sub_answers[%d] is not valid UTF-8", k);
        if (text_utf8_length(sub[k]) > EXAM_ANSWER_MAX_CHARS)
            return err_set(e, 422, "answer_too_long",
                           "sub_answers[%d] is longer than %d characters", k,
                           EXAM_ANSWER_MAX_CHARS);
    }
    buf_init(&b);
    pgarr_begin(&x);
    for (int k = 0; k < n; k++) {
        if (k > 0)
            buf_putc(&b, '\n');
        buf_printf(&b, "%c) %s", 'a' + k, sub[k]);
        pgarr_text(&x, sub[k]);
    }
    *joined = arena_strndup(a, buf_str(&b), b.len);
    *arr = pgarr_end(&x, a);
    buf_cleanup(&b);
    if (text_utf8_length(*joined) > EXAM_ANSWER_MAX_CHARS)
        return err_set(e, 422, "answer_too_long",
                       "the sub-question answers together are longer than %d characters",
                       EXAM_ANSWER_MAX_CHARS);
    return 0;
}

int exam_save(struct db *db, const struct catalogue *cat, const char *user_id, int kind,
              const char *session_id, const char *item_id, const char *answer,
              const char *const *sub_answers, int n_sub, struct arena *a, struct exam_item *item,
              struct err *e)
{
    char id[37];
    const char *params[8] = {id, user_id, kind_names[kind], item_id, NULL, NULL, answer, NULL};
    const struct cat_card *card = NULL;
    const struct cat_task *task = NULL;
    struct pgarr sheets, positions;
    PGresult *r;

    memset(item, 0, sizeof(*item));
    if (!timefmt_uuid(session_id, id))
        return err_set(e, 404, "session_not_found", "no such session");
    if (sub_answers != NULL) {
        /* Per sub-question: a chart task of the catalogue (one that is not
         * part of the session is refused below). */
        if (kind != EXAM_CHART)
            return err_set(e, 422, "invalid_sub_answers", "only chart tasks have sub-questions");
        if ((task = catalogue_task(cat, item_id)) != NULL &&
            join_sub_answers(task, sub_answers, n_sub, a, &answer, &params[7], e) < 0)
            return -1;
        params[6] = answer;
    }
    if (!text_utf8_valid(answer))
        return err_set(e, 422, "invalid_text", "student_answer is not valid UTF-8");
    if (text_utf8_length(answer) > EXAM_ANSWER_MAX_CHARS)
        return err_set(e, 422, "answer_too_long", "student_answer is longer than %d characters",
                       EXAM_ANSWER_MAX_CHARS);
    /* Where the item sits on each sheet it belongs to; the statement picks
     * the session's sheet. */
    pgarr_begin(&sheets);
    pgarr_begin(&positions);
    if (kind == EXAM_SHEET && (card = catalogue_card(cat, item_id)) != NULL) {
        for (int k = 0; k < card->n_sheets; k++) {
            int n = card->sheets[k];
            for (int i = 0; i < cat->sheet_count[n]; i++)
                if (cat->sheet_cards[n][i] == card->position) {
                    pgarr_int(&sheets, n);
                    pgarr_int(&positions, i + 1);
                }
        }
    } else if (kind == EXAM_CHART && (task = catalogue_task(cat, item_id)) != NULL) {
        pgarr_int(&sheets, task->sheet);
        pgarr_int(&positions, task->number);
    }
    params[4] = pgarr_end(&sheets, a);
    params[5] = pgarr_end(&positions, a);
    r = db_query(db, &save_sql, 8, params, 0, e);
    if (r == NULL)
        return -1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return err_set(e, 404, "session_not_found", "no such session");
    }
    if (PQgetisnull(r, 0, 1)) {
        PQclear(r);
        return err_set(e, 404, "item_not_in_session", "%s is not part of this session", item_id);
    }
    if (strcmp(PQgetvalue(r, 0, 0), "in_progress") != 0) {
        err_set(e, 409, "session_not_editable", "the session is %s", PQgetvalue(r, 0, 0));
        PQclear(r);
        return -1;
    }
    if (PQgetisnull(r, 0, 2)) {
        PQclear(r);
        return err_set(e, 409, "deadline_passed", "the time for this session is up");
    }
    item->card = card;
    item->task = task;
    item->item_id = card != NULL ? card->card_id : task->task_id;
    item->number = atoi(PQgetvalue(r, 0, 1));
    item->answer = answer;
    item->answered_us = col_us(r, 0, 2);
    if (sub_answers != NULL && task != NULL) {
        item->sub_answers = (const char **)sub_answers;
        item->n_subs = n_sub;
    }
    PQclear(r);
    return 0;
}

/* --- submit ------------------------------------------------------------- */

static const struct db_stmt lock_sql = {
    "exam_lock", "SELECT " SESSION_COLS " FROM exam_sessions s"
                 " WHERE s.id = $1::uuid AND s.user_id = $2::bigint AND s.kind = $3::text"
                 " FOR UPDATE"};

static const struct db_stmt answers_sql = {
    "exam_answers", "SELECT a.item_id, a.answer, " US(
                        "a.answered_at") ", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
                                         " " SUB_COLS("a") " FROM exam_answers a"
                                                           " WHERE a.session_id = $1::uuid"};

/* $1 session; items: $2 id, $3 position, $4 score, $5 correct, $6 feedback,
 * $7 errors (JSON text), $8 self-assessment; $9 submitted, $10 time_over,
 * $11 total, $12 max, $13 passed, $14 outcome, $15 grader, $16 grading,
 * $17 grading note; $18/$19 per item the sub-question points and whether
 * each needs self-assessment, as array literals (NULL for sheets). The
 * heuristic score is kept apart too: the model's may replace it later. */
static const struct db_stmt grade_sql = {
    "exam_grade",
    "WITH a AS (INSERT INTO exam_answers AS x (session_id, item_id, position, score, is_correct,"
    "  feedback, errors, needs_self_assessment, grader, heuristic_score, graded_at,"
    "  sub_scores, sub_needs_self, sub_self_points)"
    "  SELECT $1::uuid, u.id, u.pos, u.score, u.ok, u.feedback, u.errors::jsonb, u.self,"
    "   'heuristic', u.score, now(), u.subs::float8[], u.needs::boolean[],"
    "   CASE WHEN u.subs IS NOT NULL"
    "    THEN array_fill(NULL::float8, ARRAY[cardinality(u.subs::float8[])]) END"
    "  FROM unnest($2::text[], $3::int[], $4::float8[], $5::boolean[], $6::text[], $7::text[],"
    "   $8::boolean[], $18::text[], $19::text[])"
    "   AS u(id, pos, score, ok, feedback, errors, self, subs, needs)"
    "  ON CONFLICT (session_id, item_id) DO UPDATE SET score = EXCLUDED.score,"
    "   is_correct = EXCLUDED.is_correct, feedback = EXCLUDED.feedback,"
    "   errors = EXCLUDED.errors, needs_self_assessment = EXCLUDED.needs_self_assessment,"
    "   grader = EXCLUDED.grader, heuristic_score = EXCLUDED.heuristic_score,"
    "   graded_at = EXCLUDED.graded_at, sub_scores = EXCLUDED.sub_scores,"
    "   sub_needs_self = EXCLUDED.sub_needs_self, sub_self_points = EXCLUDED.sub_self_points"
    "  RETURNING 1)"
    " UPDATE exam_sessions SET status = 'evaluated', submitted_at = " TS(
        "$9::bigint") ","
                      "  time_over = $10::boolean, total_score = $11::float8, max_score = "
                      "$12::float8,"
                      "  passed = $13::boolean, outcome = $14::text, grader = $15::text,"
                      "  grading = $16::text, grading_note = $17::text"
                      " WHERE id = $1::uuid"};

static const struct db_stmt ai_enabled_sql = {
    "exam_ai_enabled",
    "SELECT coalesce((SELECT ai_enabled FROM user_settings WHERE user_id = $1::bigint), false)"};

/* Inside the submit's transaction: should the model grade, and what? Fills
 * *items and *n with the answers to queue (after counting them against the
 * quota) or sets *note. 0, or -1 with e (a database failure). */
static int plan_ai(struct db *db, const char *user_id, const struct exam_ai *ai,
                   const struct exam_session *s, struct arena *a, const char ***items, int *n,
                   const char **note, struct err *e)
{
    const char *params[1] = {user_id};
    struct err qe = {0};
    PGresult *r;
    int on;

    *items = NULL;
    *n = 0;
    *note = NULL;
    if (ai == NULL)
        return 0;
    if ((r = db_query(db, &ai_enabled_sql, 1, params, 0, e)) == NULL)
        return -1;
    on = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!on)
        return 0;
    if (!ai->configured) {
        *note = "ai_unavailable";
        return 0;
    }
    /* Blank answers get the heuristic's 0 without a call (as the reference). */
    *items = arena_alloc(a, (size_t)(s->nitems > 0 ? s->nitems : 1) * sizeof(**items));
    for (int i = 0; i < s->nitems; i++)
        if (!text_is_blank(s->items[i].answer))
            (*items)[(*n)++] = s->items[i].item_id;
    if (*n == 0)
        return 0;
    if (aiusage_take(db, user_id, *n, ai->daily_quota, 0, NULL, &qe) < 0) {
        *n = 0;
        if (qe.status != 429) {
            *e = qe;
            return -1;
        }
        *note = qe.code; /* ai_quota_exceeded */
    }
    return 0;
}

/* A question the grader can judge: it has a short answer or reference text
 * (three answers of the catalogue are only a figure). */
static int has_key_points(const struct cat_card *c)
{
    for (int k = 0; k < c->n_short; k++)
        if (!text_is_blank(c->short_answer[k]))
            return 1;
    return !text_is_blank(c->answer_text);
}

/* A chart task by sub-question (sks/chartgrade) into the item. */
static void grade_chart_item(struct exam_item *it, struct arena *a)
{
    struct chartgrade_result g;

    chartgrade_task(a, it->task, it->sub_answers, it->sub_answers != NULL ? it->n_subs : 0,
                    it->answer, &g);
    it->score = g.score;
    it->is_correct = g.is_correct;
    it->needs_self_assessment = g.needs_self_assessment;
    it->feedback = g.feedback;
    it->errors_json = "[]";
    it->n_subs = g.n_subs;
    it->sub_scores = arena_alloc(a, (size_t)g.n_subs * sizeof(double));
    it->sub_self = arena_alloc(a, (size_t)g.n_subs * sizeof(double));
    it->sub_needs = arena_alloc(a, (size_t)g.n_subs * sizeof(int));
    for (int k = 0; k < g.n_subs; k++) {
        it->sub_scores[k] = g.subs[k].score;
        it->sub_self[k] = -1;
        it->sub_needs[k] = g.subs[k].needs_self_assessment;
    }
}

/* Grade every item of an in-progress session in C (heuristic graders). */
static void grade_items(struct exam_session *s, struct arena *a)
{
    double total = 0, max = 0;
    struct buf b;

    buf_init(&b);
    for (int i = 0; i < s->nitems; i++) {
        struct exam_item *it = &s->items[i];
        struct err e = {0};
        if (s->kind == EXAM_SHEET) {
            struct grade_exam_result g;
            const struct cat_card *c = it->card;
            if (grade_exam_answer(a, c->short_answer, c->n_short, c->answer_text, it->answer, 2.0,
                                  &g, &e) < 0)
                memset(&g, 0, sizeof(g));
            it->score = g.score;
            it->is_correct = g.is_correct;
            it->feedback = g.feedback != NULL ? g.feedback : "";
            buf_reset(&b);
            buf_putc(&b, '[');
            for (int k = 0; k < g.nerrors; k++) {
                if (k > 0)
                    buf_putc(&b, ',');
                buf_json_string(&b, g.errors[k]);
            }
            buf_putc(&b, ']');
            it->errors_json = arena_strndup(a, buf_str(&b), b.len);
            if (!has_key_points(c)) {
                /* Nothing to compare with: the grader would give full marks. */
                it->score = 0;
                it->is_correct = 0;
                it->needs_self_assessment = 1;
                it->feedback = "Automatische Bewertung nicht möglich – bitte mit der "
                               "Musterlösung vergleichen.";
            }
        } else {
            grade_chart_item(it, a);
        }
        total += it->score;
        max += it->max_score;
    }
    buf_cleanup(&b);
    s->total_score = s->kind == EXAM_CHART ? grade_round1(total) : total;
    s->max_score = max;
}

int exam_submit(struct db *db, const struct catalogue *cat, const char *user_id, int kind,
                const char *session_id, const struct exam_ai *ai, struct arena *a,
                struct exam_session *out, struct err *e)
{
    char id[37], sub[24], total[40], max[40];
    const char *params[19], **ai_items, *note;
    struct pgarr arr[9];
    PGresult *r = NULL;
    int n_ai, queued;

    memset(out, 0, sizeof(*out));
    if (!timefmt_uuid(session_id, id))
        return err_set(e, 404, "session_not_found", "no such session");
    params[0] = id;
    params[1] = user_id;
    params[2] = kind_names[kind];
    if (db_begin(db, e) < 0)
        return -1;
    /* Waits for saves in flight and for a concurrent submit. */
    if ((r = db_query(db, &lock_sql, 3, params, 0, e)) == NULL)
        goto fail;
    if (PQntuples(r) == 0) {
        err_set(e, 404, "session_not_found", "no such session");
        goto fail;
    }
    read_session(r, 0, kind, a, out);
    PQclear(r);
    r = NULL;
    if (out->evaluated) {
        /* Graded by a submit before this one: answer the same result. */
        db_rollback(db);
        return exam_load(db, cat, user_id, kind, session_id, a, out, e);
    }
    if (strcmp(out->status, "in_progress") != 0) {
        err_set(e, 409, "session_not_submittable", "the session is %s", out->status);
        goto fail;
    }
    sheet_items(cat, out, a);
    if ((r = db_query(db, &answers_sql, 1, params, 0, e)) == NULL)
        goto fail;
    read_answers(r, 0, out, a);
    PQclear(r);
    r = NULL;

    grade_items(out, a);
    out->submitted_us = out->now_us;
    out->time_over = out->now_us > out->deadline_us + EXAM_SAVE_GRACE_S * 1000000LL;
    out->outcome = exam_outcome(kind, out->total_score, out->time_over, &out->passed);
    out->status = "evaluated";
    out->evaluated = 1;
    assessment_state(out);

    for (int i = 0; i < 9; i++)
        pgarr_begin(&arr[i]);
    for (int i = 0; i < out->nitems; i++) {
        const struct exam_item *it = &out->items[i];
        pgarr_text(&arr[0], it->item_id);
        pgarr_int(&arr[1], it->number);
        pgarr_double(&arr[2], it->score);
        pgarr_bool(&arr[3], it->is_correct);
        pgarr_text(&arr[4], it->feedback);
        pgarr_text(&arr[5], it->errors_json);
        pgarr_bool(&arr[6], it->needs_self_assessment);
        if (it->n_subs > 0) {
            struct pgarr sc, nd;
            pgarr_begin(&sc);
            pgarr_begin(&nd);
            for (int k = 0; k < it->n_subs; k++) {
                pgarr_double(&sc, it->sub_scores[k]);
                pgarr_bool(&nd, it->sub_needs[k]);
            }
            pgarr_text(&arr[7], pgarr_end(&sc, a));
            pgarr_text(&arr[8], pgarr_end(&nd, a));
        } else {
            pgarr_null(&arr[7]);
            pgarr_null(&arr[8]);
        }
    }
    for (int i = 0; i < 7; i++)
        params[1 + i] = pgarr_end(&arr[i], a);
    params[17] = pgarr_end(&arr[7], a);
    params[18] = pgarr_end(&arr[8], a);
    snprintf(sub, sizeof(sub), "%lld", out->submitted_us);
    snprintf(total, sizeof(total), "%.17g", out->total_score);
    snprintf(max, sizeof(max), "%.17g", out->max_score);
    params[8] = sub;
    params[9] = out->time_over ? "t" : "f";
    params[10] = total;
    params[11] = max;
    params[12] = out->passed ? "t" : "f";
    params[13] = out->outcome;
    params[14] = "heuristic";
    if (plan_ai(db, user_id, ai, out, a, &ai_items, &n_ai, &note, e) < 0)
        goto fail;
    out->grading = n_ai > 0 ? "pending" : "complete";
    out->grading_note = note;
    out->grader = "heuristic";
    params[15] = out->grading;
    params[16] = note;
    if ((r = db_query(db, &grade_sql, 19, params, 0, e)) == NULL)
        goto fail;
    PQclear(r);
    r = NULL;
    if (n_ai > 0 && ai->enqueue(db, id, user_id, ai_items, n_ai, a, &queued, e) < 0)
        goto fail;
    if (db_commit(db, e) < 0)
        return -1;
    for (int i = 0; i < out->nitems; i++) {
        struct exam_item *it = &out->items[i];
        it->grader = "heuristic";
        for (int k = 0; k < n_ai; k++)
            if (ai_items[k] == it->item_id)
                it->ai_status = "pending";
    }
    return 0;
fail:
    PQclear(r);
    db_rollback(db);
    return -1;
}

/* --- self-assessment ------------------------------------------------------ */

/* $1 session, $2 item, $3 points or NULL. */
static const struct db_stmt self_sheet_sql = {
    "exam_self_sheet", "UPDATE exam_answers SET self_points = $3::float8,"
                       " self_assessed_at = CASE WHEN $3::float8 IS NULL THEN NULL ELSE now() END"
                       " WHERE session_id = $1::uuid AND item_id = $2::text RETURNING 1"};

/* $1 session, $2 item, $3 sub-question (1-based), $4 points or NULL. */
static const struct db_stmt self_sub_sql = {
    "exam_self_sub",
    "UPDATE exam_answers SET sub_self_points[$3::int] = $4::float8"
    " WHERE session_id = $1::uuid AND item_id = $2::text AND sub_scores IS NOT NULL"
    " AND $3::int <= cardinality(sub_scores) RETURNING 1"};

/* The task's learner points: the sum over its sub-questions of the
 * learner's points where given and the grader's elsewhere, or NULL when the
 * learner has assessed none. */
static const struct db_stmt self_sum_sql = {
    "exam_self_sum",
    "UPDATE exam_answers x SET self_points = t.sum,"
    " self_assessed_at = CASE WHEN t.sum IS NULL THEN NULL ELSE now() END"
    " FROM (SELECT CASE WHEN count(u.p) > 0 THEN sum(coalesce(u.p, u.s)) END AS sum"
    "  FROM exam_answers y, unnest(y.sub_self_points, y.sub_scores) AS u(p, s)"
    "  WHERE y.session_id = $1::uuid AND y.item_id = $2::text) t"
    " WHERE x.session_id = $1::uuid AND x.item_id = $2::text"};

static const struct db_stmt self_total_sql = {
    "exam_self_total", "SELECT coalesce(sum(coalesce(self_points, score)), 0) FROM exam_answers"
                       " WHERE session_id = $1::uuid"};

static const struct db_stmt self_session_sql = {
    "exam_self_session", "UPDATE exam_sessions SET total_score = $2::float8, passed = $3::boolean,"
                         " outcome = $4::text WHERE id = $1::uuid"};

int exam_self_assess(struct db *db, const struct catalogue *cat, const char *user_id, int kind,
                     const char *session_id, const char *item_id, int sub, double points,
                     struct arena *a, struct exam_session *out, struct err *e)
{
    char id[37], pts[40], sub_s[16], total_s[40];
    const char *params[4], *outcome;
    const struct exam_item *it;
    PGresult *r = NULL;
    double max, total;
    int passed;

    memset(out, 0, sizeof(*out));
    if (!timefmt_uuid(session_id, id))
        return err_set(e, 404, "session_not_found", "no such session");
    if (db_begin(db, e) < 0)
        return -1;
    params[0] = id;
    params[1] = user_id;
    params[2] = kind_names[kind];
    /* The session's row lock orders this against a model's verdict landing
     * (lib/sks/aiqueue) and another self-assessment: each recomputes the
     * total from every answer after its own write. */
    if ((r = db_query(db, &lock_sql, 3, params, 0, e)) == NULL)
        goto fail;
    if (PQntuples(r) == 0) {
        err_set(e, 404, "session_not_found", "no such session");
        goto fail;
    }
    read_session(r, 0, kind, a, out);
    PQclear(r);
    r = NULL;
    if (!out->evaluated) {
        err_set(e, 409, "session_not_evaluated", "the session is %s; assess after submitting",
                out->status);
        goto fail;
    }
    sheet_items(cat, out, a);
    if ((it = find_item(out, item_id)) == NULL) {
        err_set(e, 404, "item_not_in_session", "%s is not part of this session", item_id);
        goto fail;
    }
    if (kind == EXAM_SHEET) {
        max = it->max_score;
        if (points >= 0 && (points > max || points != floor(points))) {
            err_set(e, 422, "invalid_points", "self_points must be a whole number from 0 to %g",
                    max);
            goto fail;
        }
    } else {
        int n_sub = it->task->n_sub > 0 ? it->task->n_sub : 1;
        if (sub < 1 || sub > n_sub) {
            err_set(e, 404, "sub_question_not_found", "task %s has sub-questions 1..%d", item_id,
                    n_sub);
            goto fail;
        }
        max = it->task->n_sub > 0 ? it->task->sub_questions[sub - 1].points : it->task->points;
        if (points >= 0 && (points > max || points * 2 != floor(points * 2))) {
            err_set(e, 422, "invalid_points", "self_points must be a multiple of 0.5 from 0 to %g",
                    max);
            goto fail;
        }
    }
    snprintf(pts, sizeof(pts), "%.17g", points);
    snprintf(sub_s, sizeof(sub_s), "%d", sub);
    params[1] = it->item_id;
    if (kind == EXAM_SHEET) {
        params[2] = points >= 0 ? pts : NULL;
        r = db_query(db, &self_sheet_sql, 3, params, 0, e);
    } else {
        params[2] = sub_s;
        params[3] = points >= 0 ? pts : NULL;
        r = db_query(db, &self_sub_sql, 4, params, 0, e);
    }
    if (r == NULL)
        goto fail;
    if (PQntuples(r) == 0) {
        err_set(e, 409, "sub_results_unavailable",
                "this result was graded before chart tasks were graded by sub-question");
        goto fail;
    }
    PQclear(r);
    if (kind == EXAM_CHART) {
        if ((r = db_query(db, &self_sum_sql, 2, params, 0, e)) == NULL)
            goto fail;
        PQclear(r);
    }
    if ((r = db_query(db, &self_total_sql, 1, params, 0, e)) == NULL)
        goto fail;
    total = strtod(PQgetvalue(r, 0, 0), NULL);
    PQclear(r);
    r = NULL;
    if (kind == EXAM_CHART)
        total = grade_round1(total);
    outcome = exam_outcome(kind, total, out->time_over, &passed);
    snprintf(total_s, sizeof(total_s), "%.17g", total);
    params[1] = total_s;
    params[2] = passed ? "t" : "f";
    params[3] = outcome;
    if ((r = db_query(db, &self_session_sql, 4, params, 0, e)) == NULL)
        goto fail;
    PQclear(r);
    if (db_commit(db, e) < 0)
        return -1;
    return exam_load(db, cat, user_id, kind, session_id, a, out, e);
fail:
    PQclear(r);
    db_rollback(db);
    return -1;
}

/* --- abandon, history ----------------------------------------------------- */

/* The conditions are on the row being updated, so they are checked again
 * on the newest version when the update waited for a submit's row lock (a
 * value computed in a CTE would be the snapshot's, from before the submit,
 * and the graded session would be abandoned). The status reported is the
 * snapshot's, for the 404/409 decision when nothing was updated. */
static const struct db_stmt abandon_sql = {
    "exam_abandon",
    "WITH u AS (UPDATE exam_sessions s SET status = 'abandoned'"
    "  WHERE s.id = $1::uuid AND s.user_id = $2::bigint AND s.kind = $3::text"
    "  AND s.status = 'in_progress' AND NOT " EXPIRED " RETURNING 1)"
    " SELECT (SELECT CASE WHEN s.status = 'in_progress' AND " EXPIRED " THEN 'expired'"
    "  ELSE s.status END FROM exam_sessions s"
    "  WHERE s.id = $1::uuid AND s.user_id = $2::bigint AND s.kind = $3::text),"
    " (SELECT count(*) FROM u)"};

int exam_abandon(struct db *db, const char *user_id, int kind, const char *session_id,
                 struct err *e)
{
    char id[37];
    const char *params[3] = {id, user_id, kind_names[kind]};
    PGresult *r;
    int rc = 0;

    if (!timefmt_uuid(session_id, id))
        return err_set(e, 404, "session_not_found", "no such session");
    if ((r = db_query(db, &abandon_sql, 3, params, 0, e)) == NULL)
        return -1;
    if (PQgetisnull(r, 0, 0))
        rc = err_set(e, 404, "session_not_found", "no such session");
    else if (atoi(PQgetvalue(r, 0, 1)) != 1 && strcmp(PQgetvalue(r, 0, 0), "in_progress") == 0)
        rc = err_set(e, 409, "session_not_in_progress", "the session was submitted meanwhile");
    else if (atoi(PQgetvalue(r, 0, 1)) != 1)
        rc = err_set(e, 409, "session_not_in_progress", "the session is %s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

/* After the session: whether some answer still needs the learner's
 * assessment, and whether the learner's points count anywhere. */
static const struct db_stmt history_sql = {
    "exam_history",
    "SELECT " SESSION_COLS ","
    " EXISTS (SELECT 1 FROM exam_answers a WHERE a.session_id = s.id AND a.needs_self_assessment"
    "  AND CASE WHEN a.sub_needs_self IS NULL THEN a.self_points IS NULL"
    "  ELSE EXISTS (SELECT 1 FROM unnest(a.sub_needs_self, a.sub_self_points) AS u(n, p)"
    "   WHERE u.n AND u.p IS NULL) END),"
    " EXISTS (SELECT 1 FROM exam_answers a WHERE a.session_id = s.id"
    "  AND a.self_points IS NOT NULL)"
    " FROM exam_sessions s"
    " WHERE s.user_id = $1::bigint AND s.kind = $2::text"
    " AND s.started_at < coalesce(" TS(
        "$3::bigint") ", 'infinity')"
                      " AND ($4::text IS NULL OR (CASE WHEN s.status = 'in_progress' AND " EXPIRED
                      ""
                      "  THEN 'expired' ELSE s.status END) = $4::text)"
                      " ORDER BY s.started_at DESC LIMIT $5::int"};

int exam_history(struct db *db, const char *user_id, int kind, const char *status,
                 long long before_us, int limit, struct arena *a, struct exam_session **out, int *n,
                 struct err *e)
{
    char before[24], lim[16];
    const char *params[5] = {user_id, kind_names[kind], before_us > 0 ? before : NULL, status, lim};
    PGresult *r;

    snprintf(before, sizeof(before), "%lld", before_us);
    snprintf(lim, sizeof(lim), "%d", limit);
    if ((r = db_query(db, &history_sql, 5, params, 0, e)) == NULL)
        return -1;
    *n = PQntuples(r);
    *out = arena_alloc(a, (size_t)(*n > 0 ? *n : 1) * sizeof(**out));
    for (int i = 0; i < *n; i++) {
        memset(&(*out)[i], 0, sizeof((*out)[i]));
        read_session(r, i, kind, a, &(*out)[i]);
        (*out)[i].provisional = (*out)[i].evaluated && PQgetvalue(r, i, NSESSION_COLS)[0] == 't';
        (*out)[i].self_assessed = PQgetvalue(r, i, NSESSION_COLS + 1)[0] == 't';
    }
    PQclear(r);
    return 0;
}
