#include "infra/config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/stripe.h"

#define SECRET_FILE_MAX 65536
#define CONFIG_FILE_MAX (1024 * 1024)

static const char *const env_names[] = {"dev", "staging", "prod"};

const char *config_env_name(enum config_env env)
{
    return env_names[env];
}

__attribute__((format(printf, 3, 4))) static int fail(char *errbuf, size_t errlen, const char *fmt,
                                                      ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL)
        abort();
    return p;
}

static int read_secret_file(const char *name, const char *path, char **out, char *errbuf,
                            size_t errlen)
{
    FILE *f = fopen(path, "re");
    char *buf;
    size_t n;
    int read_error;

    if (f == NULL)
        return fail(errbuf, errlen, "%s_FILE: cannot open %s: %s", name, path, strerror(errno));
    buf = malloc(SECRET_FILE_MAX + 1);
    if (buf == NULL)
        abort();
    n = fread(buf, 1, SECRET_FILE_MAX + 1, f);
    read_error = ferror(f);
    fclose(f);
    if (read_error) {
        free(buf);
        return fail(errbuf, errlen, "%s_FILE: cannot read %s", name, path);
    }
    if (n > SECRET_FILE_MAX) {
        free(buf);
        return fail(errbuf, errlen, "%s_FILE: %s is larger than %d bytes", name, path,
                    SECRET_FILE_MAX);
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    /* As a C string the value would end at the NUL: a file of NUL bytes
     * (preallocated, truncate -s) would be an empty secret, "abc\0def" "abc". */
    if (memchr(buf, '\0', n) != NULL) {
        explicit_bzero(buf, n);
        free(buf);
        return fail(errbuf, errlen, "%s_FILE: %s holds a NUL byte", name, path);
    }
    if (strspn(buf, " \t\r\n") == n) {
        config_free_secret(buf);
        return fail(errbuf, errlen, "%s_FILE: %s is empty", name, path);
    }
    *out = buf;
    return 0;
}

void config_free_secret(char *secret)
{
    if (secret == NULL)
        return;
    explicit_bzero(secret, strlen(secret));
    free(secret);
}

int config_get_secret(const char *name, char **out, char *errbuf, size_t errlen)
{
    char fname[128];
    const char *v = getenv(name), *fpath;

    snprintf(fname, sizeof(fname), "%s_FILE", name);
    fpath = getenv(fname);
    *out = NULL;
    if (v != NULL && *v != '\0' && fpath != NULL && *fpath != '\0')
        return fail(errbuf, errlen, "%s: set either %s or %s_FILE, not both", name, name, name);
    if (fpath != NULL && *fpath != '\0')
        return read_secret_file(name, fpath, out, errbuf, errlen);
    if (v != NULL && *v != '\0')
        *out = xstrdup(v);
    return 0;
}

static int get_int(const char *name, int def, int min, int max, int *out, char *errbuf,
                   size_t errlen)
{
    const char *v = getenv(name);
    char *end;
    long n;

    if (v == NULL || *v == '\0') {
        *out = def;
        return 0;
    }
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < min || n > max)
        return fail(errbuf, errlen, "%s: must be an integer from %d to %d (got \"%.40s\")", name,
                    min, max, v);
    *out = (int)n;
    return 0;
}

static int get_choice(const char *name, const char *def, const char *const *choices, size_t n,
                      int *out, char *errbuf, size_t errlen)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        v = def;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v, choices[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    return fail(errbuf, errlen, "%s: must be one of %s%s%s%s%s (got \"%.40s\")", name, choices[0],
                n > 1 ? ", " : "", n > 1 ? choices[1] : "", n > 2 ? ", " : "",
                n > 2 ? choices[2] : "", v);
}

static int is_http_url(const char *s, int allow_plain_http)
{
    if (strncmp(s, "https://", 8) == 0)
        return s[8] != '\0';
    return allow_plain_http && strncmp(s, "http://", 7) == 0 && s[7] != '\0';
}

/* Names the config file has set, with the value each had before (NULL when
 * unset), so that a line removed from the file stops applying on reload. */
struct file_var {
    char *name;
    char *original;
};
static struct file_var *file_vars;
static size_t nfile_vars;

