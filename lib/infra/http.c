#include "infra/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/log.h"

static int curl_ready;

struct http_client {
    CURL *h;
};

struct body_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
    int too_large;
};

int http_sysinit(struct err *e)
{
    if (curl_ready)
        return 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return err_set(e, 500, "http_init_failed", "HTTP client initialisation failed");
    curl_ready = 1;
    return 0;
}

void http_response_cleanup(struct http_response *resp)
{
    if (resp == NULL)
        return;
    free(resp->body);
    resp->body = NULL;
    resp->len = 0;
    resp->status = 0;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct body_buf *b = userdata;
    size_t n = size * nmemb;

    /* Enforce the cap before allocating: returning a short count makes
     * libcurl abort the transfer with CURLE_WRITE_ERROR. */
    if (n > b->max - b->len) {
        b->too_large = 1;
        return 0;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap == 0 ? 4096 : b->cap;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap > b->max + 1)
            cap = b->max + 1;
        b->data = realloc(b->data, cap);
        if (b->data == NULL)
            abort(); /* out of memory: the master respawns the worker */
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* What a request sends: nothing (GET), a body with its type, or a form. */
struct payload {
    const char *content_type;
    const char *body; /* NULL: no body */
    size_t len;
    int form; /* 1: multipart/form-data from parts */
    const struct http_form_part *parts;
    int nparts;
};

/* The form as a libcurl mime structure on `h`; NULL with e set when a part
 * is unusable (the caller's bug, never client data: names are ours). */
static curl_mime *build_form(CURL *h, const struct payload *p, struct err *e)
{
    curl_mime *mime = curl_mime_init(h);

    if (mime == NULL)
        abort();
    for (int i = 0; i < p->nparts && p->parts != NULL; i++) {
        const struct http_form_part *fp = &p->parts[i];
        curl_mimepart *part = curl_mime_addpart(mime);
        if (part == NULL)
            abort();
        if (fp->name == NULL || (fp->data == NULL && fp->len > 0) ||
            curl_mime_name(part, fp->name) != CURLE_OK ||
            curl_mime_data(part, fp->data != NULL ? fp->data : "", fp->len) != CURLE_OK ||
            (fp->filename != NULL && curl_mime_filename(part, fp->filename) != CURLE_OK) ||
            (fp->content_type != NULL && curl_mime_type(part, fp->content_type) != CURLE_OK)) {
            curl_mime_free(mime);
            err_set(e, 500, "http_bad_request", "unusable form part");
            return NULL;
        }
    }
    return mime;
}

/* One request on `shared` (a client's handle: options reset, caches kept)
 * or, when it is NULL, on a handle of its own. */
static int perform(CURL *shared, const struct http_request *req, const struct payload *p,
                   struct http_response *resp, struct err *e)
{
    CURL *h = NULL;
    curl_mime *mime = NULL;
    struct curl_slist *hdrs = NULL;
    struct body_buf buf = {0};
    char errbuf[CURL_ERROR_SIZE] = "";
    char url_safe[512];
    char ctype[256];
    CURLcode rc;
    int ret = -1;

    memset(resp, 0, sizeof(*resp));
    if (req == NULL || req->url == NULL || req->url[0] == '\0')
        return err_set(e, 500, "http_bad_request", "no URL configured");
    if (!curl_ready && http_sysinit(e) != 0)
        return -1;

    buf.max = req->max_response != 0 ? req->max_response : HTTP_DEFAULT_MAX_RESPONSE;
    log_redact_url(req->url, url_safe, sizeof(url_safe));

    if (shared != NULL) {
        /* Options of the previous request go; its connection stays cached. */
        h = shared;
        curl_easy_reset(h);
    } else if ((h = curl_easy_init()) == NULL) {
        abort(); /* libcurl only fails here when out of memory */
    }

    if (req->headers != NULL) {
        for (const char *const *hp = req->headers; *hp != NULL; hp++) {
            struct curl_slist *n = curl_slist_append(hdrs, *hp);
            if (n == NULL)
                abort();
            hdrs = n;
        }
    }
    if (p->content_type != NULL) {
        struct curl_slist *n;
        snprintf(ctype, sizeof(ctype), "Content-Type: %s", p->content_type);
        n = curl_slist_append(hdrs, ctype);
        if (n == NULL)
            abort();
        hdrs = n;
    }

    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     req->connect_timeout_ms > 0 ? req->connect_timeout_ms
                                                 : HTTP_DEFAULT_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                     req->timeout_ms > 0 ? req->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, req->allow_http ? "https,http" : "https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    /* Lets libcurl refuse early when the peer announces a larger body; the
     * write callback still enforces the cap for chunked responses. */
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)buf.max);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &buf);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "easysks");
    if (hdrs != NULL)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (p->form) {
        if ((mime = build_form(h, p, e)) == NULL)
            goto out;
        curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
    } else if (p->body != NULL) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, p->body);
    }

    rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        const char *detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
        log_warn("outbound http failed", "url", url_safe, "error", detail, NULL);
        if (buf.too_large || rc == CURLE_FILESIZE_EXCEEDED)
            err_set(e, 502, "upstream_too_large", "upstream response too large");
        else if (rc == CURLE_OPERATION_TIMEDOUT)
            err_set(e, 504, "upstream_timeout", "upstream service timed out");
        else if (rc == CURLE_UNSUPPORTED_PROTOCOL)
            err_set(e, 500, "http_protocol_refused", "upstream URL scheme not allowed");
        else
            err_set(e, 502, "upstream_error", "upstream service unavailable");
        goto out;
    }

    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &resp->new_connections);
    if (buf.data == NULL) {
        buf.data = malloc(1);
        if (buf.data == NULL)
            abort();
        buf.data[0] = '\0';
    }
    resp->body = buf.data;
    resp->len = buf.len;
    buf.data = NULL;
    ret = 0;

