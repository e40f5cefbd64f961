/*
 * test_log.c - lib/core/log: one JSON object per line with escaping, level
 * filtering, request id and user fields (each once: checked on the raw text,
 * since a JSON parser quietly keeps one of two duplicate keys); password
 * redaction.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "core/log.h"
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

static void emit_user_only(void)
{
    log_set_user("sub-2");
    log_warn("no request", "k", "v", NULL);
    log_set_user(NULL);
}

static void emit_cleared(void)
{
    log_set_request_id("abc123");
    log_set_user("sub-3");
    log_set_user(NULL);
    log_set_request_id(NULL);
    log_error("after the request", NULL);
}

/* ---- keys of a log line, read from the raw text ---------------------------- */

#define MAX_KEYS 32

struct keys {
    int n;
    char name[MAX_KEYS][64];
};

/* A JSON string at *p (which points at the opening quote), unescaped into out
 * (\uXXXX above 0x7f becomes '?'); *p ends past the closing quote. */
static int read_string(const char **p, char *out, size_t outlen)
{
    const char *s = *p + 1;
    size_t n = 0;

    for (; *s != '"'; s++) {
        char c = *s;
        if (c == '\0' || (unsigned char)c < 0x20)
            return -1;
        if (c == '\\') {
            s++;
            switch (*s) {
            case '"':
            case '\\':
            case '/':
                c = *s;
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            case 'u': {
                unsigned v = 0;
                for (int i = 1; i <= 4; i++) {
                    char h = s[i];
                    if (h >= '0' && h <= '9')
                        v = v * 16 + (unsigned)(h - '0');
                    else if (h >= 'a' && h <= 'f')
                        v = v * 16 + (unsigned)(h - 'a' + 10);
                    else if (h >= 'A' && h <= 'F')
                        v = v * 16 + (unsigned)(h - 'A' + 10);
                    else
                        return -1;
                }
                s += 4;
                c = v < 0x80 ? (char)v : '?';
                break;
            }
            default:
                return -1;
            }
        }
        if (n + 1 < outlen)
            out[n++] = c;
    }
    if (outlen > 0)
        out[n] = '\0';
    *p = s + 1;
    return 0;
}

/* The keys of one flat JSON object (string, number or literal values) in
 * order. Returns 0, or -1 when `line` is not such an object followed by at
 * most a newline. */
static int line_keys(const char *line, struct keys *k)
{
    const char *p = line;
    char scratch[8192];

    k->n = 0;
    p += strspn(p, " ");
    if (*p++ != '{')
        return -1;
    p += strspn(p, " ");
    while (*p != '}') {
        if (*p != '"' || k->n == MAX_KEYS ||
            read_string(&p, k->name[k->n], sizeof(k->name[k->n])) < 0)
            return -1;
        k->n++;
        p += strspn(p, " ");
        if (*p++ != ':')
            return -1;
        p += strspn(p, " ");
        if (*p == '"') {
            if (read_string(&p, scratch, sizeof(scratch)) < 0)
                return -1;
        } else {
            size_t t = strspn(p, "0123456789+-.eEtruefalsn");
            if (t == 0)
                return -1;
            p += t;
        }
        p += strspn(p, " ");
        if (*p == ',')
            p++, p += strspn(p, " ");
        else if (*p != '}')
            return -1;
    }
    p++;
    return strcmp(p, "\n") == 0 || *p == '\0' ? 0 : -1;
}

static int key_count(const struct keys *k, const char *name)
{
    int n = 0;
    for (int i = 0; i < k->n; i++)
        n += strcmp(k->name[i], name) == 0;
    return n;
}

/* The first key that occurs twice, or NULL. */
static const char *duplicate_key(const struct keys *k)
{
    for (int i = 0; i < k->n; i++)
        for (int j = i + 1; j < k->n; j++)
            if (strcmp(k->name[i], k->name[j]) == 0)
                return k->name[i];
    return NULL;
}

static void test_key_scanner(void)
{
    struct keys k;

    ok(line_keys("{\"a\":\"1\",\"b\":2,\"a\":\"3\"}\n", &k) == 0 && k.n == 3 &&
           duplicate_key(&k) != NULL && strcmp(duplicate_key(&k), "a") == 0,
       "scanner: sees a duplicate key");
    ok(line_keys("{\"a\":\"1\",\"\\u0061\":\"2\"}", &k) == 0 && duplicate_key(&k) != NULL,
       "scanner: an escaped spelling of the same key is a duplicate");
    ok(line_keys("{\"a\":\"x\\\",\\\"a\\\":\\\"y\",\"b\":true}\n", &k) == 0 && k.n == 2 &&
           duplicate_key(&k) == NULL,
       "scanner: a key-like text inside a value is not a key");
    ok(line_keys("{\"a\":\"1\"", &k) == -1 && line_keys("{\"a\" \"1\"}", &k) == -1 &&
           line_keys("{\"a\":\"1\"}{}", &k) == -1,
       "scanner: refuses what is not one flat object");
}