static void restore_file_vars(void)
{
    for (size_t i = 0; i < nfile_vars; i++) {
        if (file_vars[i].original != NULL)
            setenv(file_vars[i].name, file_vars[i].original, 1);
        else
            unsetenv(file_vars[i].name);
    }
}

static void remember_file_var(const char *name)
{
    const char *cur;

    for (size_t i = 0; i < nfile_vars; i++)
        if (strcmp(file_vars[i].name, name) == 0)
            return;
    file_vars = realloc(file_vars, (nfile_vars + 1) * sizeof(*file_vars));
    if (file_vars == NULL)
        abort();
    cur = getenv(name);
    file_vars[nfile_vars].name = xstrdup(name);
    file_vars[nfile_vars].original = cur != NULL ? xstrdup(cur) : NULL;
    nfile_vars++;
}

int config_parse_env(const char *text, size_t len,
                     void (*fn)(const char *name, const char *value, void *ctx), void *ctx,
                     char *errbuf, size_t errlen)
{
    const char *end = text + len;
    char line[8192];
    int lineno = 0;

    for (const char *p = text; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl != NULL ? nl : end) - p);
        char *k, *eq, *v, *vend;

        lineno++;
        if (n >= sizeof(line) || memchr(p, '\0', n) != NULL)
            return fail(errbuf, errlen, "%d: line too long or not text", lineno);
        memcpy(line, p, n);
        line[n] = '\0';
        p += n + (nl != NULL);
        if (n > 0 && line[n - 1] == '\r')
            line[--n] = '\0';
        k = line + strspn(line, " \t");
        if (*k == '\0' || *k == '#')
            continue;
        if (strncmp(k, "export ", 7) == 0)
            k += 7 + strspn(k + 7, " \t");
        eq = strchr(k, '=');
        if (eq == NULL || eq == k ||
            strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != (size_t)(eq - k))
            return fail(errbuf, errlen, "%d: expected NAME=value", lineno);
        *eq = '\0';
        v = eq + 1;
        vend = v + strlen(v);
        if (vend - v >= 2 && (*v == '"' || *v == '\'') && vend[-1] == *v) {
            v++;
            vend[-1] = '\0';
        }
        fn(k, v, ctx);
    }
    return 0;
}

static void export_file_var(const char *name, const char *value, void *ctx)
{
    (void)ctx;
    if (strcmp(name, "EASYSKS_CONFIG_FILE") == 0)
        return;
    remember_file_var(name);
    setenv(name, value, 1);
}

/* The config file's KEY=VALUE lines, exported into the process environment. */
static int apply_env_file(const char *path, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "re");
    char *text, msg[256];
    size_t n;
    int rc;

    if (f == NULL)
        return fail(errbuf, errlen, "EASYSKS_CONFIG_FILE: cannot open %s: %s", path,
                    strerror(errno));
    text = malloc(CONFIG_FILE_MAX + 1);
    if (text == NULL)
        abort();
    n = fread(text, 1, CONFIG_FILE_MAX + 1, f);
    fclose(f);
    if (n > CONFIG_FILE_MAX) {
        config_free_secret(text); /* it may hold secrets */
        return fail(errbuf, errlen, "EASYSKS_CONFIG_FILE: %s is larger than %d bytes", path,
                    CONFIG_FILE_MAX);
    }
    text[n] = '\0';
    rc = config_parse_env(text, n, export_file_var, NULL, msg, sizeof(msg));
    explicit_bzero(text, n);
    free(text);
    if (rc < 0)
        return fail(errbuf, errlen, "EASYSKS_CONFIG_FILE: %s:%s", path, msg);
    return 0;
}

