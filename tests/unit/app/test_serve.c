/*
 * test_serve.c - app/http through the real libfcgi, without nginx: requests
 * are written as FastCGI records into a unix socket (tests/unit/
 * fcgi_client.h), accepted with FCGX_Accept_r and served in-process.
 *
 * Covers serve(): 404, 405 with Allow, HEAD as GET, a trailing slash, the
 * body cap before routing, a malformed Content-Length, request id
 * validation, 503 for protected routes without a verifier; and the request
 * helpers: JSON bodies (415, 400, 422), a short body, raw bodies with NUL
 * bytes, query decoding, and oversized response headers (500, no abort).
 */
#include <stdio.h>
#include <string.h>

#include "fcgi_client.h"
#include "http/app.h"
#include "http/request.h"
#include "http/serve.h"
#include "core/log.h"
#include "tap.h"

static struct fcgi_test t;
static struct config cfg;
static struct app app;
static char out[262144];

/* Serve one request through app_serve(); the response lands in out[]. */
static const char *serve(const struct fcgi_pair *params, const char *body, size_t send_len)
{
    return fcgi_test_serve(&t, &app, params, body, send_len, out, sizeof(out));
}

/* Accept one request and build a struct request over it, for the helpers. */
static void begin(struct request *r, const struct fcgi_pair *params, const char *body,
                  size_t send_len)
{
    fcgi_test_reconnect(&t);
    fcgi_test_send(&t, params, body, send_len);
    FCGX_Accept_r(&t.req);
    memset(r, 0, sizeof(*r));
    r->fcgi = &t.req;
    r->app = &app;
    r->arena = &app.arena;
    r->path = "/test";
    r->query = "";
    r->request_id = "test";
}

static const char *finish(struct request *r)
{
    cJSON_Delete(r->json);
    FCGX_Finish_r(&t.req);
    app_after_request(&app);
    fcgi_test_response(&t, out, sizeof(out));
    return out;
}

static int has(const char *s, const char *needle)
{
    return strstr(s, needle) != NULL;
}