static void test_fields_once(void)
{
    char buf[4096];
    struct keys k;
    const char *dup;
    int rc;

    capture(emit_tricky, buf, sizeof(buf));
    rc = line_keys(buf, &k);
    ok(rc == 0 && k.n == 8, "request line scanned: %d keys", k.n);
    ok(key_count(&k, "user") == 1, "exactly one \"user\" key while a user is set (%d)",
       key_count(&k, "user"));
    ok(key_count(&k, "request_id") == 1, "exactly one \"request_id\" key (%d)",
       key_count(&k, "request_id"));
    dup = duplicate_key(&k);
    ok(dup == NULL, "no duplicate keys in a request line (%s)", dup != NULL ? dup : "none");
    ok(key_count(&k, "time") == 1 && key_count(&k, "level") == 1 && key_count(&k, "msg") == 1 &&
           key_count(&k, "proc") == 1 && key_count(&k, "pid") == 1 && key_count(&k, "path") == 1,
       "time, level, msg, proc, pid and the extra field once each");

    capture(emit_user_only, buf, sizeof(buf));
    ok(line_keys(buf, &k) == 0 && key_count(&k, "user") == 1 && key_count(&k, "request_id") == 0 &&
           duplicate_key(&k) == NULL,
       "user without a request id: one \"user\", no \"request_id\"");

    capture(emit_cleared, buf, sizeof(buf));
    ok(line_keys(buf, &k) == 0 && key_count(&k, "user") == 0 && key_count(&k, "request_id") == 0 &&
           duplicate_key(&k) == NULL,
       "after clearing: neither \"user\" nor \"request_id\"");
}

/* ---- lines longer than the 8 KiB line buffer --------------------------------- */

#define LINE_MAX_BYTES 8192 /* LOG_LINE_MAX in lib/core/log.c, newline included */

static char long_text[12000];

static void emit_long_msg(void)
{
    log_info(long_text, NULL);
}

static void emit_long_value(void)
{
    log_set_request_id("abc123");
    log_info("short", "path", long_text, "status", "200", NULL);
    log_set_request_id(NULL);
}

/* `n` bytes of `c` in long_text. */
static void fill(char c, size_t n)
{
    memset(long_text, c, n);
    long_text[n] = '\0';
}

/* One line, at most LINE_MAX_BYTES, a JSON object with no duplicate keys,
 * marked "truncated" exactly when `want_cut`. */
static int line_sane(const char *buf, int want_cut)
{
    struct keys k;
    cJSON *line = cJSON_Parse(buf), *cut = cJSON_GetObjectItem(line, "truncated");
    size_t len = strlen(buf);
    int good = line != NULL && len > 0 && len <= LINE_MAX_BYTES && buf[len - 1] == '\n' &&
               strchr(buf, '\n') == buf + len - 1 && line_keys(buf, &k) == 0 &&
               duplicate_key(&k) == NULL && (want_cut ? cJSON_IsTrue(cut) : cut == NULL);

    if (!good)
        printf("# %zu bytes: %.120s...%s", len, buf, len > 60 ? buf + len - 60 : "");
    cJSON_Delete(line);
    return good;
}

