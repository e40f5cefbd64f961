/*
 * httpd_stub.h - a tiny HTTP/1.0 server on 127.0.0.1 for unit tests
 * (header-only, one background thread, one connection at a time).
 *
 *     struct stub s; stub_start(&s); stub_set_body(&s, "{...}");
 *     ... url "http://127.0.0.1:<s.port>/anything" ...
 *     stub_requests(&s); stub_stop(&s);
 *
 * Modes: STUB_OK answers 200 with the current body; STUB_ERROR answers 503;
 * STUB_SLOW waits `delay_ms` before answering 200; STUB_BIG answers 200 with
 * `big_len` bytes and no Content-Length (so only the client's write callback
 * can enforce a size cap). stub_set_status() changes the status STUB_OK
 * answers with (default 200). With stub_set_keepalive(s, 1) responses are
 * HTTP/1.1 and the connection stays open for the next request (one client
 * at a time); `connections` counts accepted connections. Every request is
 * counted, and the last one is recorded (method, path, header lines, body
 * up to STUB_BODY_MAX bytes):
 *
 *     struct stub_request *r = malloc(sizeof(*r)); stub_last_request(&s, r);
 *     stub_header(r, "Content-Type", value, sizeof(value)) -> occurrences
 */
#ifndef EASYSKS_HTTPD_STUB_H
#define EASYSKS_HTTPD_STUB_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum stub_mode { STUB_OK, STUB_ERROR, STUB_SLOW, STUB_BIG };

#define STUB_HEAD_MAX 4096
#define STUB_BODY_MAX 65536

struct stub_request {
    char method[16];
    char path[256];
    char headers[STUB_HEAD_MAX];  /* the header lines, each ending in CRLF */
    char body[STUB_BODY_MAX + 1]; /* NUL-terminated; may hold NUL bytes */
    size_t body_len;
};

struct stub {
    int fd;
    int port;
    int stop;
    pthread_t thread;
    pthread_mutex_t mu;
    enum stub_mode mode;
    char *body;
    long delay_ms;
    size_t big_len;
    unsigned long requests;
    struct stub_request *last; /* NULL until a request arrived */
    int status;                /* STUB_OK's status, 0 = 200 */
    int keepalive;
    unsigned long connections;
};

__attribute__((unused)) static void stub_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL); /* the client may have given up */
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Occurrences of header `name` (case-insensitive) in r; the first one's
 * value goes to out. */
__attribute__((unused)) static int stub_header(const struct stub_request *r, const char *name,
                                               char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    int found = 0;

    for (const char *p = r->headers; *p != '\0';) {
        const char *eol = strstr(p, "\r\n");
        size_t llen = eol != NULL ? (size_t)(eol - p) : strlen(p);
        if (llen > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            if (found++ == 0 && outlen > 0) {
                const char *v = p + nlen + 1 + strspn(p + nlen + 1, " \t");
                snprintf(out, outlen, "%.*s", (int)(llen - (size_t)(v - p)), v);
            }
        }
        p += llen + (eol != NULL ? 2 : 0);
    }
    if (found == 0 && outlen > 0)
        out[0] = '\0';
    return found;
}

/* Read the request: head, then Content-Length bytes of body (at most
 * STUB_BODY_MAX; libcurl sends Expect: 100-continue only above 1 MiB).
 * Fills *rq. */
