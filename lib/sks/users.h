/*
 * users.h - learners, keyed by their Cognito subject.
 *
 * A user row is created the first time a verified token for a new subject
 * arrives. Authentication runs on every /api request and every /media
 * auth_request, so it must not write: it reads the row, and writes only for
 * a new subject, changed identity fields, or a last_seen_at older than
 * USERS_TOUCH_SECONDS (then one UPDATE; an INSERT ... ON CONFLICT would
 * lock the row, write WAL and burn an identity value on every call).
 */
#ifndef EASYSKS_USERS_H
#define EASYSKS_USERS_H

#include "core/arena.h"
#include "infra/auth.h"
#include "infra/db.h"
#include "core/err.h"

#define USERS_TOUCH_SECONDS 300

struct user {
    const char *id;            /* users.id as text (the key of every per-user row) */
    int premium;               /* premium plan active now */
    const char *username;      /* NULL when unknown */
    const char *email;         /* NULL when unknown */
    const char *premium_until; /* RFC 3339 UTC, NULL when not set */
    const char *created_at;    /* RFC 3339 UTC */
    const char *last_seen_at;  /* RFC 3339 UTC, touched at most every USERS_TOUCH_SECONDS */
};

/* Load (or create) the user for a verified identity into *out; strings are
 * allocated from `a`. Returns 0, or -1 with e set (503 from the database,
 * 503 user_unavailable when a concurrent first insert could not be read
 * back). */
int users_authenticate(struct db *db, struct arena *a, const struct auth_identity *id,
                       struct user *out, struct err *e);

/*
 * A worker's cache of subject -> user id. The mapping never changes, so most
 * requests (study, dashboard) need no query at all to know whose data they
 * read. An entry lives USERS_TOUCH_SECONDS: when it expires the next request
 * runs users_authenticate(), which also keeps last_seen_at within that
 * interval (so last_seen_at is at most twice that old). Requests that need
 * the profile or the plan (which can change at any moment) always query.
 *
 * nginx spreads a learner's requests over every worker of every host, so
 * each worker sees every active learner: the cache must hold them all, or
 * a miss costs a query on most requests. Cognito subjects are UUIDs, so an
 * entry keeps the UUID's 16 bytes, the id and the expiry (32 bytes; 16384
 * entries are 512 KiB, touched as they fill). A subject that is not a
 * lower-case UUID is never cached (always one query). Two-way set
 * associative: a new entry replaces the way of its set that expires first.
 */
struct users_cache;

/* `size` entries (rounded up to a power of two, at least 2), or NULL for none. */
struct users_cache *users_cache_new(int size);
void users_cache_free(struct users_cache *c); /* NULL is a no-op */

/* The cached user id of `sub`, or 0 when it is not cached or has expired at
 * `now_s`. */
long long users_cache_get(const struct users_cache *c, const char *sub, long long now_s);

/* Remember sub -> id (> 0) until `expires_s`; a sub that is not a UUID is
 * not kept. */
void users_cache_put(struct users_cache *c, const char *sub, long long id, long long expires_s);

/* Identify the caller: from the cache unless `need_profile` (then all of
 * *out is filled, as users_authenticate), else only out->id is set. `now_s`
 * is a monotonic clock in seconds. */
int users_identify(struct db *db, struct users_cache *cache, struct arena *a,
                   const struct auth_identity *id, int need_profile, long long now_s,
                   struct user *out, struct err *e);

#endif
