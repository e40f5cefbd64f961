/*
 * fcgi_client.h - a minimal FastCGI client for unit tests (header-only):
 * writes one request (BEGIN_REQUEST, PARAMS, STDIN) the way nginx does,
 * so a test can FCGX_Accept_r() it with the real libfcgi in-process, run
 * the code under test, and read back the STDOUT the worker wrote.
 *
 *     struct fcgi_pair params[] = {{"REQUEST_METHOD", "GET"}, ..., {NULL, NULL}};
 *     fcgi_test_open(&t);
 *     fcgi_test_send(&t, params, body, body_len, body_len);
 *     FCGX_Accept_r(&t.req);  ...  FCGX_Finish_r(&t.req);
 *     fcgi_test_response(&t, out, sizeof(out));
 *
 * or, for the whole request through the application, fcgi_test_serve().
 */
#ifndef EASYSKS_FCGI_CLIENT_H
#define EASYSKS_FCGI_CLIENT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <fcgiapp.h>

#include "http/app.h"
#include "http/serve.h"

struct fcgi_pair {
    const char *name, *value;
};

struct fcgi_test {
    char path[108];
    int listen_fd, client_fd;
    FCGX_Request req;
};

static void fcgi_put_len(unsigned char **p, size_t n)
{
    if (n < 128) {
        *(*p)++ = (unsigned char)n;
    } else {
        *(*p)++ = (unsigned char)((n >> 24) | 0x80);
        *(*p)++ = (unsigned char)(n >> 16);
        *(*p)++ = (unsigned char)(n >> 8);
        *(*p)++ = (unsigned char)n;
    }
}

static void fcgi_record(int fd, int type, const void *data, size_t len)
{
    unsigned char h[8] = {
        1, (unsigned char)type, 0, 1, (unsigned char)(len >> 8), (unsigned char)len, 0, 0};
    if (write(fd, h, 8) != 8 || (len > 0 && write(fd, data, len) != (ssize_t)len))
        abort();
}

/* A listening unix socket and a connected client; -1 on failure. */
static int fcgi_test_open(struct fcgi_test *t)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};

    snprintf(t->path, sizeof(t->path), "/tmp/easysks-fcgi-test.%d.sock", (int)getpid());
    unlink(t->path);
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", t->path);
    t->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    t->client_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (t->listen_fd < 0 || bind(t->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        listen(t->listen_fd, 4) < 0 || connect(t->client_fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        return -1;
    if (FCGX_Init() != 0 || FCGX_InitRequest(&t->req, t->listen_fd, 0) != 0)
        return -1;
    return 0;
}

/* Send the request: params (NULL-terminated), then `send_len` bytes of body
 * in STDIN records (send fewer than CONTENT_LENGTH says for a short body). */
static void fcgi_test_send(struct fcgi_test *t, const struct fcgi_pair *params, const char *body,
                           size_t send_len)
{
    static const unsigned char begin[8] = {0, 1, 0, 0, 0, 0, 0, 0}; /* RESPONDER, no keep-conn */
    unsigned char *buf = malloc(65536), *p = buf;

    fcgi_record(t->client_fd, 1, begin, sizeof(begin));
    for (const struct fcgi_pair *kv = params; kv->name != NULL; kv++) {
        size_t nl = strlen(kv->name), vl = strlen(kv->value);
        if ((size_t)(p - buf) + nl + vl + 8 > 65000) {
            fcgi_record(t->client_fd, 4, buf, (size_t)(p - buf));
            p = buf;
        }
        fcgi_put_len(&p, nl);
        fcgi_put_len(&p, vl);
        memcpy(p, kv->name, nl);
        memcpy(p + nl, kv->value, vl);
        p += nl + vl;
    }
    if (p > buf)
        fcgi_record(t->client_fd, 4, buf, (size_t)(p - buf));
    fcgi_record(t->client_fd, 4, NULL, 0);
    for (size_t off = 0; off < send_len;) {
        size_t n = send_len - off > 32768 ? 32768 : send_len - off;
        fcgi_record(t->client_fd, 5, body + off, n);
        off += n;
    }
    fcgi_record(t->client_fd, 5, NULL, 0);
    /* After writing a response libfcgi's close waits up to 2 s for the
     * peer to close. nginx closes as soon as END_REQUEST arrives; a test
     * that reads only after FCGX_Finish_r ends its stream now instead. */
    shutdown(t->client_fd, SHUT_WR);
    free(buf);
}

/* After FCGX_Finish_r: the STDOUT stream (headers and body), NUL-terminated.
 * Returns its length. The connection is closed by the worker (no keep-conn);
 * the next request needs a new fcgi_test_reconnect(). */
static size_t fcgi_test_response(struct fcgi_test *t, char *out, size_t cap)
{
    unsigned char h[8];
    size_t used = 0;

    for (;;) {
        size_t len, pad;
        char chunk[65536 + 256];
        if (read(t->client_fd, h, 8) != 8)
            break;
        len = ((size_t)h[4] << 8) | h[5];
        pad = h[6];
        for (size_t got = 0; got < len + pad;) {
            ssize_t n = read(t->client_fd, chunk + got, len + pad - got);
            if (n <= 0)
                abort();
            got += (size_t)n;
        }
        if (h[1] == 6 && used + len < cap) { /* STDOUT */
            memcpy(out + used, chunk, len);
            used += len;
        }
        if (h[1] == 3) /* END_REQUEST */
            break;
    }
    out[used] = '\0';
    return used;
}

/* A fresh client connection for the next request. */
static int fcgi_test_reconnect(struct fcgi_test *t)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};

    close(t->client_fd);
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", t->path);
    t->client_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    return connect(t->client_fd, (struct sockaddr *)&a, sizeof(a));
}

static void fcgi_test_close(struct fcgi_test *t)
{
    FCGX_Free(&t->req, 1);
    close(t->client_fd);
    close(t->listen_fd);
    unlink(t->path);
}

/* Send one request on a fresh connection, serve it through app_serve() as
 * a worker would (accept, serve, finish, reset the request's memory) and
 * read the response into out[cap]. Returns out, or a message when the
 * request could not be accepted. */
static const char *fcgi_test_serve(struct fcgi_test *t, struct app *app,
                                   const struct fcgi_pair *params, const char *body,
                                   size_t send_len, char *out, size_t cap)
{
    fcgi_test_reconnect(t);
    fcgi_test_send(t, params, body, send_len);
    if (FCGX_Accept_r(&t->req) < 0)
        return "accept failed";
    app_serve(app, &t->req);
    FCGX_Finish_r(&t->req);
    app_after_request(app);
    fcgi_test_response(t, out, cap);
    return out;
}

#endif