/* Integer settings: name, default, range, and where they go. */
static const struct int_setting {
    const char *name;
    int def, min, max;
    size_t offset;
} int_settings[] = {
    {"EASYSKS_WORKERS", 8, 1, CONFIG_MAX_WORKERS, offsetof(struct config, workers)},
    {"EASYSKS_MAX_REQUESTS", 10000, 0, INT_MAX, offsetof(struct config, max_requests)},
    {"EASYSKS_REQUEST_TIMEOUT", 30, 1, 3600, offsetof(struct config, request_timeout_s)},
    {"EASYSKS_GRACEFUL_TIMEOUT", 30, 1, 3600, offsetof(struct config, graceful_timeout_s)},
    {"EASYSKS_START_TIMEOUT", 30, 1, 600, offsetof(struct config, start_timeout_s)},
    {"EASYSKS_DB_STATEMENT_TIMEOUT_MS", 5000, 10, 600000,
     offsetof(struct config, db_statement_timeout_ms)},
    {"EASYSKS_HEALTH_TIMEOUT_MS", 1000, 10, 60000, offsetof(struct config, health_timeout_ms)},
    {"EASYSKS_SLOW_REQUEST_MS", 1000, 0, 3600000, offsetof(struct config, slow_request_ms)},
    {"AUTH_LEEWAY_SECONDS", 5, 0, 120, offsetof(struct config, auth_leeway_s)},
    {"STRIPE_PAST_DUE_GRACE_HOURS", 72, 0, 2160, offsetof(struct config, stripe_past_due_grace_h)},
    {"STRIPE_TIMEOUT_MS", 10000, 100, 60000, offsetof(struct config, stripe_timeout_ms)},
    {"AI_DAILY_QUOTA", 200, 0, 1000000, offsetof(struct config, ai_daily_quota)},
    {"AI_RATE_PER_MINUTE", 10, 1, 10000, offsetof(struct config, ai_rate_per_minute)},
    {"AI_SYNC_TIMEOUT_MS", 8000, 100, 60000, offsetof(struct config, ai_sync_timeout_ms)},
    {"AI_TRANSCRIBE_TIMEOUT_MS", 20000, 100, 120000,
     offsetof(struct config, ai_transcribe_timeout_ms)},
    {"AI_SYNC_SLOTS", 2, 1, CONFIG_MAX_WORKERS, offsetof(struct config, ai_sync_slots)},
    {"AI_JOB_TIMEOUT_MS", 30000, 100, 300000, offsetof(struct config, ai_job_timeout_ms)},
    {"AI_JOBS_PARALLEL", 4, 1, 64, offsetof(struct config, ai_jobs_parallel)},
    {"AI_JOB_MAX_ATTEMPTS", 5, 1, 20, offsetof(struct config, ai_job_max_attempts)},
    {"AI_JOB_POLL_SECONDS", 30, 1, 3600, offsetof(struct config, ai_job_poll_s)},
    {"AI_JOB_BACKOFF_SECONDS", 5, 1, 3600, offsetof(struct config, ai_job_backoff_s)},
};

/* An identifier-like setting: printable, no blanks, 1..max bytes. */
static int is_token(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (; *s != '\0'; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return 0;
    return 1;
}

/* Billing settings, after the generic reads. 0, or -1 with the message. */
static int check_stripe(struct config *c, char *errbuf, size_t errlen)
{
    const int dev = c->env == ENV_DEV;
    const char *https = dev ? "an https:// URL (or http:// in dev)" : "an https:// URL";
    char why[160];
    const struct {
        const char *name;
        const char *value;
    } urls[] = {{"STRIPE_SUCCESS_URL", c->stripe_success_url},
                {"STRIPE_CANCEL_URL", c->stripe_cancel_url},
                {"STRIPE_PORTAL_RETURN_URL", c->stripe_portal_return_url}};

    /* The key's value is never repeated in a message. */
    if (c->stripe_api_key != NULL &&
        (!is_token(c->stripe_api_key, STRIPE_SECRET_MAX) ||
         (strncmp(c->stripe_api_key, "sk_", 3) != 0 && strncmp(c->stripe_api_key, "rk_", 3) != 0)))
        return fail(errbuf, errlen,
                    "STRIPE_API_KEY: must be a secret (sk_...) or restricted (rk_...) key without "
                    "blanks");
    if (c->stripe_price_id != NULL && !is_token(c->stripe_price_id, 255))
        return fail(errbuf, errlen, "STRIPE_PRICE_ID: must be a price id without blanks");
    /* Unset is allowed (the feature answers 503 naming it, see
     * config_billing_missing()); set means well-formed. */
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        if (urls[i].value != NULL &&
            (!is_http_url(urls[i].value, dev) || !is_token(urls[i].value, 2048)))
            return fail(errbuf, errlen, "%s: must be %s", urls[i].name, https);
    }
    if (c->stripe_webhook_secrets != NULL &&
        stripe_secrets_check(c->stripe_webhook_secrets, why, sizeof(why)) < 0)
        return fail(errbuf, errlen, "STRIPE_WEBHOOK_SECRETS: %s", why);
    if (c->stripe_timeout_ms >= c->request_timeout_s * 1000) {
        const char *set = getenv("STRIPE_TIMEOUT_MS");
        if (set != NULL && *set != '\0')
            return fail(errbuf, errlen,
                        "STRIPE_TIMEOUT_MS: must be below EASYSKS_REQUEST_TIMEOUT (%d s), or the "
                        "worker is killed before the call gives up",
                        c->request_timeout_s);
        /* Only the default is in the way: a short EASYSKS_REQUEST_TIMEOUT
         * must not become invalid because of a feature nobody configured. */
        c->stripe_timeout_ms = c->request_timeout_s * 1000 / 2;
    }
    return 0;
}

