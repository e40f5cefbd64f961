#include "sks/users.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sks/billing.h"
#include "core/timefmt.h"

#define STRINGIFY(x) #x
#define XSTRINGIFY(x) STRINGIFY(x)
#define TOUCH_SECONDS XSTRINGIFY(USERS_TOUCH_SECONDS)

/* Premium is the operator's manual grant (users.plan and premium_until,
 * set by easysks-admin for support cases; premium_until NULL = no end) or
 * a Stripe subscription that grants it now (lib/sks/billing.h). premium_until
 * is the later end of the two, NULL while a manual grant has no end. */
#define MANUAL_GRANT                                                                               \
    "(users.plan = 'premium' AND (users.premium_until IS NULL OR users.premium_until > now()))"
#define GRANTING_SUBSCRIPTIONS                                                                     \
    "FROM stripe_customers c JOIN stripe_subscriptions s ON s.customer_id = c.customer_id"         \
    " WHERE c.user_id = users.id AND " BILLING_SQL_GRANTS
#define PREMIUM_UNTIL                                                                              \
    "CASE WHEN " MANUAL_GRANT " AND users.premium_until IS NULL THEN NULL"                         \
    " ELSE greatest(users.premium_until, (SELECT max(" BILLING_SQL_GRANT_END                       \
    ") " GRANTING_SUBSCRIPTIONS ")) END"
#define RFC3339 "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'"

#define USER_COLUMNS                                                                               \
    "users.id, " MANUAL_GRANT " OR EXISTS (SELECT 1 " GRANTING_SUBSCRIPTIONS "),"                  \
    " users.username, users.email, to_char((" PREMIUM_UNTIL ") AT TIME ZONE 'UTC', " RFC3339 "),"  \
    " to_char(users.created_at AT TIME ZONE 'UTC', " RFC3339 "),"                                  \
    " to_char(users.last_seen_at AT TIME ZONE 'UTC', " RFC3339 ")"

/* Column 7: whether last_seen_at is due for a touch. */
static const struct db_stmt find_user = {
    "users_find",
    "SELECT " USER_COLUMNS ", users.last_seen_at < now() - make_interval(secs => $2::int)"
    " FROM users WHERE cognito_sub = $1"};

/* DO NOTHING: a concurrent first request may have inserted the row; the
 * caller then reads it. */
static const struct db_stmt insert_user = {
    "users_insert", "INSERT INTO users (cognito_sub, username, email) VALUES ($1, $2, $3)"
                    " ON CONFLICT (cognito_sub) DO NOTHING RETURNING " USER_COLUMNS};

static const struct db_stmt touch_user = {
    "users_touch", "UPDATE users SET last_seen_at = now(),"
                   " username = coalesce($2, username), email = coalesce($3, email)"
                   " WHERE cognito_sub = $1 RETURNING " USER_COLUMNS};

static const char *dup_or_null(struct arena *a, const PGresult *res, int col)
{
    const char *v = db_value(res, 0, col);
    return v != NULL ? arena_strdup(a, v) : NULL;
}

static void fill(struct arena *a, const PGresult *res, struct user *out)
{
    out->id = arena_strdup(a, PQgetvalue(res, 0, 0));
    out->premium = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    out->username = dup_or_null(a, res, 2);
    out->email = dup_or_null(a, res, 3);
    out->premium_until = dup_or_null(a, res, 4);
    out->created_at = arena_strdup(a, PQgetvalue(res, 0, 5));
    out->last_seen_at = arena_strdup(a, PQgetvalue(res, 0, 6));
}

/* Does the token carry a value that differs from the stored one? (A token
 * without the field changes nothing.) */
static int changed(const char *token_value, const char *stored)
{
    return token_value != NULL && (stored == NULL || strcmp(token_value, stored) != 0);
}

int users_authenticate(struct db *db, struct arena *a, const struct auth_identity *id,
                       struct user *out, struct err *e)
{
    const char *username = id->username[0] != '\0' ? id->username : NULL;
    const char *email = id->email[0] != '\0' ? id->email : NULL;
    const char *params[3] = {id->sub, NULL, NULL};
    PGresult *res = NULL;
    int rc = -1;

