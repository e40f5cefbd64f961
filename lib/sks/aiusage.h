/*
 * aiusage.h - per-learner limits on model calls, kept in ai_usage (one row
 * per learner and UTC day): a daily quota (AI_DAILY_QUOTA calls: study
 * checks, transcriptions and exam answers queued for grading alike) and,
 * for the synchronous calls, a rate limit (AI_RATE_PER_MINUTE in a fixed
 * one-minute window). A call is counted before it is made, whatever its
 * outcome: a failed or slow call costs the API too, and counting first is
 * what makes two concurrent requests unable to both pass the last unit of
 * quota (one upsert, the check in its WHERE, under the row lock).
 * Tokens the API reported are added afterwards, for cost accounting.
 */
#ifndef EASYSKS_AIUSAGE_H
#define EASYSKS_AIUSAGE_H

#include "sks/ai.h"
#include "infra/db.h"
#include "core/err.h"

/* Count `n` (>= 1) calls for the learner: refused when today's count would
 * exceed `daily_quota`, or, when `rate_per_minute` > 0, when this minute's
 * would exceed it (with 0 the minute window is neither checked nor
 * counted: exam grading is paced by the job process instead). Runs inside
 * the caller's transaction when one is open. Returns 0 (counted), or -1
 * with e: 429 ai_quota_exceeded, 429 ai_rate_limited, or the database's
 * 503/500. *retry_after_s (may be NULL) gets the seconds until the limit
 * that refused resets (the next UTC day, the next minute), else 0. */
int aiusage_take(struct db *db, const char *user_id, int n, int daily_quota, int rate_per_minute,
                 int *retry_after_s, struct err *e);

/* Add the tokens of one call to today's row (no-op for zero usage).
 * Returns 0, or -1 with e from the database. */
int aiusage_add_tokens(struct db *db, const char *user_id, const struct ai_usage *u, struct err *e);

#endif