/* AI settings, after the generic reads. 0, or -1 with the message. */
static int check_openai(struct config *c, char *errbuf, size_t errlen)
{
    size_t n;

    /* The key goes into an Authorization header: no blanks, no control
     * characters. Its value is never repeated in a message. */
    if (c->openai_api_key != NULL && !is_token(c->openai_api_key, 1024))
        return fail(errbuf, errlen,
                    "OPENAI_API_KEY: must be 1 to 1024 printable characters without blanks");
    if (!is_token(c->openai_model, 128) || !is_token(c->openai_transcribe_model, 128))
        return fail(errbuf, errlen,
                    "OPENAI_MODEL/OPENAI_TRANSCRIBE_MODEL: 1 to 128 characters without blanks");
    if (!is_http_url(c->openai_api_base, c->env == ENV_DEV) ||
        !is_token(c->openai_api_base, 1024) || strchr(c->openai_api_base, '?') != NULL)
        return fail(errbuf, errlen, "OPENAI_API_BASE: must be an https:// URL%s without a query",
                    c->env == ENV_DEV ? " (or http:// in dev)" : "");
    /* ".../v1/" and ".../v1" name the same base. */
    n = strlen(c->openai_api_base);
    while (n > 8 && c->openai_api_base[n - 1] == '/')
        c->openai_api_base[--n] = '\0';
    return 0;
}

int config_ai_deadline_ms(const struct config *c, int wanted_ms)
{
    int cap = c->request_timeout_s * 1000 - 1000;

    if (wanted_ms > cap)
        wanted_ms = cap;
    return wanted_ms < 100 ? 100 : wanted_ms;
}

const char *config_billing_missing(const struct config *c, int portal)
{
    if (c->stripe_api_key == NULL)
        return "STRIPE_API_KEY";
    if (portal)
        return c->stripe_portal_return_url == NULL ? "STRIPE_PORTAL_RETURN_URL" : NULL;
    if (c->stripe_price_id == NULL)
        return "STRIPE_PRICE_ID";
    if (c->stripe_success_url == NULL)
        return "STRIPE_SUCCESS_URL";
    if (c->stripe_cancel_url == NULL)
        return "STRIPE_CANCEL_URL";
    return NULL;
}