out:
    free(buf.data);
    if (shared != NULL) {
        /* The handle outlives this call: drop its pointers to our stack and
         * to the header list before they go. */
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(h, CURLOPT_MIMEPOST, NULL);
    } else {
        curl_easy_cleanup(h);
    }
    curl_mime_free(mime);
    curl_slist_free_all(hdrs);
    return ret;
}

int http_get(const struct http_request *req, struct http_response *resp, struct err *e)
{
    const struct payload none = {0};
    return perform(NULL, req, &none, resp, e);
}

int http_post(const struct http_request *req, const char *content_type, const char *body,
              size_t len, struct http_response *resp, struct err *e)
{
    /* An empty body still has to be a POST: pass "" rather than NULL. */
    const struct payload p = {content_type, body != NULL ? body : "", len, 0, NULL, 0};
    return perform(NULL, req, &p, resp, e);
}

struct http_client *http_client_new(struct err *e)
{
    struct http_client *c;

    if (http_sysinit(e) < 0)
        return NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL || (c->h = curl_easy_init()) == NULL)
        abort();
    return c;
}

void http_client_free(struct http_client *c)
{
    if (c == NULL)
        return;
    curl_easy_cleanup(c->h);
    free(c);
}

int http_client_get(struct http_client *c, const struct http_request *req,
                    struct http_response *resp, struct err *e)
{
    const struct payload none = {0};
    return perform(c->h, req, &none, resp, e);
}

int http_client_post(struct http_client *c, const struct http_request *req,
                     const char *content_type, const char *body, size_t len,
                     struct http_response *resp, struct err *e)
{
    const struct payload p = {content_type, body != NULL ? body : "", len, 0, NULL, 0};
    return perform(c->h, req, &p, resp, e);
}

int http_client_post_form(struct http_client *c, const struct http_request *req,
                          const struct http_form_part *parts, int nparts,
                          struct http_response *resp, struct err *e)
{
    const struct payload p = {NULL, NULL, 0, 1, parts, nparts};
    return perform(c->h, req, &p, resp, e);
}
