/*
 * test_config.c - lib/config: defaults, validation messages that name the
 * setting, NAME_FILE secrets, the reloadable config file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

static char dir[] = "/tmp/easysks-config-XXXXXX";

static void write_file(const char *name, const char *text, char *path, size_t len)
{
    FILE *f;
    snprintf(path, len, "%s/%s", dir, name);
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void reset_env(void)
{
    static const char *const names[] = {
        "EASYSKS_ENV",     "DATABASE_URL",        "DATABASE_URL_FILE",   "EASYSKS_LISTEN",
        "EASYSKS_WORKERS", "EASYSKS_SOCKET_MODE", "EASYSKS_CONFIG_FILE", "AUTH_ISSUER",
        "AUTH_JWKS_URL",   "AUTH_CLIENT_IDS",     "AUTH_TOKEN_USE",      "LOG_LEVEL",
        "STRIPE_API_BASE", "EASYSKS_MAX_BODY"};
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

int main(void)
{
    struct config c;
    char err[512], path[512], path2[512];

    if (mkdtemp(dir) == NULL)
        return 1;

    reset_env();
    ok(config_load(&c, err, sizeof(err)) == 0, "minimal dev config loads (%s)", err);
    ok(c.workers == 4 && c.socket_mode == 0660 && c.max_requests == 10000 &&
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
    rmdir(dir);
    return tap_done();
}
