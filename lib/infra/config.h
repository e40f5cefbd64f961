/*
 * config.h - process configuration, read only from the environment.
 *
 * Every secret-bearing setting NAME may instead be given as NAME_FILE, the
 * path of a file holding the value (trailing newline stripped); setting both
 * is an error. config_load() validates everything and, on failure, writes
 * one line naming the bad setting into the caller's buffer. The same call
 * serves startup and SIGHUP reloads (a failed reload keeps the old config).
 *
 * A process's environment cannot change from outside, so for reloads the
 * optional EASYSKS_CONFIG_FILE (KEY=VALUE lines, as systemd's
 * EnvironmentFile) is read first on every load and its values are exported
 * over the inherited ones. NAME_FILE secrets are re-read on every load too,
 * which is how a rotated secret reaches a running pool.
 */
#ifndef EASYSKS_CONFIG_H
#define EASYSKS_CONFIG_H

#include <stddef.h>

#include "core/log.h"

enum config_env { ENV_DEV = 0, ENV_STAGING, ENV_PROD };

struct config {
    enum config_env env;
    enum log_level log_level;

    char *database_url;          /* DATABASE_URL(_FILE), required */
    char *listen_path;           /* EASYSKS_LISTEN "unix:/path" -> "/path" */
    char *socket_group;          /* EASYSKS_SOCKET_GROUP, NULL = process group */
    unsigned socket_mode;        /* EASYSKS_SOCKET_MODE, octal, default 0660 */
    int workers;                 /* EASYSKS_WORKERS, 1..EASYSKS_MAX_WORKERS */
    int max_requests;            /* EASYSKS_MAX_REQUESTS, recycle budget, 0 = none */
    int request_timeout_s;       /* EASYSKS_REQUEST_TIMEOUT, worker killed past it */
    int graceful_timeout_s;      /* EASYSKS_GRACEFUL_TIMEOUT, stop/reload grace */
    int start_timeout_s;         /* EASYSKS_START_TIMEOUT, a worker not ready by then is killed */
    size_t max_body_bytes;       /* EASYSKS_MAX_BODY */
    int db_statement_timeout_ms; /* EASYSKS_DB_STATEMENT_TIMEOUT_MS */
    int health_timeout_ms;       /* EASYSKS_HEALTH_TIMEOUT_MS */
    int slow_request_ms;         /* EASYSKS_SLOW_REQUEST_MS, 0 = off */

    /* Auth (Cognito); issuer NULL means auth is not configured: every
     * authenticated route then answers 503 auth_unconfigured. */
    char *auth_issuer;
    char *auth_jwks_url;
    char *auth_client_ids;
    char *auth_token_use;
    int auth_leeway_s;
    char *auth_client_endpoint; /* where browsers send Cognito API calls */

    /* Optional integrations; NULL when unset. Billing (docs/billing.md):
     * Checkout needs the key, the price and the success and cancel URLs,
     * the portal the key and its return URL (config_billing_missing());
     * webhooks need the secrets. A feature missing a setting answers 503. */
    char *stripe_api_key;
    char *stripe_api_base;
    char *stripe_price_id;
    char *stripe_webhook_secrets;   /* comma list of whsec_... */
    char *stripe_success_url;       /* STRIPE_SUCCESS_URL */
    char *stripe_cancel_url;        /* STRIPE_CANCEL_URL */
    char *stripe_portal_return_url; /* STRIPE_PORTAL_RETURN_URL */
    int stripe_past_due_grace_h;    /* STRIPE_PAST_DUE_GRACE_HOURS, premium kept while past_due */
    int stripe_timeout_ms;          /* STRIPE_TIMEOUT_MS, one API call */
    /* AI grading and spoken answers (docs/ai.md): off without a key. */
    char *openai_api_key;          /* OPENAI_API_KEY(_FILE); never logged */
    char *openai_api_base;         /* OPENAI_API_BASE, default https://api.openai.com/v1 */
    char *openai_model;            /* OPENAI_MODEL, default gpt-4o-mini */
    char *openai_transcribe_model; /* OPENAI_TRANSCRIBE_MODEL, default gpt-4o-mini-transcribe */
    int ai_daily_quota;            /* AI_DAILY_QUOTA, model calls per learner and UTC day */
    int ai_rate_per_minute;        /* AI_RATE_PER_MINUTE, synchronous calls per learner */
    int ai_sync_timeout_ms;        /* AI_SYNC_TIMEOUT_MS, a study check's model call */
    int ai_transcribe_timeout_ms;  /* AI_TRANSCRIBE_TIMEOUT_MS, one transcription */
    int ai_sync_slots;             /* AI_SYNC_SLOTS, model calls in flight per pool */
    int ai_job_timeout_ms;         /* AI_JOB_TIMEOUT_MS, one call of easysks-jobs */
    int ai_jobs_parallel;          /* AI_JOBS_PARALLEL, easysks-jobs' grading processes */
    int ai_job_max_attempts;       /* AI_JOB_MAX_ATTEMPTS, then the heuristic grade stands */
    int ai_job_poll_s;             /* AI_JOB_POLL_SECONDS, queue check without a NOTIFY */
    int ai_job_backoff_s;          /* AI_JOB_BACKOFF_SECONDS, first retry delay (doubles) */
};

#define CONFIG_MAX_WORKERS 128

/* Fill `c` from the environment. Returns 0, or -1 with a one-line message
 * ("EASYSKS_WORKERS: must be an integer from 1 to 128 (got \"x\")") in errbuf.
 * On failure `c` is left cleaned up. */
int config_load(struct config *c, char *errbuf, size_t errlen);

/* Release the strings (secrets are wiped first); `c` may be zeroed or loaded. */
void config_cleanup(struct config *c);

const char *config_env_name(enum config_env env);

/* The first setting Checkout (portal=0) or the customer portal (portal=1)
 * still lacks, e.g. "STRIPE_SUCCESS_URL"; NULL when it has everything. */
const char *config_billing_missing(const struct config *c, int portal);

/* The deadline of a synchronous model call in a worker: `wanted_ms`
 * capped so that the call ends a second before EASYSKS_REQUEST_TIMEOUT
 * (the worker would be killed) and at least 100 ms. */
int config_ai_deadline_ms(const struct config *c, int wanted_ms);

/* Read one setting given as NAME or NAME_FILE (not both). *out is a
 * malloc()ed copy the caller releases with config_free_secret(), or NULL
 * when neither is set. A NAME_FILE that cannot be read, holds nothing but
 * whitespace or holds a NUL byte is an error, never "set to empty" (an
 * empty database URL would connect with libpq defaults, an empty webhook
 * secret would be an HMAC key).
 * Returns 0, or -1 with a one-line message in errbuf. */
int config_get_secret(const char *name, char **out, char *errbuf, size_t errlen);

/* Overwrite and free a secret (NULL is a no-op). */
void config_free_secret(char *secret);

/* Parse KEY=VALUE lines (systemd EnvironmentFile style: comments, blank
 * lines, "export ", one pair of matching quotes around the value) from
 * `len` bytes of `text`, calling `fn` for each pair. Returns 0, or -1 with
 * "LINE: expected NAME=value" in errbuf for the first bad line (fn has then
 * been called for the lines before it). */
int config_parse_env(const char *text, size_t len,
                     void (*fn)(const char *name, const char *value, void *ctx), void *ctx,
                     char *errbuf, size_t errlen);

#endif