static void test_long_lines(void)
{
    static char buf[16384];
    cJSON *line;
    const cJSON *item;
    int all = 1;

    fill('a', 9000);
    capture(emit_long_msg, buf, sizeof(buf));
    ok(line_sane(buf, 1), "9000-byte message: one valid line, cut, marked truncated");

    capture(emit_long_value, buf, sizeof(buf));
    line = cJSON_Parse(buf);
    item = cJSON_GetObjectItem(line, "path");
    ok(line_sane(buf, 1) && cJSON_IsString(item) && strlen(item->valuestring) > 8000 &&
           strspn(item->valuestring, "a") == strlen(item->valuestring) &&
           cJSON_GetObjectItem(line, "request_id") != NULL &&
           cJSON_GetObjectItem(line, "status") == NULL,
       "9000-byte value: cut short, the field after it left out, request id kept");
    cJSON_Delete(line);

    fill('\x01', 2000); /* 12000 bytes escaped */
    capture(emit_long_value, buf, sizeof(buf));
    line = cJSON_Parse(buf);
    item = cJSON_GetObjectItem(line, "path");
    ok(line_sane(buf, 1) && cJSON_IsString(item) &&
           strspn(item->valuestring, "\x01") == strlen(item->valuestring),
       "value of control characters: never cut inside a \\u escape");
    cJSON_Delete(line);

    /* Every length around the buffer size, with 1-, 2- and 6-byte escapes. */
    for (size_t n = 8100; n <= 8200; n++) {
        const char chars[] = {'a', '"', '\x02'};
        for (size_t i = 0; i < sizeof(chars); i++) {
            fill(chars[i], i == 2 ? n / 6 : i == 1 ? n / 2 : n);
            capture(emit_long_msg, buf, sizeof(buf));
            all &= line_sane(buf, 1);
            capture(emit_long_value, buf, sizeof(buf));
            all &= line_sane(buf, 1);
            if (!all) {
                printf("# failed at n=%zu char %d\n", n, chars[i]);
                break;
            }
        }
        if (!all)
            break;
    }
    ok(all, "messages and values of 8100..8200 bytes: valid lines of at most 8 KiB");

    fill('a', 7000);
    capture(emit_long_value, buf, sizeof(buf));
    ok(line_sane(buf, 0), "a 7000-byte value fits: not marked truncated");
}

static void emit_filtered(void)
{
    log_set_level(LOG_WARN);
    log_info("dropped", NULL);
    log_warn("kept", NULL);
    log_set_level(LOG_INFO);
}

/* s with control characters shown as '.', for a one-line TAP description. */
static const char *printable(const char *s, char *buf, size_t len)
{
    size_t i = 0;
    for (; s[i] != '\0' && i + 1 < len; i++)
        buf[i] = (unsigned char)s[i] < 0x20 ? '.' : s[i];
    buf[i] = '\0';
    return buf;
}

static void check_redact(const char *in, const char *want)
{
    char out[256], a[256], b[256];
    log_redact_url(in, out, sizeof(out));
    ok(strcmp(out, want) == 0, "redact %s -> %s", printable(in, a, sizeof(a)),
       printable(out, b, sizeof(b)));
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

    test_key_scanner();
    test_fields_once();
    test_long_lines();

    check_redact("postgresql://app:s3cret@db.example:5432/easysks?sslmode=require",
                 "postgresql://app:***@db.example:5432/easysks?sslmode=require");
    check_redact("postgresql://app@db/easysks", "postgresql://app@db/easysks");
    check_redact("postgresql:///easysks?host=/run/pg&user=app",
                 "postgresql:///easysks?host=/run/pg&user=app");
    check_redact("host=db user=app password=s3cret dbname=x",
                 "host=db user=app password=*** dbname=x");
    check_redact("host=db password='it\\'s secret' dbname=x", "host=db password=*** dbname=x");
    check_redact("password = spaced host=db", "password=*** host=db");
    /* Passwords libpq reads that the first version let through. */
    check_redact("postgresql:///easysks?host=/run/pg&user=app&password=s3cret",
                 "postgresql:///easysks?host=/run/pg&user=app&password=***");
    check_redact("postgresql://db/easysks?password=s3cret&sslmode=require#x",
                 "postgresql://db/easysks?password=***&sslmode=require#x");
    check_redact("postgresql://app:pa?ss@db/easysks", "postgresql://app:***@db/easysks");
    check_redact("postgresql://app:pa#ss@db:5432", "postgresql://app:***@db:5432");
    check_redact("postgresql://app:p@ss@db/easysks", "postgresql://app:***@db/easysks");
    check_redact("host=db\tpassword=s3cret\ndbname=x", "host=db\tpassword=***\ndbname=x");
    check_redact("host=db password=ab://cd dbname=x", "host=db password=*** dbname=x");
    /* and what must stay as it is */
    check_redact("https://api.example/v1/x?a=1&passwordless=1",
                 "https://api.example/v1/x?a=1&passwordless=1");
    check_redact("https://h/p?x=a@b", "https://h/p?x=a@b");
    {
        char small[12];
        log_redact_url("postgresql://app:s3cret@db/x", small, sizeof(small));
        ok(strcmp(small, "postgresql:") == 0, "redact: cut to the buffer, NUL-terminated (%s)",
           small);
        log_redact_url("host=db password=s3cret", small, sizeof(small));
        ok(strcmp(small, "host=db pas") == 0, "redact: key=value cut to the buffer (%s)", small);
    }
    return tap_done();
}