    for (int attempt = 0; attempt < 2; attempt++) {
        params[1] = TOUCH_SECONDS;
        res = db_query(db, &find_user, 2, params, 0, e);
        if (res == NULL)
            return -1;
        if (PQntuples(res) == 1)
            break;
        PQclear(res);
        /* First sight of this subject. */
        params[1] = username;
        params[2] = email;
        res = db_query(db, &insert_user, 3, params, 0, e);
        if (res == NULL)
            return -1;
        if (PQntuples(res) == 1) {
            fill(a, res, out);
            rc = 0;
            goto out;
        }
        /* Lost the race to a concurrent first request: read its row. */
        PQclear(res);
        res = NULL;
    }
    if (res == NULL || PQntuples(res) != 1) {
        err_set(e, 503, "user_unavailable", "could not load the user, retry");
        goto out;
    }
    fill(a, res, out);
    if (strcmp(PQgetvalue(res, 0, 7), "t") == 0 || changed(username, out->username) ||
        changed(email, out->email)) {
        PQclear(res);
        params[1] = username;
        params[2] = email;
        res = db_query(db, &touch_user, 3, params, 0, e);
        if (res == NULL)
            return -1;
        if (PQntuples(res) == 1)
            fill(a, res, out);
    }
    rc = 0;
out:
    PQclear(res);
    return rc;
}

struct users_cache_entry {
    uint64_t hi, lo;     /* the subject's UUID */
    long long id;        /* 0: empty */
    long long expires_s; /* monotonic seconds */
};

struct users_cache {
    struct users_cache_entry *e;
    unsigned set_mask; /* sets of two adjacent entries */
};

struct users_cache *users_cache_new(int size)
{
    struct users_cache *c;
    unsigned n = 2;

    if (size <= 0)
        return NULL;
    while (n < (unsigned)size)
        n *= 2;
    c = calloc(1, sizeof(*c));
    if (c == NULL || (c->e = calloc(n, sizeof(*c->e))) == NULL)
        abort();
    c->set_mask = n / 2 - 1;
    return c;
}

void users_cache_free(struct users_cache *c)
{
    if (c == NULL)
        return;
    free(c->e);
    free(c);
}

/* The subject's UUID as two 64-bit halves; -1 unless it is the canonical
 * lower-case spelling ("A" and "a" are different subjects to Cognito and
 * to users.cognito_sub). */
static int parse_uuid(const char *s, uint64_t *hi, uint64_t *lo)
{
    char canon[37];
    uint64_t half[2] = {0, 0};
    int digits = 0;

    if (!timefmt_uuid(s, canon) || strcmp(canon, s) != 0)
        return -1;
    for (const char *c = s; *c != '\0'; c++) {
        if (*c == '-')
            continue;
        half[digits / 16] =
            half[digits / 16] << 4 | (uint64_t)(*c <= '9' ? *c - '0' : *c - 'a' + 10);
        digits++;
    }
    *hi = half[0];
    *lo = half[1];
    return 0;
}

static struct users_cache_entry *cache_set(const struct users_cache *c, uint64_t hi, uint64_t lo)
{
    uint64_t h = (hi ^ lo) * 0x9e3779b97f4a7c15u; /* random UUIDs, mixed anyway */
    return &c->e[2 * ((unsigned)(h >> 32) & c->set_mask)];
}

/* The way of `set` that holds this UUID, expired or not; NULL if none. */
static struct users_cache_entry *cache_way(struct users_cache_entry *set, uint64_t hi, uint64_t lo)
{
    for (int w = 0; w < 2; w++)
        if (set[w].id != 0 && set[w].hi == hi && set[w].lo == lo)
            return &set[w];
    return NULL;
}

long long users_cache_get(const struct users_cache *c, const char *sub, long long now_s)
{
    const struct users_cache_entry *hit;
    uint64_t hi, lo;

    if (c == NULL || parse_uuid(sub, &hi, &lo) < 0)
        return 0;
    hit = cache_way(cache_set(c, hi, lo), hi, lo);
    return hit != NULL && hit->expires_s > now_s ? hit->id : 0;
}

void users_cache_put(struct users_cache *c, const char *sub, long long id, long long expires_s)
{
    struct users_cache_entry *set, *victim;
    uint64_t hi, lo;

    if (c == NULL || id <= 0 || parse_uuid(sub, &hi, &lo) < 0)
        return;
    set = cache_set(c, hi, lo);
    if ((victim = cache_way(set, hi, lo)) == NULL)
        victim = set[0].expires_s <= set[1].expires_s ? &set[0] : &set[1];
    *victim = (struct users_cache_entry){hi, lo, id, expires_s};
}

int users_identify(struct db *db, struct users_cache *cache, struct arena *a,
                   const struct auth_identity *id, int need_profile, long long now_s,
                   struct user *out, struct err *e)
{
    long long cached = need_profile ? 0 : users_cache_get(cache, id->sub, now_s);
    char *end;
    long long uid;

    if (cached > 0) {
        memset(out, 0, sizeof(*out));
        out->id = arena_sprintf(a, "%lld", cached);
        return 0;
    }
    if (users_authenticate(db, a, id, out, e) < 0)
        return -1;
    uid = strtoll(out->id, &end, 10);
    if (*end == '\0')
        users_cache_put(cache, id->sub, uid, now_s + USERS_TOUCH_SECONDS);
    return 0;
}
