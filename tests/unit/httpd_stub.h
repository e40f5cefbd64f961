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
 * can enforce a size cap). Every request is counted.
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum stub_mode { STUB_OK, STUB_ERROR, STUB_SLOW, STUB_BIG };

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

__attribute__((unused)) static void stub_serve_one(struct stub *s, int c)
{
    char req[4096], head[256];
    size_t got = 0;
    enum stub_mode mode;
    char *body = NULL;
    size_t body_len = 0;
    long delay;

    /* Read the request head; the stub ignores the path and any body. */
    while (got < sizeof(req) - 1) {
        ssize_t r = read(c, req + got, sizeof(req) - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
        req[got] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL)
            break;
    }
    pthread_mutex_lock(&s->mu);
    s->requests++;
    mode = s->mode;
    delay = s->delay_ms;
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
                 "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"
                 "Content-Length: %zu\r\n\r\n",
                 body_len);
        stub_write_all(c, head, strlen(head));
        if (body != NULL)
            stub_write_all(c, body, body_len);
    }
    free(body);
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
        stub_serve_one(s, c);
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

__attribute__((unused)) static unsigned long stub_requests(struct stub *s)
{
    unsigned long n;
    pthread_mutex_lock(&s->mu);
    n = s->requests;
    pthread_mutex_unlock(&s->mu);
    return n;
}

#endif