int config_load(struct config *c, char *errbuf, size_t errlen)
{
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    static const char *const uses[] = {"access", "id"};
    char *listen = NULL, *v = NULL;
    int env = 0, level = 0, use = 0, body = 0;

    memset(c, 0, sizeof(*c));
    errbuf[0] = '\0';

    /* The file (re-read on every load, i.e. on SIGHUP) wins over the
     * environment the process was started with. */
    restore_file_vars();
    v = getenv("EASYSKS_CONFIG_FILE");
    if (v != NULL && *v != '\0' && apply_env_file(v, errbuf, errlen) < 0)
        return -1;

    if (get_choice("EASYSKS_ENV", "prod", env_names, 3, &env, errbuf, errlen) < 0 ||
        get_choice("LOG_LEVEL", "info", levels, 4, &level, errbuf, errlen) < 0)
        goto fail;
    c->env = (enum config_env)env;
    c->log_level = (enum log_level)level;

    if (config_get_secret("DATABASE_URL", &c->database_url, errbuf, errlen) < 0)
        goto fail;
    if (c->database_url == NULL) {
        fail(errbuf, errlen, "DATABASE_URL: required (a libpq connection string or URI)");
        goto fail;
    }

    listen = getenv("EASYSKS_LISTEN");
    if (listen == NULL || *listen == '\0')
        listen = "unix:/run/easysks/easysks.sock";
    if (strncmp(listen, "unix:/", 6) != 0 || strlen(listen + 5) >= 108) {
        fail(errbuf, errlen,
             "EASYSKS_LISTEN: must be unix:/absolute/path (max 107 bytes) (got \"%.60s\")", listen);
        goto fail;
    }
    c->listen_path = xstrdup(listen + 5);

    v = getenv("EASYSKS_SOCKET_GROUP");
    c->socket_group = v != NULL && *v != '\0' ? xstrdup(v) : NULL;
    /* A misspelt group is a configuration error (exit 78, no restart loop,
     * caught by --check-config), not a failure at bind time. */
    if (c->socket_group != NULL && getgrnam(c->socket_group) == NULL) {
        fail(errbuf, errlen, "EASYSKS_SOCKET_GROUP: no group named \"%.40s\"", c->socket_group);
        goto fail;
    }
    v = getenv("EASYSKS_SOCKET_MODE");
    c->socket_mode = 0660;
    if (v != NULL && *v != '\0') {
        char *end;
        unsigned long m = strtoul(v, &end, 8);
        if (*end != '\0' || m > 0777 || (m & 0007) != 0) {
            fail(errbuf, errlen,
                 "EASYSKS_SOCKET_MODE: must be octal with no access for others, e.g. 0660 (got "
                 "\"%.20s\")",
                 v);
            goto fail;
        }
        c->socket_mode = (unsigned)m;
    }

    for (size_t i = 0; i < sizeof(int_settings) / sizeof(int_settings[0]); i++) {
        const struct int_setting *is = &int_settings[i];
        if (get_int(is->name, is->def, is->min, is->max, (int *)((char *)c + is->offset), errbuf,
                    errlen) < 0)
            goto fail;
    }
    if (get_int("EASYSKS_MAX_BODY", 1048576, 1024, 64 * 1048576, &body, errbuf, errlen) < 0)
        goto fail;
    c->max_body_bytes = (size_t)body;

    if (config_get_secret("AUTH_ISSUER", &c->auth_issuer, errbuf, errlen) < 0 ||
        config_get_secret("AUTH_JWKS_URL", &c->auth_jwks_url, errbuf, errlen) < 0 ||
        config_get_secret("AUTH_CLIENT_IDS", &c->auth_client_ids, errbuf, errlen) < 0)
        goto fail;
    if (get_choice("AUTH_TOKEN_USE", "access", uses, 2, &use, errbuf, errlen) < 0)
        goto fail;
    c->auth_token_use = xstrdup(uses[use]);
    if (c->auth_issuer != NULL) {
        if (!is_http_url(c->auth_issuer, c->env == ENV_DEV)) {
            fail(errbuf, errlen, "AUTH_ISSUER: must be an https:// URL%s",
                 c->env == ENV_DEV ? " (or http:// in dev)" : "");
            goto fail;
        }
        if (c->auth_jwks_url == NULL) {
            size_t n = strlen(c->auth_issuer) + sizeof("/.well-known/jwks.json");
            c->auth_jwks_url = malloc(n);
            if (c->auth_jwks_url == NULL)
                abort();
            snprintf(c->auth_jwks_url, n, "%s/.well-known/jwks.json", c->auth_issuer);
        }
        if (!is_http_url(c->auth_jwks_url, c->env == ENV_DEV)) {
            fail(errbuf, errlen, "AUTH_JWKS_URL: must be an https:// URL%s",
                 c->env == ENV_DEV ? " (or http:// in dev)" : "");
            goto fail;
        }
        if (c->auth_client_ids == NULL) {
            fail(errbuf, errlen, "AUTH_CLIENT_IDS: required when AUTH_ISSUER is set");
            goto fail;
        }
        if (config_get_secret("AUTH_CLIENT_ENDPOINT", &c->auth_client_endpoint, errbuf, errlen) < 0)
            goto fail;
        if (c->auth_client_endpoint == NULL) {
            /* The Cognito API lives at the issuer's origin:
             * https://cognito-idp.<region>.amazonaws.com/<pool> -> .../ */
            const char *host = strstr(c->auth_issuer, "://") + 3;
            size_t origin = (size_t)(host - c->auth_issuer) + strcspn(host, "/");
            c->auth_client_endpoint = malloc(origin + 2);
            if (c->auth_client_endpoint == NULL)
                abort();
            memcpy(c->auth_client_endpoint, c->auth_issuer, origin);
            memcpy(c->auth_client_endpoint + origin, "/", 2);
        }
    } else if (c->env != ENV_DEV) {
        fail(errbuf, errlen, "AUTH_ISSUER: required outside EASYSKS_ENV=dev");
        goto fail;
    }

    if (config_get_secret("STRIPE_API_KEY", &c->stripe_api_key, errbuf, errlen) < 0 ||
        config_get_secret("STRIPE_API_BASE", &c->stripe_api_base, errbuf, errlen) < 0 ||
        config_get_secret("STRIPE_PRICE_ID", &c->stripe_price_id, errbuf, errlen) < 0 ||
        config_get_secret("STRIPE_WEBHOOK_SECRETS", &c->stripe_webhook_secrets, errbuf, errlen) <
            0 ||
        config_get_secret("STRIPE_SUCCESS_URL", &c->stripe_success_url, errbuf, errlen) < 0 ||
        config_get_secret("STRIPE_CANCEL_URL", &c->stripe_cancel_url, errbuf, errlen) < 0 ||
        config_get_secret("STRIPE_PORTAL_RETURN_URL", &c->stripe_portal_return_url, errbuf,
                          errlen) < 0 ||
        config_get_secret("OPENAI_API_KEY", &c->openai_api_key, errbuf, errlen) < 0 ||
        config_get_secret("OPENAI_API_BASE", &c->openai_api_base, errbuf, errlen) < 0 ||
        config_get_secret("OPENAI_MODEL", &c->openai_model, errbuf, errlen) < 0 ||
        config_get_secret("OPENAI_TRANSCRIBE_MODEL", &c->openai_transcribe_model, errbuf, errlen) <
            0)
        goto fail;
    if (c->openai_model == NULL)
        c->openai_model = xstrdup("gpt-4o-mini");
    if (c->openai_transcribe_model == NULL)
        c->openai_transcribe_model = xstrdup("gpt-4o-mini-transcribe");
    if (c->stripe_api_base == NULL)
        c->stripe_api_base = xstrdup("https://api.stripe.com");
    if (c->openai_api_base == NULL)
        c->openai_api_base = xstrdup("https://api.openai.com/v1");
    if (!is_http_url(c->stripe_api_base, c->env == ENV_DEV)) {
        fail(errbuf, errlen, "STRIPE_API_BASE: must be an https:// URL");
        goto fail;
    }
    if (check_stripe(c, errbuf, errlen) < 0 || check_openai(c, errbuf, errlen) < 0)
        goto fail;
    return 0;

fail:
    config_cleanup(c);
    return -1;
}

void config_cleanup(struct config *c)
{
    char **strs[] = {&c->database_url,
                     &c->listen_path,
                     &c->socket_group,
                     &c->auth_issuer,
                     &c->auth_jwks_url,
                     &c->auth_client_ids,
                     &c->auth_token_use,
                     &c->stripe_api_key,
                     &c->stripe_api_base,
                     &c->stripe_price_id,
                     &c->stripe_webhook_secrets,
                     &c->openai_api_key,
                     &c->openai_api_base,
                     &c->auth_client_endpoint,
                     &c->openai_model,
                     &c->openai_transcribe_model,
                     &c->stripe_success_url,
                     &c->stripe_cancel_url,
                     &c->stripe_portal_return_url};
    /* Not all of these are secret, but wiping the few that are not costs
     * nothing and nobody has to keep a list in sync. */
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        config_free_secret(*strs[i]);
        *strs[i] = NULL;
    }
}
