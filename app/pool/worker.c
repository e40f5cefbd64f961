/*
 * The worker's accept loop and its shutdown.
 *
 * libfcgi must never see a signal: it installs its handlers without
 * SA_RESTART, never retries a read or write after EINTR, and right after
 * accept() it poll()s the new connection for up to 2 s, where a signal makes
 * it close the connection nginx just opened (nginx logs a broken pipe and
 * answers 502) and, with FCGX_ShutdownPending() set, spin on that closed
 * descriptor. So the quit signals (QUIT from the master, TERM, and QUIT again
 * as the parent-death signal) stay blocked except while the worker waits in
 * epoll_pwait() for the listening socket to become readable; that call
 * unblocks them atomically. An idle worker therefore leaves at once, a busy
 * one finishes its request and leaves when it comes back to wait.
 *
 * The listening socket is non-blocking (set by the master) and registered
 * with EPOLLEXCLUSIVE, so one idle worker is woken per connection; a worker
 * that loses the race to accept() gets EAGAIN and waits again. The master
 * keeps the socket open, so connections queue while workers are replaced.
 */
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <fcgiapp.h>
#include <openssl/rand.h>

#include "auth_glue.h"
#include "handlers.h"
#include "log.h"
#include "request.h"

static volatile sig_atomic_t quit_requested;

static void on_quit(int sig)
{
    (void)sig;
    quit_requested = 1;
}

/* Install the worker's handlers; on return the quit signals are blocked and
 * *wait_mask is the mask to wait with (the same, with them unblocked). */
static void install_signals(sigset_t *wait_mask)
{
    struct sigaction sa;
    sigset_t quit;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_quit;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGQUIT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL); /* a vanished client shows up as a failed write */
    sigaction(SIGINT, &sa, NULL);  /* ^C at a terminal is the master's business */
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL); /* libfcgi's own USR1 handler would end the loop */
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIGTTIN, &sa, NULL);
    sigaction(SIGTTOU, &sa, NULL);

    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);

    /* The master blocks its signals around fork(); keep only QUIT and TERM
     * blocked, and let the wait unblock those. */
    sigemptyset(&quit);
    sigaddset(&quit, SIGQUIT);
    sigaddset(&quit, SIGTERM);
    sigprocmask(SIG_SETMASK, &quit, NULL);
    sigemptyset(wait_mask);
}

static const char *make_request_id(struct request *r)
{
    const char *id = request_param(r, "REQUEST_ID");
    unsigned char raw[16];
    static const char hex[] = "0123456789abcdef";
    char *out;

    if (id != NULL && *id != '\0' && strlen(id) <= 64 &&
        strspn(id, "0123456789abcdefABCDEF-") == strlen(id))
        return id;
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        abort();
    out = arena_alloc(r->arena, 33);
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 0xf];
    }
    out[32] = '\0';
    return out;
}

static void serve(struct worker *w, FCGX_Request *fr)
{
    struct request r;
    const struct route *route = NULL;
    char allow[64], hdr[96];
    long long t0 = scoreboard_now_ms();
    char status[8], ms[24];

    memset(&r, 0, sizeof(r));
    r.fcgi = fr;
    r.worker = w;
    r.arena = &w->arena;
    r.method = request_param(&r, "REQUEST_METHOD");
    r.path = request_param(&r, "PATH_INFO");
    r.query = request_param(&r, "QUERY_STRING");
    if (r.method == NULL)
        r.method = "GET";
    if (r.path == NULL || *r.path == '\0')
        r.path = "/";
    if (r.query == NULL)
        r.query = "";
    r.request_id = make_request_id(&r);
    log_set_request_id(r.request_id);

    /* Refuse oversized bodies before routing, whatever the endpoint. */
    const char *cl = request_param(&r, "CONTENT_LENGTH");
    if (cl != NULL && *cl != '\0' && strtoull(cl, NULL, 10) > w->cfg->max_body_bytes) {
        request_fail(&r, 413, "payload_too_large", "request body is too large", NULL);
        goto done;
    }

    switch (router_match(app_routes, &r, &route, allow, sizeof(allow))) {
    case ROUTER_NOT_FOUND:
        request_fail(&r, 404, "not_found", "no such endpoint", NULL);
        break;
    case ROUTER_BAD_METHOD:
        snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", allow);
        request_fail(&r, 405, "method_not_allowed", "method not allowed for this endpoint", hdr);
        break;
    case ROUTER_FOUND:
        if ((route->flags & ROUTE_PUBLIC) || auth_glue_authenticate(&r) == 0)
            route->handler(&r);
        break;
    }
done:
    if (!r.responded)
        request_fail(&r, 500, "internal_error", "the handler sent no response", NULL);

    long long took = scoreboard_now_ms() - t0;
    snprintf(status, sizeof(status), "%d", r.status);
    snprintf(ms, sizeof(ms), "%lld", took);
    /* nginx logs every request; the pool adds the slow ones (php-fpm's slowlog). */
    if (w->cfg->slow_request_ms > 0 && took >= w->cfg->slow_request_ms)
        log_warn("slow request", "method", r.method, "path", r.path, "status", status,
                 "duration_ms", ms, NULL);
    else
        log_debug("request", "method", r.method, "path", r.path, "status", status, "duration_ms",
                  ms, NULL);
}

