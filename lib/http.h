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
 * Not thread-safe across threads sharing a response; each call uses its own
 * easy handle. Call http_sysinit() once per process before any request.
 */
#ifndef EASYSKS_HTTP_H
#define EASYSKS_HTTP_H

#include <stddef.h>

#include "err.h"

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

/* Free the body and reset *resp. NULL and already-cleaned responses are fine. */
void http_response_cleanup(struct http_response *resp);

#endif
