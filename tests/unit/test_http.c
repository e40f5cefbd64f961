/*
 * test_http.c - lib/http against a loopback stub: status passthrough, size
 * cap in the write callback, https-only unless allow_http, timeouts, POST.
 */
#include <string.h>
#include <time.h>

#include "http.h"
#include "log.h"
#include "tap.h"
#include "httpd_stub.h"

int main(void)
{
    struct stub s;
    struct http_request req = {0};
    struct http_response resp = {0};
    struct err e;
    char url[128];
    const char *hdrs[] = {"X-Test: 1", NULL};
    struct timespec t0, t1;

    log_set_level(LOG_ERROR);
    ok(http_sysinit(&e) == 0 && http_sysinit(&e) == 0, "http_sysinit is idempotent");
    if (stub_start(&s) != 0) {
        ok(0, "stub started");
        return tap_done();
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", s.port);
    stub_set_body(&s, "{\"hello\":1}");

    req.url = url;
    req.allow_http = 1;
    req.headers = hdrs;
    ok(http_get(&req, &resp, &e) == 0 && resp.status == 200 && resp.len == 11 &&
           strcmp(resp.body, "{\"hello\":1}") == 0,
       "GET returns status and NUL-terminated body");
    http_response_cleanup(&resp);
    http_response_cleanup(&resp);

    ok(http_post(&req, "application/json", "{}", 2, &resp, &e) == 0 && resp.status == 200,
       "POST works");
    http_response_cleanup(&resp);

    stub_set_mode(&s, STUB_ERROR);
    ok(http_get(&req, &resp, &e) == 0 && resp.status == 503 && resp.len == 0,
       "non-2xx status is passed through, not an error");
    http_response_cleanup(&resp);

    req.allow_http = 0;
    stub_set_mode(&s, STUB_OK);
    err_clear(&e);
    ok(http_get(&req, &resp, &e) != 0 && e.code != NULL &&
           strcmp(e.code, "http_protocol_refused") == 0,
       "plain http refused unless allow_http");
    req.allow_http = 1;

    s.big_len = 5000;
    stub_set_mode(&s, STUB_BIG);
    req.max_response = 4096;
    err_clear(&e);
    ok(http_get(&req, &resp, &e) != 0 && strcmp(e.code, "upstream_too_large") == 0 &&
           e.status == 502 && resp.body == NULL,
       "body over the cap (no Content-Length) aborted in the write callback");
    req.max_response = 5000;
    ok(http_get(&req, &resp, &e) == 0 && resp.len == 5000, "body exactly at the cap accepted");
    http_response_cleanup(&resp);
    req.max_response = 0;

    s.delay_ms = 1500;
    stub_set_mode(&s, STUB_SLOW);
    req.timeout_ms = 300;
    err_clear(&e);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ok(http_get(&req, &resp, &e) != 0 && strcmp(e.code, "upstream_timeout") == 0 && e.status == 504,
       "total timeout -> upstream_timeout");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ok((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9 < 1.2,
       "timeout honoured promptly");
    stub_stop(&s);

    err_clear(&e);
    ok(http_get(&req, &resp, &e) != 0 && strcmp(e.code, "upstream_error") == 0 && e.status == 502,
       "connection refused -> upstream_error");
    req.url = NULL;
    ok(http_get(&req, &resp, &e) != 0, "missing URL is an error");
    return tap_done();
}