__attribute__((unused)) static void stub_read_request(int c, struct stub_request *rq)
{
    char *buf = malloc(STUB_HEAD_MAX + STUB_BODY_MAX + 1), cl[32];
    size_t got = 0, head_len = 0, want = 0;
    const char *end = NULL, *line_end;

    memset(rq, 0, sizeof(*rq));
    if (buf == NULL)
        abort();
    while (got < STUB_HEAD_MAX) {
        ssize_t r = read(c, buf + got, STUB_HEAD_MAX - got);
        if (r <= 0)
            break;
        got += (size_t)r;
        buf[got] = '\0';
        if ((end = strstr(buf, "\r\n\r\n")) != NULL)
            break;
    }
    if (end == NULL) {
        free(buf);
        return;
    }
    head_len = (size_t)(end - buf) + 4;
    line_end = strstr(buf, "\r\n");
    sscanf(buf, "%15s %255s", rq->method, rq->path);
    snprintf(rq->headers, sizeof(rq->headers), "%.*s",
             (int)(head_len - 2 - (size_t)(line_end + 2 - buf)), line_end + 2);
    if (stub_header(rq, "Content-Length", cl, sizeof(cl)) > 0)
        want = strtoul(cl, NULL, 10);
    if (want > STUB_BODY_MAX)
        want = STUB_BODY_MAX;
    while (got - head_len < want) {
        ssize_t r = read(c, buf + got, head_len + want - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    rq->body_len = got - head_len < want ? got - head_len : want;
    memcpy(rq->body, buf + head_len, rq->body_len);
    rq->body[rq->body_len] = '\0';
    free(buf);
}

/* Serve one request on connection c. Returns 0 when the peer sent none. */
__attribute__((unused)) static int stub_serve_one(struct stub *s, int c)
{
    char head[256];
    enum stub_mode mode;
    char *body = NULL;
    size_t body_len = 0;
    long delay;
    int status, keepalive;
    struct stub_request *rq = malloc(sizeof(*rq));

    if (rq == NULL)
        abort();
    stub_read_request(c, rq);
    if (rq->method[0] == '\0') {
        free(rq);
        return 0;
    }
    pthread_mutex_lock(&s->mu);
    s->requests++;
    free(s->last);
    s->last = rq;
    mode = s->mode;
    delay = s->delay_ms;
    status = s->status != 0 ? s->status : 200;
    keepalive = s->keepalive;
    if (mode == STUB_BIG) {
        body_len = s->big_len;
        body = malloc(body_len + 1);
        memset(body, ' ', body_len);
    } else if (s->body != NULL) {
        body = strdup(s->body);
        body_len = strlen(body);
    }
    pthread_mutex_unlock(&s->mu);

    if (mode == STUB_SLOW) {
        struct timespec ts = {delay / 1000, (delay % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (mode == STUB_ERROR) {
        snprintf(head, sizeof(head),
                 "HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
        stub_write_all(c, head, strlen(head));
    } else if (mode == STUB_BIG) {
        snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n");
        stub_write_all(c, head, strlen(head));
        stub_write_all(c, body, body_len);
    } else {
        snprintf(head, sizeof(head),
                 "HTTP/1.%d %d Stub\r\nContent-Type: application/json\r\n"
                 "Content-Length: %zu\r\n\r\n",
                 keepalive ? 1 : 0, status, body_len);
        stub_write_all(c, head, strlen(head));
        if (body != NULL)
            stub_write_all(c, body, body_len);
    }
    free(body);
    return 1;
}

__attribute__((unused)) static void *stub_main(void *arg)
{
    struct stub *s = arg;

    for (;;) {
        struct pollfd pfd = {s->fd, POLLIN, 0};
        int stop, c;

        pthread_mutex_lock(&s->mu);
        stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            break;
        if (poll(&pfd, 1, 20) <= 0)
            continue;
        c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        pthread_mutex_lock(&s->mu);
        s->connections++;
        pthread_mutex_unlock(&s->mu);
        /* Keep-alive: serve until the client closes, the connection idles
         * for 500 ms (so a client that keeps it cached cannot block the
         * next one) or the stub stops. */
        while (stub_serve_one(s, c)) {
            struct pollfd cp = {c, POLLIN, 0};
            int more;
            pthread_mutex_lock(&s->mu);
            more = s->keepalive && !s->stop;
            pthread_mutex_unlock(&s->mu);
            if (!more || poll(&cp, 1, 500) <= 0)
                break;
        }
        close(c);
    }
    return NULL;
}

__attribute__((unused)) static int stub_start(struct stub *s)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);

    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(s->fd, 16) != 0 ||
        getsockname(s->fd, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    s->port = ntohs(sa.sin_port);
    return pthread_create(&s->thread, NULL, stub_main, s) == 0 ? 0 : -1;
}

__attribute__((unused)) static void stub_stop(struct stub *s)
{
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    close(s->fd);
    free(s->body);
    free(s->last);
    pthread_mutex_destroy(&s->mu);
}

__attribute__((unused)) static void stub_set_body(struct stub *s, const char *body)
{
    pthread_mutex_lock(&s->mu);
    free(s->body);
    s->body = body != NULL ? strdup(body) : NULL;
    pthread_mutex_unlock(&s->mu);
}

__attribute__((unused)) static void stub_set_mode(struct stub *s, enum stub_mode mode)
{
    pthread_mutex_lock(&s->mu);
    s->mode = mode;
    pthread_mutex_unlock(&s->mu);
}

__attribute__((unused)) static void stub_set_status(struct stub *s, int status)
{
    pthread_mutex_lock(&s->mu);
    s->status = status;
    pthread_mutex_unlock(&s->mu);
}

__attribute__((unused)) static void stub_set_keepalive(struct stub *s, int on)
{
    pthread_mutex_lock(&s->mu);
    s->keepalive = on;
    pthread_mutex_unlock(&s->mu);
}

__attribute__((unused)) static unsigned long stub_connections(struct stub *s)
{
    unsigned long n;
    pthread_mutex_lock(&s->mu);
    n = s->connections;
    pthread_mutex_unlock(&s->mu);
    return n;
}

__attribute__((unused)) static unsigned long stub_requests(struct stub *s)
{
    unsigned long n;
    pthread_mutex_lock(&s->mu);
    n = s->requests;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Copy the last request into *out; 0, or -1 when none arrived yet. */
__attribute__((unused)) static int stub_last_request(struct stub *s, struct stub_request *out)
{
    int rc = -1;
    pthread_mutex_lock(&s->mu);
    if (s->last != NULL) {
        memcpy(out, s->last, sizeof(*out));
        rc = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

#endif