void worker_main(const struct config *cfg, int listen_fd, struct scoreboard *board, int slot_index)
{
    struct worker w;
    FCGX_Request fr;
    struct err e = {0};
    struct epoll_event ev;
    sigset_t wait_mask;
    char served[24];
    int epfd, rc;

    log_set_process("worker");
    prctl(PR_SET_PDEATHSIG, SIGQUIT); /* an orphaned worker drains and leaves */
    if (FCGX_Init() != 0) {
        log_error("FCGX_Init failed", NULL);
        _exit(1);
    }
    install_signals(&wait_mask);
    if (getppid() == 1)
        quit_requested = 1;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.fd = listen_fd;
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev) < 0) {
        log_error("epoll setup failed", "error", strerror(errno), NULL);
        _exit(1);
    }

    memset(&w, 0, sizeof(w));
    w.cfg = cfg;
    w.board = board;
    w.slot = &board->slots[slot_index];
    arena_init(&w.arena, 16384);
    w.db = db_new(cfg->database_url, cfg->db_statement_timeout_ms);
    if (db_ensure(w.db, &e) < 0)
        log_warn("worker starting without a database connection", "code", e.code, NULL);
    auth_glue_init(&w);

    if (FCGX_InitRequest(&fr, listen_fd, 0) != 0) {
        log_error("FCGX_InitRequest failed", NULL);
        _exit(1);
    }
    atomic_store(&w.slot->state, SLOT_IDLE);

    while (!quit_requested) {
        /* The only place the quit signals are delivered. */
        if (epoll_pwait(epfd, &ev, 1, -1, &wait_mask) < 0) {
            if (errno == EINTR)
                continue;
            log_error("epoll_pwait failed", "error", strerror(errno), NULL);
            break;
        }
        rc = FCGX_Accept_r(&fr);
        if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -ECONNABORTED)
            continue; /* another worker took the connection */
        if (rc < 0) {
            log_error("FCGX_Accept_r failed", "error", strerror(-rc), NULL);
            break;
        }
        atomic_store(&w.slot->busy_since_ms, scoreboard_now_ms());
        atomic_store(&w.slot->state, SLOT_BUSY);

        serve(&w, &fr);
        FCGX_Finish_r(&fr);

        db_request_done(w.db);
        arena_reset(&w.arena);
        log_set_request_id(NULL);
        log_set_user(NULL);
        w.served++;
        atomic_fetch_add(&w.slot->requests, 1);
        atomic_fetch_add(&board->accepted, 1);
        atomic_store(&w.slot->state, SLOT_IDLE);

        if (cfg->max_requests > 0 && w.served >= (unsigned long)cfg->max_requests) {
            log_info("request budget reached, recycling", NULL);
            break;
        }
    }
    atomic_store(&w.slot->state, SLOT_EXITING);
    snprintf(served, sizeof(served), "%lu", w.served);
    log_debug("worker exiting", "served", served, NULL);
    auth_glue_cleanup(&w);
    db_free(w.db);
    arena_cleanup(&w.arena);
    close(epfd);
    _exit(0);
}
