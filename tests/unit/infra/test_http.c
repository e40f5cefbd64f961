/*
 * test_http.c - lib/infra/http against a loopback stub: status passthrough, size
 * cap in the write callback, https-only unless allow_http, timeouts, and
 * what actually arrives at the server (method, headers, the exact body);
 * the reusable client: one connection for consecutive requests, the same
 * limits, options of one request not leaking into the next.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "infra/http.h"
#include "core/log.h"
#include "tap.h"
#include "httpd_stub.h"

int main(void)
{
    struct stub s;
    struct http_request req = {0};
    struct http_response resp = {0};
    struct err e;
    char url[128];
    const char *hdrs[] = {"X-Test: 1", NULL}, *hdrs2[3];
    struct timespec t0, t1;
    struct stub_request *rq = calloc(1, sizeof(*rq));
    char v[256];

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
    ok(stub_last_request(&s, rq) == 0 && strcmp(rq->method, "GET") == 0 &&
           strcmp(rq->path, "/x") == 0 && rq->body_len == 0 &&
           stub_header(rq, "X-Test", v, sizeof(v)) == 1 && strcmp(v, "1") == 0 &&
           stub_header(rq, "Content-Type", v, sizeof(v)) == 0 &&
           stub_header(rq, "User-Agent", v, sizeof(v)) == 1 && strcmp(v, "easysks") == 0,
       "GET arrives as GET /x with the custom header, no body, no Content-Type");

    /* Only `len` bytes of the body are sent: "XYZ" must not arrive. */
    ok(http_post(&req, "application/json", "{\"a\":1}XYZ", 7, &resp, &e) == 0 &&
           resp.status == 200 && strcmp(resp.body, "{\"hello\":1}") == 0,
       "POST returns status and body");
    http_response_cleanup(&resp);
    ok(stub_last_request(&s, rq) == 0 && strcmp(rq->method, "POST") == 0 &&
           strcmp(rq->path, "/x") == 0,
       "POST arrives as POST /x");
    ok(rq->body_len == 7 && memcmp(rq->body, "{\"a\":1}", 7) == 0,
       "POST body arrives exactly: len bytes, not up to the NUL (%zu bytes: %s)", rq->body_len,
       rq->body);
    ok(stub_header(rq, "Content-Length", v, sizeof(v)) == 1 && strcmp(v, "7") == 0,
       "Content-Length: 7 (%s)", v);
    ok(stub_header(rq, "Content-Type", v, sizeof(v)) == 1 && strcmp(v, "application/json") == 0,
       "Content-Type sent once, as given (%s)", v);
    ok(stub_header(rq, "X-Test", v, sizeof(v)) == 1 && strcmp(v, "1") == 0,
       "custom header sent with the POST");

    hdrs2[0] = "Authorization: Bearer sk_test_x";
    hdrs2[1] = "Idempotency-Key: k-1";
    hdrs2[2] = NULL;
    req.headers = hdrs2;
    ok(http_post(&req, "application/x-www-form-urlencoded", "a=1\0b=2", 7, &resp, &e) == 0 &&
           stub_last_request(&s, rq) == 0 && rq->body_len == 7 &&
           memcmp(rq->body, "a=1\0b=2", 7) == 0 &&
           stub_header(rq, "Content-Type", v, sizeof(v)) == 1 &&
           strcmp(v, "application/x-www-form-urlencoded") == 0 &&
           stub_header(rq, "Authorization", v, sizeof(v)) == 1 &&
           strcmp(v, "Bearer sk_test_x") == 0 &&
           stub_header(rq, "Idempotency-Key", v, sizeof(v)) == 1 && strcmp(v, "k-1") == 0 &&
           stub_header(rq, "X-Test", v, sizeof(v)) == 0,
       "form POST: a body with a NUL byte arrives whole, with every header of this request");
    http_response_cleanup(&resp);
    {
        enum { BIG = 20000 };
        char *big = malloc(BIG);
        int rc;
        for (size_t i = 0; i < BIG; i++)
            big[i] = (char)('a' + i % 26);
        rc = http_post(&req, "text/plain", big, BIG, &resp, &e);
        rc |= stub_last_request(&s, rq);
        ok(rc == 0 && rq->body_len == BIG && memcmp(rq->body, big, BIG) == 0,
           "20000-byte POST body arrives whole and unchanged (%zu bytes)", rq->body_len);
        http_response_cleanup(&resp);
        free(big);
    }
    ok(http_post(&req, "application/json", NULL, 0, &resp, &e) == 0 &&
           stub_last_request(&s, rq) == 0 && strcmp(rq->method, "POST") == 0 && rq->body_len == 0 &&
           stub_header(rq, "Content-Length", v, sizeof(v)) == 1 && strcmp(v, "0") == 0,
       "POST with no body is still a POST, Content-Length: 0");
    http_response_cleanup(&resp);
    req.headers = hdrs;

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
    stub_set_mode(&s, STUB_OK);
    req.timeout_ms = 0;

    /* The reusable client: consecutive requests share one connection. */
    {
        struct http_client *c = http_client_new(&e);
        unsigned long before;
        long reused = -1;
        const char *auth[] = {"Authorization: Bearer sk_test_reuse", NULL};

        stub_set_keepalive(&s, 1);
        before = stub_connections(&s);
        req.headers = auth;
        ok(c != NULL &&
               http_client_post(c, &req, "application/x-www-form-urlencoded", "a=1", 3, &resp,
                                &e) == 0 &&
               resp.status == 200 && resp.new_connections == 1,
           "client: first request opens a connection");
        http_response_cleanup(&resp);
        req.headers = NULL;
        if (http_client_get(c, &req, &resp, &e) == 0 && resp.status == 200)
            reused = resp.new_connections;
        ok(reused == 0, "client: second request reuses it (new connections: %ld)", reused);
        http_response_cleanup(&resp);
        ok(stub_last_request(&s, rq) == 0 && strcmp(rq->method, "GET") == 0 && rq->body_len == 0 &&
               stub_header(rq, "Authorization", v, sizeof(v)) == 0 &&
               stub_header(rq, "Content-Type", v, sizeof(v)) == 0,
           "client: the GET carries nothing of the POST before it (method, headers, body)");
        ok(http_client_post(c, &req, "application/json", "{}", 2, &resp, &e) == 0 &&
               stub_connections(&s) - before == 1,
           "client: three requests, one connection at the server (%lu)",
           stub_connections(&s) - before);
        http_response_cleanup(&resp);
        stub_set_status(&s, 402);
        ok(http_client_get(c, &req, &resp, &e) == 0 && resp.status == 402,
           "client: a non-2xx status is passed through");
        http_response_cleanup(&resp);
        stub_set_status(&s, 0);

        s.big_len = 5000;
        stub_set_mode(&s, STUB_BIG);
        req.max_response = 4096;
        err_clear(&e);
        ok(http_client_get(c, &req, &resp, &e) != 0 && strcmp(e.code, "upstream_too_large") == 0,
           "client: the response cap applies");
        req.max_response = 0;
        stub_set_mode(&s, STUB_OK);
        ok(http_client_get(c, &req, &resp, &e) == 0 && resp.status == 200 && resp.len == 11,
           "client: usable after an aborted transfer");
        http_response_cleanup(&resp);

        req.allow_http = 0;
        err_clear(&e);
        ok(http_client_get(c, &req, &resp, &e) != 0 && strcmp(e.code, "http_protocol_refused") == 0,
           "client: plain http refused unless the request allows it");
        req.allow_http = 1;

        s.delay_ms = 1500;
        stub_set_mode(&s, STUB_SLOW);
        req.timeout_ms = 300;
        err_clear(&e);
        ok(http_client_get(c, &req, &resp, &e) != 0 && strcmp(e.code, "upstream_timeout") == 0,
           "client: the timeout applies");
        req.timeout_ms = 0;
        stub_set_mode(&s, STUB_OK);
        stub_set_keepalive(&s, 0);
        http_client_free(c);
        http_client_free(NULL);
    }
    stub_stop(&s);

    err_clear(&e);
    ok(http_get(&req, &resp, &e) != 0 && strcmp(e.code, "upstream_error") == 0 && e.status == 502,
       "connection refused -> upstream_error");
    req.url = NULL;
    ok(http_get(&req, &resp, &e) != 0, "missing URL is an error");
    free(rq);
    return tap_done();
}
