/*
 * privacy.h - everything stored about a learner, as one export document,
 * and the erasure of all of it (DSGVO Art. 15, 17, 20; docs/privacy.md).
 * GET /api/me/export, DELETE /api/me and easysks-admin export/delete call
 * the same functions.
 *
 * Every per-learner table is one line of the table list in privacy.c: the
 * section it becomes in the export, which rows are the learner's, the
 * internal keys left out, and how the erasure removes the rows. A table
 * added to the schema that holds a learner's data gets its line there, and
 * the export, the erasure and their tests cover it.
 *
 * The export streams: rows are read through a server-side cursor,
 * PRIVACY_FETCH_ROWS at a time, inside one read-only REPEATABLE READ
 * transaction (a consistent snapshot), and written out as they arrive, so
 * memory stays bounded whatever the learner's history.
 *
 * Erasure: first every subscription that is not final is cancelled at once
 * through Stripe's API (with no transaction open); a failure there stops
 * everything before a row is touched. Then one transaction records
 * tombstones (SHA-256 of the Cognito subject and the Stripe ids, table
 * erased_ids: a late token, webhook or job cannot bring the learner back),
 * removes every row, strips operators' free-text reasons from the audit
 * rows about the learner, and writes one admin_audit row holding counts
 * only.
 */
#ifndef EASYSKS_PRIVACY_H
#define EASYSKS_PRIVACY_H

#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "infra/db.h"

#define PRIVACY_EXPORT_FORMAT "easysks-export/1"
#define PRIVACY_EXPORTS_PER_HOUR 3 /* per learner, over every worker and host */
#define PRIVACY_FETCH_ROWS "500"   /* rows per FETCH from the export cursor */
#define PRIVACY_FLUSH_BYTES (64 * 1024)
#define PRIVACY_MAX_SUBSCRIPTIONS 16 /* cancelled per erasure, at most */
/* What the learner must send to erase their account. */
#define PRIVACY_CONFIRM_WORD "L\xc3\x96SCHEN" /* "LÖSCHEN", UTF-8 */

/* Where the export goes: 0, or -1 when the reader is gone (the export
 * stops and the transaction is rolled back). */
typedef int (*privacy_write_fn)(void *ctx, const char *data, size_t len);

/* Count one export against the learner's limit (PRIVACY_EXPORTS_PER_HOUR
 * in a fixed one-hour window, table data_exports). 0 when allowed; -1 with
 * e = 429 export_rate_limited and *retry_after_s = seconds until the window
 * ends, or with the database's error. */
int privacy_export_allow(struct db *db, const char *user_id, int *retry_after_s, struct err *e);

/* Write the learner's document (users.id `user_id`) to `write`, through
 * `b` (scratch, reset here). *started is set to 1 once the first bytes
 * went out: until then a failure can still be answered with an error
 * status. Returns 0; -1 with e when the database failed or the reader went
 * away (e = 499 client_gone). A document that stops early lacks its final
 * "complete": true. Never call with a transaction open. */
int privacy_export(struct db *db, const char *user_id, struct buf *b, privacy_write_fn write,
                   void *ctx, int *started, struct err *e);

/* Has this Cognito subject been erased? 1 yes, 0 no, -1 with e. */
int privacy_sub_erased(struct db *db, const char *sub, struct err *e);

struct stripe_api;

enum privacy_erase_outcome {
    PRIVACY_ERASED,         /* the rows were removed now */
    PRIVACY_ALREADY_ERASED, /* no such user (any more): nothing to do */
};

/* Erase the learner `user_id`. `api` may be NULL (or lack a key) only when
 * the learner has no subscription to cancel; otherwise 503
 * billing_unconfigured. `operator` names who asked ("self" for the learner
 * through the API), `via` the path ("api", "admin"); both go into the audit
 * row, nothing else about the person does. On success *out says what
 * happened and `report` (appended to) holds the JSON object of counts that
 * the audit row holds too: {"via":..,"subscriptions_cancelled":n,
 * "removed":{"<section>":rows,...}}. On -1 nothing was removed: e is
 * Stripe's error (502/504, retryable), 409 subscription_changed (a new
 * subscription appeared meanwhile; retry), or the database's. */
int privacy_erase(struct db *db, const struct stripe_api *api, const char *user_id,
                  const char *operator, const char * via, struct arena *a, struct buf *report,
                  enum privacy_erase_outcome *out, struct err *e);

/* The export's section names, in document order (for tests and docs). */
int privacy_sections(const char *const **names);

#endif