int main(void)
{
    struct request r;
    const char *resp;
    char big[4096];

    log_set_level(LOG_ERROR);
    cfg.env = ENV_DEV;
    cfg.max_body_bytes = 1024;
    cfg.auth_client_ids = "client-a,client-b";
    cfg.auth_client_endpoint = "/cognito/";
    app.cfg = &cfg;
    app.db = db_new("host=/nonexistent-socket-dir dbname=none", 100);
    arena_init(&app.arena, 4096);
    if (fcgi_test_open(&t) < 0) {
        ok(0, "fake FastCGI socket");
        return tap_done();
    }

    resp = serve((struct fcgi_pair[]){{"REQUEST_METHOD", "GET"},
                                      {"PATH_INFO", "/client-config"},
                                      {"REQUEST_ID", "0123456789abcdef0123456789abcdef"},
                                      {NULL, NULL}},
                 NULL, 0);
    ok(has(resp, "Status: 200 OK\r\n") && has(resp, "Content-Type: application/json\r\n") &&
           has(resp, "Cache-Control: no-store\r\n") && has(resp, "\"client_id\":\"client-a\""),
       "a public route answers 200 JSON, not cacheable");

    resp = serve((struct fcgi_pair[]){{"REQUEST_METHOD", "GET"},
                                      {"PATH_INFO", "/client-config/"},
                                      {NULL, NULL}},
                 NULL, 0);
    ok(has(resp, "Status: 200 "), "one trailing slash is tolerated");

    resp = serve((struct fcgi_pair[]){{"REQUEST_METHOD", "HEAD"},
                                      {"PATH_INFO", "/client-config"},
                                      {NULL, NULL}},
                 NULL, 0);
    ok(has(resp, "Status: 200 "), "HEAD is served by the GET route");

    resp = serve((struct fcgi_pair[]){{"REQUEST_METHOD", "GET"},
                                      {"PATH_INFO", "/no/such/thing"},
                                      {"REQUEST_ID", "0123456789abcdef0123456789abcdef"},
                                      {NULL, NULL}},
                 NULL, 0);
    ok(has(resp, "Status: 404 ") && has(resp, "\"code\":\"not_found\"") &&
           has(resp, "\"request_id\":\"0123456789abcdef0123456789abcdef\""),
       "unknown path: 404 with the error body and nginx's request id");

    resp = serve(
        (struct fcgi_pair[]){{"REQUEST_METHOD", "DELETE"}, {"PATH_INFO", "/health"}, {NULL, NULL}},
        NULL, 0);
    ok(has(resp, "Status: 405 ") && has(resp, "Allow: GET, HEAD\r\n") &&
           has(resp, "\"code\":\"method_not_allowed\""),
       "wrong method: 405 with Allow");

    resp =
        serve((struct fcgi_pair[]){{"REQUEST_METHOD", "GET"}, {"PATH_INFO", "/me"}, {NULL, NULL}},
              NULL, 0);
    ok(has(resp, "Status: 503 ") && has(resp, "\"code\":\"auth_unconfigured\""),
       "a protected route without a verifier: 503 auth_unconfigured");

    resp = serve((struct fcgi_pair[]){{"REQUEST_METHOD", "POST"},
                                      {"PATH_INFO", "/nope"},
                                      {"CONTENT_LENGTH", "2000000"},
                                      {NULL, NULL}},
                 NULL, 0);
    ok(has(resp, "Status: 413 ") && has(resp, "\"code\":\"payload_too_large\""),
       "a body over the cap is refused before routing (413, not 404)");

    resp = serve((struct fcgi_pair[]){{"REQUEST_METHOD", "POST"},
                                      {"PATH_INFO", "/health"},
                                      {"CONTENT_LENGTH", "12x"},
                                      {NULL, NULL}},
                 NULL, 0);
    ok(has(resp, "Status: 400 ") && has(resp, "\"code\":\"bad_content_length\""),
       "a malformed Content-Length: 400");

    resp = serve((struct fcgi_pair[]){{"REQUEST_METHOD", "GET"},
                                      {"PATH_INFO", "/nope"},
                                      {"REQUEST_ID", "<script>\r\nX-Evil: 1"},
                                      {NULL, NULL}},
                 NULL, 0);
    {
        const char *id = strstr(resp, "\"request_id\":\"");
        int hex32 = id != NULL && strspn(id + 14, "0123456789abcdef") == 32 && id[46] == '"';
        ok(hex32 && !has(resp, "script") && !has(resp, "X-Evil"),
           "a malformed request id is replaced by a generated one");
    }

    /* Content-Length parsing on its own. */
    {
        struct err e;
        size_t n = 99;
        ok(request_parse_content_length(NULL, 10, &n, &e) == 0 && n == 0 &&
               request_parse_content_length("", 10, &n, &e) == 0 && n == 0,
           "no Content-Length means no body");
        ok(request_parse_content_length("10", 10, &n, &e) == 0 && n == 10,
           "a length at the cap is accepted");
        ok(request_parse_content_length("11", 10, &n, &e) < 0 && e.status == 413,
           "one byte over the cap: 413");
        ok(request_parse_content_length("-1", 10, &n, &e) < 0 && e.status == 400 &&
               request_parse_content_length("+1", 10, &n, &e) < 0 &&
               request_parse_content_length(" 1", 10, &n, &e) < 0 &&
               request_parse_content_length("1 ", 10, &n, &e) < 0,
           "signs and spaces: 400");
        ok(request_parse_content_length("99999999999999999999999999", (size_t)-1, &n, &e) < 0,
           "a length that overflows is refused, not wrapped");
    }
    ok(request_id_valid("abc-DEF-0123") && !request_id_valid("") && !request_id_valid(NULL) &&
           !request_id_valid("abc def") && !request_id_valid("g") &&
           !request_id_valid("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"),
       "request ids: hex and dashes, 1 to 64 characters");

    /* JSON bodies. */
    begin(
        &r,
        (struct fcgi_pair[]){{"CONTENT_TYPE", "text/plain"}, {"CONTENT_LENGTH", "2"}, {NULL, NULL}},
        "{}", 2);
    ok(request_read_json(&r) == NULL && has(finish(&r), "Status: 415 ") &&
           has(out, "\"code\":\"unsupported_media_type\""),
       "JSON body with another content type: 415");

    begin(&r,
          (struct fcgi_pair[]){{"CONTENT_TYPE", "application/json; charset=utf-8"},
                               {"CONTENT_LENGTH", "9"},
                               {NULL, NULL}},
          "{\"a\":1,}", 9);
    ok(request_read_json(&r) == NULL && has(finish(&r), "Status: 400 ") &&
           has(out, "\"code\":\"invalid_json\""),
       "malformed JSON: 400 invalid_json");

    begin(&r,
          (struct fcgi_pair[]){
              {"CONTENT_TYPE", "application/json"}, {"CONTENT_LENGTH", "16"}, {NULL, NULL}},
          "{\"timezone\":\"\xff\"}", 16);
    ok(request_read_json(&r) == NULL && has(finish(&r), "Status: 400 ") &&
           has(out, "\"code\":\"invalid_json\"") && has(out, "not UTF-8"),
       "a string with a byte that is not UTF-8: 400 invalid_json");

    /* A raw NUL would cut the string in cJSON and hide what follows it. */
    begin(&r,
          (struct fcgi_pair[]){
              {"CONTENT_TYPE", "application/json"}, {"CONTENT_LENGTH", "19"}, {NULL, NULL}},
          "{\"a\":\"x\0y\",\"b\":\"\xff\"}", 19);
    ok(request_read_json(&r) == NULL && has(finish(&r), "Status: 400 ") &&
           has(out, "\"code\":\"invalid_json\""),
       "a raw NUL in the body (and a bad byte after it): 400 invalid_json");

    begin(&r,
          (struct fcgi_pair[]){
              {"CONTENT_TYPE", "application/json"}, {"CONTENT_LENGTH", "3"}, {NULL, NULL}},
          "[1]", 3);
    ok(request_read_json(&r) == NULL && has(finish(&r), "Status: 422 "),
       "a JSON array where an object is expected: 422");

    begin(&r,
          (struct fcgi_pair[]){
              {"CONTENT_TYPE", "application/json"}, {"CONTENT_LENGTH", "10"}, {NULL, NULL}},
          "{\"a\"", 4);
    ok(request_read_json(&r) == NULL && has(finish(&r), "Status: 400 ") &&
           has(out, "\"code\":\"body_incomplete\""),
       "a body shorter than its Content-Length: 400 body_incomplete");

    begin(&r,
          (struct fcgi_pair[]){
              {"CONTENT_TYPE", "Application/JSON"}, {"CONTENT_LENGTH", "14"}, {NULL, NULL}},
          "{\"a\":\"\\u00e4\"}", 14);
    {
        cJSON *j = request_read_json(&r);
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "a");
        ok(j != NULL && cJSON_IsString(a) && strcmp(a->valuestring, "\xc3\xa4") == 0 &&
               !r.responded,
           "a JSON object is parsed and nothing is answered");
        request_send_json(&r, 200, NULL, NULL);
        finish(&r);
    }

    begin(&r, (struct fcgi_pair[]){{"CONTENT_LENGTH", "5"}, {NULL, NULL}}, "a\0b\0c", 5);
    ok(request_read_raw(&r) == 0 && r.body_len == 5 && memcmp(r.body, "a\0b\0c", 5) == 0,
       "a raw body arrives byte-exact, NUL bytes included");
    request_send_empty(&r, 204, NULL);
    ok(has(finish(&r), "Status: 204 "), "204 without a body");

    /* Query strings. */
    begin(&r, (struct fcgi_pair[]){{NULL, NULL}}, NULL, 0);
    r.query = "topic=a%20b&limit=+5&flag&bad=%zz%4&topic=second&x=%C3%A4";
    ok(strcmp(request_query(&r, "topic"), "a b") == 0 &&
           strcmp(request_query(&r, "limit"), " 5") == 0 &&
           strcmp(request_query(&r, "flag"), "") == 0 &&
           strcmp(request_query(&r, "bad"), "%zz%4") == 0 &&
           strcmp(request_query(&r, "x"), "\xc3\xa4") == 0 && request_query(&r, "top") == NULL &&
           request_query(&r, "missing") == NULL,
       "query parameters are found by exact name and percent-decoded");

    /* Oversized response headers are a bug of ours: answer 500, keep going. */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    request_send_json(&r, 200, NULL, big);
    ok(has(finish(&r), "Status: 500 ") && has(out, "internal_error") && !has(out, "xxxx"),
       "headers over REQUEST_HEAD_MAX: 500 instead of abort()");

    fcgi_test_close(&t);
    db_free(app.db);
    arena_cleanup(&app.arena);
    return tap_done();
}
