/*
 * test_config.c - lib/infra/config: defaults, validation messages that name the
 * setting, NAME_FILE secrets (an empty, blank or unreadable file is an
 * error, never an empty value), the reloadable config file and its parser
 * config_parse_env(), integer ranges.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "infra/config.h"
#include "tap.h"

static char dir[] = "/tmp/easysks-config-XXXXXX";

/* Write `len` bytes (NUL bytes allowed) to dir/name; the path goes to `path`. */
static void write_bytes(const char *name, const char *data, size_t len, char *path, size_t plen)
{
    FILE *f;
    snprintf(path, plen, "%s/%s", dir, name);
    f = fopen(path, "w");
    if (f == NULL || fwrite(data, 1, len, f) != len)
        abort();
    fclose(f);
}

static void write_file(const char *name, const char *text, char *path, size_t len)
{
    write_bytes(name, text, strlen(text), path, len);
}

static void reset_env(void)
{
    static const char *const names[] = {
        "EASYSKS_ENV", "DATABASE_URL", "DATABASE_URL_FILE", "EASYSKS_LISTEN", "EASYSKS_WORKERS",
        "EASYSKS_SOCKET_MODE", "EASYSKS_SOCKET_GROUP", "EASYSKS_CONFIG_FILE", "AUTH_ISSUER",
        "AUTH_JWKS_URL", "AUTH_CLIENT_IDS", "AUTH_TOKEN_USE", "LOG_LEVEL", "STRIPE_API_BASE",
        "EASYSKS_MAX_BODY", "EASYSKS_START_TIMEOUT",
        /* billing */
        "STRIPE_API_KEY", "STRIPE_API_KEY_FILE", "STRIPE_PRICE_ID", "STRIPE_WEBHOOK_SECRETS",
        "STRIPE_SUCCESS_URL", "STRIPE_CANCEL_URL", "STRIPE_PORTAL_RETURN_URL",
        "STRIPE_PAST_DUE_GRACE_HOURS", "STRIPE_TIMEOUT_MS", "EASYSKS_REQUEST_TIMEOUT",
        /* AI */
        "OPENAI_API_KEY", "OPENAI_API_KEY_FILE", "OPENAI_API_BASE", "OPENAI_MODEL",
        "OPENAI_TRANSCRIBE_MODEL", "AI_DAILY_QUOTA", "AI_RATE_PER_MINUTE", "AI_SYNC_TIMEOUT_MS",
        "AI_SYNC_SLOTS", "AI_JOBS_PARALLEL"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        unsetenv(names[i]);
    setenv("EASYSKS_ENV", "dev", 1);
    setenv("DATABASE_URL", "postgresql:///easysks", 1);
}

/* Load and expect failure whose message starts with `prefix`. */
static void expect_error(const char *prefix, const char *what)
{
    struct config c;
    char err[512];
    int rc = config_load(&c, err, sizeof(err));
    ok(rc == -1 && strncmp(err, prefix, strlen(prefix)) == 0, "%s -> \"%s\"", what, err);
}

/* ---- NAME_FILE ------------------------------------------------------------ */

/* config_get_secret("TEST_SECRET") with TEST_SECRET_FILE=path must fail with a
 * message that starts with `prefix` and contains `detail`, and leave no value. */
static void expect_secret_error(const char *path, const char *prefix, const char *detail,
                                const char *what)
{
    char err[512] = "", *v = (char *)"untouched";
    int rc;

    setenv("TEST_SECRET_FILE", path, 1);
    rc = config_get_secret("TEST_SECRET", &v, err, sizeof(err));
    ok(rc == -1 && v == NULL && strncmp(err, prefix, strlen(prefix)) == 0 &&
           strstr(err, detail) != NULL,
       "%s -> \"%s\"", what, err);
    if (rc == 0)
        config_free_secret(v);
    unsetenv("TEST_SECRET_FILE");
}

/* The same file as DATABASE_URL_FILE through config_load. */
static void expect_dburl_file_error(const char *path, const char *detail, const char *what)
{
    struct config c;
    char err[512] = "";
    int rc;

    reset_env();
    unsetenv("DATABASE_URL");
    setenv("DATABASE_URL_FILE", path, 1);
    rc = config_load(&c, err, sizeof(err));
    ok(rc == -1 && strncmp(err, "DATABASE_URL_FILE: ", 19) == 0 && strstr(err, detail) != NULL,
       "%s -> \"%s\"", what, err);
    if (rc == 0)
        config_cleanup(&c);
    unsetenv("DATABASE_URL_FILE");
}

static void test_secret_files(void)
{
    char empty[512], blank[512], crlf[512], nul[512], sub[512], err[512], *v = NULL;

    write_file("empty", "", empty, sizeof(empty));
    write_file("blank", "\n  \t\r\n\n", blank, sizeof(blank));
    write_file("crlf", " s3cret \r\n", crlf, sizeof(crlf));
    /* A directory opens but cannot be read (EISDIR). Tests run as root in
     * CI, where chmod 000 would not stop the read; this does. */
    snprintf(sub, sizeof(sub), "%s/subdir", dir);
    if (mkdir(sub, 0700) != 0)
        abort();

    unsetenv("TEST_SECRET");
    expect_secret_error(empty, "TEST_SECRET_FILE: ", "is empty", "empty NAME_FILE is an error");
    expect_secret_error(blank, "TEST_SECRET_FILE: ", "is empty",
                        "NAME_FILE holding only whitespace and newlines is an error");
    expect_secret_error(sub, "TEST_SECRET_FILE: cannot read ", sub,
                        "NAME_FILE that cannot be read is an error");
    expect_secret_error("/nonexistent/secret", "TEST_SECRET_FILE: cannot open ",
                        "/nonexistent/secret", "missing NAME_FILE is an error");
    /* As C strings these would be "" and "abc". */
    write_bytes("nul", "\0\0\0\0\n", 5, nul, sizeof(nul));
    expect_secret_error(nul, "TEST_SECRET_FILE: ", "holds a NUL byte",
                        "NAME_FILE of NUL bytes (truncate -s) is an error");
    write_bytes("nul", "abc\0def\n", 8, nul, sizeof(nul));
    expect_secret_error(nul, "TEST_SECRET_FILE: ", "holds a NUL byte",
                        "NAME_FILE with a NUL inside the value is an error, not truncated");

    setenv("TEST_SECRET_FILE", crlf, 1);
    ok(config_get_secret("TEST_SECRET", &v, err, sizeof(err)) == 0 && v != NULL &&
           strcmp(v, " s3cret ") == 0,
       "NAME_FILE: trailing CR/LF stripped, spaces kept");
    config_free_secret(v);
    setenv("TEST_SECRET", "inline", 1);
    ok(config_get_secret("TEST_SECRET", &v, err, sizeof(err)) == -1 && v == NULL &&
           strncmp(err, "TEST_SECRET: set either", 23) == 0,
       "NAME and NAME_FILE together refused");
    unsetenv("TEST_SECRET_FILE");
    ok(config_get_secret("TEST_SECRET", &v, err, sizeof(err)) == 0 && v != NULL &&
           strcmp(v, "inline") == 0,
       "NAME without NAME_FILE is read from the environment");
    config_free_secret(v);
    setenv("TEST_SECRET", "", 1);
    ok(config_get_secret("TEST_SECRET", &v, err, sizeof(err)) == 0 && v == NULL,
       "empty NAME without NAME_FILE means unset");
    unsetenv("TEST_SECRET");
    config_free_secret(NULL);

    expect_dburl_file_error(empty, "is empty", "empty DATABASE_URL_FILE fails config_load");
    expect_dburl_file_error(blank, "is empty", "blank DATABASE_URL_FILE fails config_load");
    expect_dburl_file_error(sub, "cannot read", "unreadable DATABASE_URL_FILE fails config_load");
    expect_dburl_file_error(nul, "holds a NUL byte", "DATABASE_URL_FILE with a NUL byte fails");

    unlink(empty);
    unlink(blank);
    unlink(crlf);
    unlink(nul);
    rmdir(sub);
}

/* ---- config_parse_env ------------------------------------------------------ */

/* What the parser handed to the callback: "NAME=[value]" joined by '\n'. */
struct seen {
    char text[4096];
    int count;
    size_t last_value_len;
};

static void collect(const char *name, const char *value, void *ctx)
{
    struct seen *s = ctx;
    size_t used = strlen(s->text);

    snprintf(s->text + used, sizeof(s->text) - used, "%s=[%.200s]\n", name, value);
    s->count++;
    s->last_value_len = strlen(value);
}

/* Parse `len` bytes; expect rc, the collected pairs and (on -1) the error. */
static void parse_case(const char *text, size_t len, int want_rc, const char *want_pairs,
                       const char *want_err, const char *what)
{
    struct seen s = {.text = ""};
    char err[256] = "";
    int rc = config_parse_env(text, len, collect, &s, err, sizeof(err));
    int good = rc == want_rc && strcmp(s.text, want_pairs) == 0 &&
               (want_err == NULL || strcmp(err, want_err) == 0);

    ok(good, "%s", what);
    if (!good)
        printf("# rc %d, err \"%s\", pairs:\n# %s\n", rc, err, s.text);
}

static void parse_ok(const char *text, const char *want_pairs, const char *what)
{
    parse_case(text, strlen(text), 0, want_pairs, NULL, what);
}

static void test_parse_env(void)
{
    static char longline[8200];
    struct seen s = {.text = ""};
    char err[256] = "";
    int rc;
    static const char nul[] = "A=1\nB=x\0y\nC=3\n";
    static const char nul_comment[] = "A=1\n# a\0b\nC=3\n";

    parse_ok("", "", "empty text: nothing, no error");
    parse_ok("# comment\n\n   \n\t# indented comment\nA=1\n#B=2\n", "A=[1]\n",
             "comments and blank lines skipped");
    parse_ok("export B=2\nexport   C=3\n  export D=4\n", "B=[2]\nC=[3]\nD=[4]\n",
             "export prefix (with extra blanks, indented)");
    parse_ok("E=\"x y\"\nF='z'\nG=\"\"\nH=''\n", "E=[x y]\nF=[z]\nG=[]\nH=[]\n",
             "one pair of matching quotes removed");
    parse_ok("I=\"open\nJ='mixed\"\nK=a\"b\"\nL=\"\nM=\"a\" b\n",
             "I=[\"open]\nJ=['mixed\"]\nK=[a\"b\"]\nL=[\"]\nM=[\"a\" b]\n",
             "unmatched or inner quotes kept verbatim");
    parse_ok("N=1\r\nO='2'\r\n\r\n# c\r\nexport P=\"3\"\r\n", "N=[1]\nO=[2]\nP=[3]\n",
             "CRLF line ends: CR dropped before quote handling");
    parse_ok("Q=\nR=a=b\nS= spaced \n", "Q=[]\nR=[a=b]\nS=[ spaced ]\n",
             "empty value, '=' inside the value, blanks in the value kept");
    parse_ok("T=1\nU=last", "T=[1]\nU=[last]\n", "last line without newline");
    parse_case("V=1\nW=2\n", 4, 0, "V=[1]\n", NULL, "only `len` bytes are read");

    parse_case("A=1\n\n# c\nnot a setting\nB=2\n", 22, -1, "A=[1]\n", "4: expected NAME=value",
               "bad line reports its number; earlier lines applied, later ones not");
    parse_case("lower=1\n", 8, -1, "", "1: expected NAME=value", "lower-case name refused");
    parse_case("=1\n", 3, -1, "", "1: expected NAME=value", "empty name refused");
    parse_case("A B=1\n", 6, -1, "", "1: expected NAME=value", "blank inside the name refused");
    parse_case("A =1\n", 5, -1, "", "1: expected NAME=value", "blank before '=' refused");
    parse_case("A=1\nexport\n", 11, -1, "A=[1]\n", "2: expected NAME=value", "bare export refused");
    parse_case("A=1\r\nB\r\n", 9, -1, "A=[1]\n", "2: expected NAME=value",
               "line numbers count CRLF lines");

    parse_case(nul, sizeof(nul) - 1, -1, "A=[1]\n", "2: line too long or not text",
               "NUL byte in a value refused with its line number");
    parse_case(nul_comment, sizeof(nul_comment) - 1, -1, "A=[1]\n", "2: line too long or not text",
               "NUL byte even in a comment refused");

    /* The line buffer holds 8191 bytes: that long is fine, one more is not. */
    memset(longline, 'v', sizeof(longline));
    memcpy(longline, "X=", 2);
    longline[8191] = '\n';
    rc = config_parse_env(longline, 8192, collect, &s, err, sizeof(err));
    ok(rc == 0 && s.count == 1 && s.last_value_len == 8189,
       "8191-byte line accepted whole (value %zu bytes)", s.last_value_len);
    memset(&s, 0, sizeof(s));
    longline[8191] = 'v';
    longline[8192] = '\n';
    rc = config_parse_env(longline, 8193, collect, &s, err, sizeof(err));
    ok(rc == -1 && s.count == 0 && strcmp(err, "1: line too long or not text") == 0,
       "8192-byte line refused, not truncated (%s)", err);
    memset(&s, 0, sizeof(s));
    ok(config_parse_env(longline, sizeof(longline), collect, &s, err, sizeof(err)) == -1 &&
           s.count == 0,
       "over-long last line without newline refused");
}

static void test_config_file(void)
{
    struct config c;
    char err[512], path[512];

    reset_env();
    write_file("crlf.env", "# written on Windows\r\nexport EASYSKS_WORKERS=\"5\"\r\n", path,
               sizeof(path));
    setenv("EASYSKS_CONFIG_FILE", path, 1);
    ok(config_load(&c, err, sizeof(err)) == 0 && c.workers == 5,
       "config file with CRLF, export and quotes loads (%s)", err);
    config_cleanup(&c);
    write_file("crlf.env", "EASYSKS_WORKERS=3\n\n# x\nLOG_LEVEL = info\n", path, sizeof(path));
    {
        char want[600];
        snprintf(want, sizeof(want), "EASYSKS_CONFIG_FILE: %s:4: expected NAME=value", path);
        expect_error(want, "config file error names the file and the line");
    }
    write_bytes("crlf.env", "LOG_LEVEL=info\0\n", 16, path, sizeof(path));
    expect_error("EASYSKS_CONFIG_FILE:", "config file with a NUL byte refused");
    unsetenv("EASYSKS_CONFIG_FILE");
    unlink(path);
}

/* ---- integer settings -------------------------------------------------------- */

static void test_start_timeout(void)
{
    struct config c;
    char err[512];

    reset_env();
    ok(config_load(&c, err, sizeof(err)) == 0 && c.start_timeout_s == 30,
       "EASYSKS_START_TIMEOUT defaults to 30 s");
    config_cleanup(&c);
    setenv("EASYSKS_START_TIMEOUT", "1", 1);
    ok(config_load(&c, err, sizeof(err)) == 0 && c.start_timeout_s == 1,
       "EASYSKS_START_TIMEOUT=1 (lower bound)");
    config_cleanup(&c);
    setenv("EASYSKS_START_TIMEOUT", "600", 1);
    ok(config_load(&c, err, sizeof(err)) == 0 && c.start_timeout_s == 600,
       "EASYSKS_START_TIMEOUT=600 (upper bound)");
    config_cleanup(&c);
    setenv("EASYSKS_START_TIMEOUT", "0", 1);
    expect_error("EASYSKS_START_TIMEOUT: must be an integer from 1 to 600", "start timeout 0");
    setenv("EASYSKS_START_TIMEOUT", "601", 1);
    expect_error("EASYSKS_START_TIMEOUT: must be an integer from 1 to 600", "start timeout 601");
    setenv("EASYSKS_START_TIMEOUT", "-5", 1);
    expect_error("EASYSKS_START_TIMEOUT: must be an integer", "negative start timeout");
    setenv("EASYSKS_START_TIMEOUT", "10s", 1);
    expect_error("EASYSKS_START_TIMEOUT: must be an integer", "start timeout with a unit");
    unsetenv("EASYSKS_START_TIMEOUT");
}

/* Billing: optional as a whole; once the key is set, everything Checkout
 * and the portal need; secrets and key checked without being repeated. */
static void test_stripe(void)
{
    struct config c;
    char err[512];

    reset_env();
    ok(config_load(&c, err, sizeof(err)) == 0 && c.stripe_api_key == NULL &&
           c.stripe_webhook_secrets == NULL && c.stripe_past_due_grace_h == 72 &&
           c.stripe_timeout_ms == 10000,
       "no Stripe settings: billing off, defaults for grace (72 h) and timeout (10 s)");
    config_cleanup(&c);

    /* A key without the rest loads: the features lacking a setting answer
     * 503 naming it (a half-configured billing must not stop study). */
    setenv("STRIPE_API_KEY", "sk_test_abc", 1);
    ok(config_load(&c, err, sizeof(err)) == 0 &&
           strcmp(config_billing_missing(&c, 0), "STRIPE_PRICE_ID") == 0 &&
           strcmp(config_billing_missing(&c, 1), "STRIPE_PORTAL_RETURN_URL") == 0,
       "a key alone loads; Checkout lacks the price, the portal its return URL (%s)", err);
    config_cleanup(&c);
    setenv("STRIPE_PRICE_ID", "price_1ABC", 1);
    setenv("STRIPE_SUCCESS_URL", "https://app.example/billing/done?s={CHECKOUT_SESSION_ID}", 1);
    ok(config_load(&c, err, sizeof(err)) == 0 &&
           strcmp(config_billing_missing(&c, 0), "STRIPE_CANCEL_URL") == 0,
       "Checkout still lacks the cancel URL");
    config_cleanup(&c);
    setenv("STRIPE_CANCEL_URL", "https://app.example/billing", 1);
    setenv("STRIPE_PORTAL_RETURN_URL", "https://app.example/", 1);
    ok(config_load(&c, err, sizeof(err)) == 0 && strcmp(c.stripe_price_id, "price_1ABC") == 0 &&
           strcmp(c.stripe_portal_return_url, "https://app.example/") == 0 &&
           config_billing_missing(&c, 0) == NULL && config_billing_missing(&c, 1) == NULL,
       "complete billing settings load (%s)", err);
    config_cleanup(&c);
    unsetenv("STRIPE_API_KEY");
    ok(config_load(&c, err, sizeof(err)) == 0 &&
           strcmp(config_billing_missing(&c, 0), "STRIPE_API_KEY") == 0 &&
           strcmp(config_billing_missing(&c, 1), "STRIPE_API_KEY") == 0,
       "no key: both lack it");
    config_cleanup(&c);

    setenv("STRIPE_API_KEY", "pk_test_publishable", 1);
    expect_error("STRIPE_API_KEY: must be a secret (sk_...) or restricted (rk_...) key",
                 "a publishable key is refused");
    ok(strstr(err, "publishable") == NULL, "and not repeated in the message");
    setenv("STRIPE_API_KEY", "rk_live_restricted", 1);
    ok(config_load(&c, err, sizeof(err)) == 0, "a restricted key is accepted");
    config_cleanup(&c);
    setenv("STRIPE_API_KEY", "sk_test_abc", 1);

    setenv("STRIPE_PRICE_ID", "price 1", 1);
    expect_error("STRIPE_PRICE_ID: must be a price id", "price with a blank");
    setenv("STRIPE_PRICE_ID", "price_1ABC", 1);
    setenv("STRIPE_CANCEL_URL", "javascript:alert(1)", 1);
    expect_error("STRIPE_CANCEL_URL: must be an https:// URL", "not a URL");
    setenv("STRIPE_CANCEL_URL", "http://localhost:8443/", 1);
    ok(config_load(&c, err, sizeof(err)) == 0, "plain http URLs in dev");
    config_cleanup(&c);
    setenv("EASYSKS_ENV", "prod", 1);
    setenv("AUTH_ISSUER", "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_X", 1);
    setenv("AUTH_CLIENT_IDS", "abc", 1);
    expect_error("STRIPE_CANCEL_URL: must be an https:// URL", "plain http URL outside dev");
    setenv("STRIPE_CANCEL_URL", "https://app.example/billing", 1);
    ok(config_load(&c, err, sizeof(err)) == 0, "https URLs outside dev (%s)", err);
    config_cleanup(&c);

    setenv("STRIPE_WEBHOOK_SECRETS", "whsec_one, whsec_two", 1);
    ok(config_load(&c, err, sizeof(err)) == 0 &&
           strcmp(c.stripe_webhook_secrets, "whsec_one, whsec_two") == 0,
       "two webhook secrets (rotation)");
    config_cleanup(&c);
    setenv("STRIPE_WEBHOOK_SECRETS", "whsec_one,sk_test_wrongpaste", 1);
    expect_error("STRIPE_WEBHOOK_SECRETS: entry 2 does not start with whsec_", "an API key pasted");
    ok(strstr(err, "wrongpaste") == NULL, "the bad entry is not repeated");
    setenv("STRIPE_WEBHOOK_SECRETS", "whsec_one,", 1);
    expect_error("STRIPE_WEBHOOK_SECRETS: entry 2 is empty", "trailing comma");
    unsetenv("STRIPE_WEBHOOK_SECRETS");

    setenv("STRIPE_PAST_DUE_GRACE_HOURS", "0", 1);
    ok(config_load(&c, err, sizeof(err)) == 0 && c.stripe_past_due_grace_h == 0,
       "no grace at all is allowed");
    config_cleanup(&c);
    setenv("STRIPE_PAST_DUE_GRACE_HOURS", "2161", 1);
    expect_error("STRIPE_PAST_DUE_GRACE_HOURS: must be an integer from 0 to 2160",
                 "grace over 90 days");
    unsetenv("STRIPE_PAST_DUE_GRACE_HOURS");
    setenv("EASYSKS_REQUEST_TIMEOUT", "1", 1);
    ok(config_load(&c, err, sizeof(err)) == 0 && c.stripe_timeout_ms == 500,
       "a short request deadline with the default Stripe timeout: loads, timeout halved (%d, %s)",
       c.stripe_timeout_ms, err);
    config_cleanup(&c);
    setenv("EASYSKS_REQUEST_TIMEOUT", "10", 1);
    setenv("STRIPE_TIMEOUT_MS", "10000", 1);
    expect_error("STRIPE_TIMEOUT_MS: must be below EASYSKS_REQUEST_TIMEOUT",
                 "a Stripe call as long as the worker's deadline");
    setenv("STRIPE_TIMEOUT_MS", "9999", 1);
    ok(config_load(&c, err, sizeof(err)) == 0 && c.stripe_timeout_ms == 9999,
       "a Stripe call shorter than the deadline");
    config_cleanup(&c);
    reset_env();
}

/* ---- AI ------------------------------------------------------------------- */

static void test_openai(void)
{
    struct config c;
    char err[512], path[512];

    reset_env();
    ok(config_load(&c, err, sizeof(err)) == 0 && c.openai_api_key == NULL &&
           strcmp(c.openai_api_base, "https://api.openai.com/v1") == 0 &&
           strcmp(c.openai_model, "gpt-4o-mini") == 0 &&
           strcmp(c.openai_transcribe_model, "gpt-4o-mini-transcribe") == 0 &&
           c.ai_daily_quota == 200 && c.ai_rate_per_minute == 10 && c.ai_sync_timeout_ms == 8000 &&
           c.ai_sync_slots == 2 && c.ai_jobs_parallel == 4 && c.ai_job_max_attempts == 5,
       "AI off without a key; defaults (%s)", err);
    config_cleanup(&c);

    write_file("openai", "sk-test-from-a-file\n", path, sizeof(path));
    setenv("OPENAI_API_KEY_FILE", path, 1);
    setenv("OPENAI_API_BASE", "http://127.0.0.1:9/v1//", 1);
    ok(config_load(&c, err, sizeof(err)) == 0 && c.openai_api_key != NULL &&
           strcmp(c.openai_api_key, "sk-test-from-a-file") == 0 &&
           strcmp(c.openai_api_base, "http://127.0.0.1:9/v1") == 0,
       "OPENAI_API_KEY_FILE read; trailing slashes of the base dropped (%s)", err);
    config_cleanup(&c);
    setenv("OPENAI_API_KEY", "sk-also-in-env", 1);
    expect_error("OPENAI_API_KEY: set either", "key given twice");
    unsetenv("OPENAI_API_KEY_FILE");
    setenv("OPENAI_API_KEY", "sk-secret value\r\nX-Injected: 1", 1);
    ok(config_load(&c, err, sizeof(err)) == -1 &&
           strncmp(err, "OPENAI_API_KEY: must be", 23) == 0 && strstr(err, "sk-secret") == NULL,
       "a key with blanks or a line break is refused without repeating it (\"%s\")", err);
    setenv("OPENAI_API_KEY", "sk-ok", 1);
    setenv("EASYSKS_ENV", "prod", 1);
    setenv("AUTH_ISSUER", "https://issuer.example", 1);
    setenv("AUTH_CLIENT_IDS", "x", 1);
    expect_error("OPENAI_API_BASE: must be an https:// URL", "plain http base outside dev");
    setenv("OPENAI_API_BASE", "https://api.example/v1?x=1", 1);
    expect_error("OPENAI_API_BASE: must be an https:// URL", "a base with a query");
    reset_env();
    setenv("OPENAI_MODEL", "gpt 4", 1);
    expect_error("OPENAI_MODEL/OPENAI_TRANSCRIBE_MODEL", "a model name with a blank");
    reset_env();
    setenv("AI_SYNC_SLOTS", "0", 1);
    expect_error("AI_SYNC_SLOTS: must be an integer from 1", "no AI slots");
    reset_env();

    /* The synchronous deadline never outlives the worker's. */
    setenv("EASYSKS_REQUEST_TIMEOUT", "1", 1);
    ok(config_load(&c, err, sizeof(err)) == 0 && config_ai_deadline_ms(&c, 8000) == 100,
       "request deadline 1 s: an AI call gets the 100 ms floor (%s)", err);
    config_cleanup(&c);
    setenv("EASYSKS_REQUEST_TIMEOUT", "5", 1);
    ok(config_load(&c, err, sizeof(err)) == 0 && config_ai_deadline_ms(&c, 8000) == 4000 &&
           config_ai_deadline_ms(&c, 1500) == 1500,
       "request deadline 5 s: 8 s capped to 4 s, 1.5 s kept");
    config_cleanup(&c);
    reset_env();
}

int main(void)
{
    struct config c;
    char err[512], path[512], path2[512];

    if (mkdtemp(dir) == NULL)
        return 1;

    reset_env();
    ok(config_load(&c, err, sizeof(err)) == 0, "minimal dev config loads (%s)", err);
    ok(c.workers == 8 && c.socket_mode == 0660 && c.max_requests == 10000 &&
           c.request_timeout_s == 30 && c.env == ENV_DEV && c.log_level == LOG_INFO &&
           c.slow_request_ms == 1000 && c.health_timeout_ms == 1000 && c.auth_leeway_s == 5,
       "defaults");
    ok(strcmp(c.listen_path, "/run/easysks/easysks.sock") == 0, "default socket path");
    ok(c.auth_issuer == NULL && c.auth_jwks_url == NULL, "auth off when AUTH_ISSUER is unset");
    config_cleanup(&c);

    reset_env();
    setenv("EASYSKS_WORKERS", "0", 1);
    expect_error("EASYSKS_WORKERS: must be an integer from 1 to 128", "workers 0");
    setenv("EASYSKS_WORKERS", "4x", 1);
    expect_error("EASYSKS_WORKERS: must be an integer", "workers with junk");
    reset_env();
    unsetenv("DATABASE_URL");
    expect_error("DATABASE_URL: required", "missing DATABASE_URL");
    reset_env();
    setenv("EASYSKS_ENV", "production", 1);
    expect_error("EASYSKS_ENV: must be one of dev, staging, prod", "unknown env");
    reset_env();
    setenv("EASYSKS_LISTEN", "127.0.0.1:9000", 1);
    expect_error("EASYSKS_LISTEN: must be unix:/", "TCP listen refused");
    reset_env();
    setenv("EASYSKS_SOCKET_MODE", "0666", 1);
    expect_error("EASYSKS_SOCKET_MODE:", "world-accessible socket refused");
    reset_env();
    setenv("EASYSKS_SOCKET_GROUP", "www-dta", 1);
    expect_error("EASYSKS_SOCKET_GROUP: no group named \"www-dta\"", "a misspelt socket group");
    reset_env();
    setenv("EASYSKS_ENV", "prod", 1);
    expect_error("AUTH_ISSUER: required outside EASYSKS_ENV=dev", "prod without issuer");
    setenv("AUTH_ISSUER", "http://issuer.example", 1);
    setenv("AUTH_CLIENT_IDS", "abc", 1);
    expect_error("AUTH_ISSUER: must be an https:// URL", "plain http issuer outside dev");
    setenv("AUTH_ISSUER", "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_X", 1);
    setenv("AUTH_JWKS_URL", "http://jwks.example/keys", 1);
    expect_error("AUTH_JWKS_URL: must be an https:// URL", "plain http JWKS outside dev");
    unsetenv("AUTH_JWKS_URL");
    ok(config_load(&c, err, sizeof(err)) == 0 &&
           strcmp(c.auth_jwks_url, "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_X/"
                                   ".well-known/jwks.json") == 0,
       "JWKS URL defaults to the issuer's well-known path");
    ok(strcmp(c.auth_client_endpoint, "https://cognito-idp.eu-central-1.amazonaws.com/") == 0,
       "browser Cognito endpoint defaults to the issuer's origin (%s)", c.auth_client_endpoint);
    config_cleanup(&c);
    unsetenv("AUTH_CLIENT_IDS");
    expect_error("AUTH_CLIENT_IDS: required when AUTH_ISSUER is set", "issuer without clients");
    setenv("AUTH_CLIENT_IDS", "abc", 1);
    setenv("STRIPE_API_BASE", "http://127.0.0.1:1", 1);
    expect_error("STRIPE_API_BASE: must be an https:// URL", "plain http Stripe outside dev");

    /* NAME_FILE secrets. */
    reset_env();
    unsetenv("DATABASE_URL");
    write_file("dburl", "postgresql://u:pw@db/easysks\n", path, sizeof(path));
    setenv("DATABASE_URL_FILE", path, 1);
    ok(config_load(&c, err, sizeof(err)) == 0 &&
           strcmp(c.database_url, "postgresql://u:pw@db/easysks") == 0,
       "DATABASE_URL_FILE read, trailing newline stripped");
    config_cleanup(&c);
    setenv("DATABASE_URL", "postgresql:///other", 1);
    expect_error("DATABASE_URL: set either DATABASE_URL or DATABASE_URL_FILE", "both set");
    unsetenv("DATABASE_URL");
    setenv("DATABASE_URL_FILE", "/nonexistent/secret", 1);
    expect_error("DATABASE_URL_FILE: cannot open /nonexistent/secret", "missing secret file");

    /* The config file overrides the environment, and a removed line stops applying. */
    reset_env();
    setenv("EASYSKS_WORKERS", "2", 1);
    write_file("pool.env", "# comment\nexport EASYSKS_WORKERS=7\nLOG_LEVEL='debug'\n", path2,
               sizeof(path2));
    setenv("EASYSKS_CONFIG_FILE", path2, 1);
    ok(config_load(&c, err, sizeof(err)) == 0 && c.workers == 7 && c.log_level == LOG_DEBUG,
       "config file values win (%s)", err);
    config_cleanup(&c);
    write_file("pool.env", "LOG_LEVEL=warn\n", path2, sizeof(path2));
    ok(config_load(&c, err, sizeof(err)) == 0 && c.workers == 2 && c.log_level == LOG_WARN,
       "a line removed from the file falls back to the environment (workers=%d)", c.workers);
    config_cleanup(&c);
    write_file("pool.env", "not a setting\n", path2, sizeof(path2));
    expect_error("EASYSKS_CONFIG_FILE:", "malformed config file line");

    unlink(path);
    unlink(path2);

    test_secret_files();
    test_parse_env();
    test_config_file();
    test_start_timeout();
    test_stripe();
    test_openai();
    rmdir(dir);
    return tap_done();
}
