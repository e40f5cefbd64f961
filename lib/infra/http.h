/*
 * http.h - the one outbound HTTP client (a thin libcurl wrapper).
 *
 * Every request made through this module gets, without the caller having to
 * remember: a connect timeout and a total timeout, a cap on the response body
 * (enforced in the write callback, so a hostile or broken peer cannot make a
 * worker allocate without bound), CURLOPT_NOSIGNAL (workers must not get
 * SIGALRM from the resolver), TLS peer and host verification, no redirects,
 * and the protocol restricted to https (plain http only when the request says
 * allow_http, which callers set only in EASYSKS_ENV=dev).
 *
 * libcurl failures are translated into a `struct err` (502 upstream_error,
 * 504 upstream_timeout, 502 upstream_too_large, 500 http_protocol_refused);
 * the libcurl detail goes to the log with the URL redacted, never to the
 * client. A non-2xx status from the peer is NOT an error here: the caller
 * reads `status` and decides.
 *
 * http_get()/http_post() use a fresh easy handle per call (a new connection
 * each time: fine for rare calls such as a JWKS fetch). A service called on
 * requests keeps a `struct http_client` instead: one easy handle per worker
 * whose connection cache, TLS session cache and DNS cache survive between
 * requests, so a keep-alive connection to the service is reused. Neither is
 * thread-safe; a worker is single-threaded. Call http_sysinit() once per
 * process before any request.
 */
#ifndef EASYSKS_HTTP_H
#define EASYSKS_HTTP_H

#include <stddef.h>

#include "core/err.h"

/* Defaults used when a request leaves the field 0. */
#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 2000L
#define HTTP_DEFAULT_TIMEOUT_MS 5000L
#define HTTP_DEFAULT_MAX_RESPONSE ((size_t)1 << 20)

struct http_request {
    const char *url;            /* required */
    long connect_timeout_ms;    /* 0: HTTP_DEFAULT_CONNECT_TIMEOUT_MS */
    long timeout_ms;            /* total, 0: HTTP_DEFAULT_TIMEOUT_MS */
    size_t max_response;        /* body cap in bytes, 0: HTTP_DEFAULT_MAX_RESPONSE */
    int allow_http;             /* 1: plain http allowed too (dev only) */
    const char *const *headers; /* NULL-terminated "Name: value" list, or NULL.
                                   Values may be secrets: never logged. */
};

struct http_response {
    long status; /* HTTP status, 0 if no response */
    char *body;  /* NUL-terminated (the NUL is not counted in len); owned by
                    the response, freed by http_response_cleanup() */
    size_t len;
    long new_connections; /* connections this request opened: 0 when it reused one */
};

/* Once per process, before any request (curl_global_init). Idempotent.
 * Returns 0, or -1 with e set (500 http_init_failed). */
int http_sysinit(struct err *e);

/* GET req->url into *resp (caller storage, overwritten). Returns 0 when a
 * response was received (any status), -1 with e set otherwise; on -1 resp
 * holds nothing that needs cleanup, but calling cleanup is still safe. */
int http_get(const struct http_request *req, struct http_response *resp, struct err *e);

/* POST `body` (len bytes, need not be NUL-terminated) with the given
 * Content-Type (e.g. "application/x-www-form-urlencoded" or
 * "application/json"). Same contract as http_get(). */
int http_post(const struct http_request *req, const char *content_type, const char *body,
              size_t len, struct http_response *resp, struct err *e);

/* One part of a multipart/form-data POST (libcurl's mime API builds the
 * framing: boundaries, quoting, Content-Disposition). */
struct http_form_part {
    const char *name; /* the form field name, required */
    const void *data; /* `len` bytes (copied by libcurl); NULL only with len 0 */
    size_t len;
    const char *filename;     /* NULL: a plain field; else a file part with this name */
    const char *content_type; /* NULL: none sent (plain fields), libcurl's default for files */
};

/* Free the body and reset *resp. NULL and already-cleaned responses are fine. */
void http_response_cleanup(struct http_response *resp);

/* A reusable client: one libcurl easy handle whose connections are kept
 * between requests (libcurl's default cache of 5 per handle; a connection
 * the peer closed is noticed and replaced). Every request still gets all
 * the limits above from its struct http_request: options are reset before
 * each request, the caches are not. */
struct http_client;

/* Calls http_sysinit(). NULL only with e set when libcurl cannot be
 * initialised; out of memory aborts. Free with http_client_free(). */
struct http_client *http_client_new(struct err *e);

/* Closes the cached connections. NULL is a no-op. */
void http_client_free(struct http_client *c);

/* As http_get() and http_post(), on the client's handle. */
int http_client_get(struct http_client *c, const struct http_request *req,
                    struct http_response *resp, struct err *e);
int http_client_post(struct http_client *c, const struct http_request *req,
                     const char *content_type, const char *body, size_t len,
                     struct http_response *resp, struct err *e);

/* POST `nparts` parts as multipart/form-data on the client's handle. Same
 * contract as http_get(). */
int http_client_post_form(struct http_client *c, const struct http_request *req,
                          const struct http_form_part *parts, int nparts,
                          struct http_response *resp, struct err *e);

#endif
