/*
 * test_log.c - lib/log: one JSON object per line with escaping, level
 * filtering, request id and user fields; password redaction.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "log.h"
#include "tap.h"

/* Run `fn` with stderr captured into buf. */
static void capture(void (*fn)(void), char *buf, size_t len)
{
    int fds[2], saved = dup(STDERR_FILENO);
    ssize_t n;

    if (pipe(fds) != 0)
        return;
    dup2(fds[1], STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(fds[1]);
    close(saved);
    n = read(fds[0], buf, len - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fds[0]);
}

static void emit_tricky(void)
{
    log_set_request_id("abc123");
    log_set_user("sub-1");
    log_info("hello \"world\"\n", "path", "/a\\b\t\x01", NULL);
    log_set_request_id(NULL);
    log_set_user(NULL);
}

static void emit_filtered(void)
{
    log_set_level(LOG_WARN);
    log_info("dropped", NULL);
    log_warn("kept", NULL);
    log_set_level(LOG_INFO);
}

static void check_redact(const char *in, const char *want)
{
    char out[256];
    log_redact_url(in, out, sizeof(out));
    ok(strcmp(out, want) == 0, "redact %s -> %s", in, out);
}

int main(void)
{
    char buf[4096];
    cJSON *line, *item;

    capture(emit_tricky, buf, sizeof(buf));
    ok(strchr(buf, '\n') == buf + strlen(buf) - 1, "exactly one line");
    line = cJSON_Parse(buf);
    ok(line != NULL, "line is JSON: %s", buf);
    item = cJSON_GetObjectItem(line, "msg");
    ok(cJSON_IsString(item) && strcmp(item->valuestring, "hello \"world\"\n") == 0,
       "message escaped and round-trips");
    item = cJSON_GetObjectItem(line, "path");
    ok(cJSON_IsString(item) && strcmp(item->valuestring, "/a\\b\t\x01") == 0,
       "control characters escaped");
    item = cJSON_GetObjectItem(line, "request_id");
    ok(cJSON_IsString(item) && strcmp(item->valuestring, "abc123") == 0, "request id field");
    item = cJSON_GetObjectItem(line, "user");
    ok(cJSON_IsString(item) && strcmp(item->valuestring, "sub-1") == 0, "user field");
    ok(cJSON_IsNumber(cJSON_GetObjectItem(line, "pid")), "pid is a number");
    item = cJSON_GetObjectItem(line, "time");
    ok(cJSON_IsString(item) && strlen(item->valuestring) == 24 && item->valuestring[23] == 'Z',
       "RFC 3339 UTC time with milliseconds");
    cJSON_Delete(line);

    capture(emit_filtered, buf, sizeof(buf));
    ok(strstr(buf, "dropped") == NULL && strstr(buf, "kept") != NULL, "level filter");

    enum log_level lv;
    ok(log_level_parse("warn", &lv) == 0 && lv == LOG_WARN && log_level_parse("loud", &lv) == -1,
       "level names");

    check_redact("postgresql://app:s3cret@db.example:5432/easysks?sslmode=require",
                 "postgresql://app:***@db.example:5432/easysks?sslmode=require");
    check_redact("postgresql://app@db/easysks", "postgresql://app@db/easysks");
    check_redact("postgresql:///easysks?host=/run/pg&user=app",
                 "postgresql:///easysks?host=/run/pg&user=app");
    check_redact("host=db user=app password=s3cret dbname=x",
                 "host=db user=app password=*** dbname=x");
    check_redact("host=db password='it\\'s secret' dbname=x", "host=db password=*** dbname=x");
    check_redact("password = spaced host=db", "password=*** host=db");
    return tap_done();
}
