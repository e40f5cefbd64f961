/*
 * The worker's accept loop and its shutdown.
 *
 * libfcgi installs its handlers without SA_RESTART and never retries a
 * read/write after EINTR, so a signal arriving mid-request could break the
 * response. We install our own SA_RESTART handlers after FCGX_Init and quit
 * the way php-fpm children do: the handler sets a flag and dup2()s a fresh,
 * unbound socket over the listening descriptor. An idle worker blocked in
 * accept() gets EINVAL at once and leaves; a busy one finishes its request,
 * then fails the next accept. The master keeps the real listening socket
 * open, so queued connections go to the remaining or replacement workers.
 */
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcgiapp.h>
#include <openssl/rand.h>

#include "auth_glue.h"
#include "handlers.h"
#include "log.h"
#include "request.h"

static volatile sig_atomic_t quit_requested;
static int listen_fd_for_signal = -1;

static void on_quit(int sig)
{
    int saved = errno, fd;

    (void)sig;
    quit_requested = 1;
    FCGX_ShutdownPending();
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd >= 0) {
        dup2(fd, listen_fd_for_signal);
        close(fd);
    }
    errno = saved;
}

static void install_signals(void)
{
    struct sigaction sa;
    sigset_t none;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_quit;
    sa.sa_flags = SA_RESTART;
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

    /* The master blocks these around fork(); the worker takes them again. */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
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

    snprintf(status, sizeof(status), "%d", r.status);
    snprintf(ms, sizeof(ms), "%lld", scoreboard_now_ms() - t0);
    log_debug("request", "method", r.method, "path", r.path, "status", status, "duration_ms", ms,
              NULL);
}

void worker_main(const struct config *cfg, int listen_fd, struct scoreboard *board, int slot_index)
{
    struct worker w;
    FCGX_Request fr;
    struct err e = {0};
    char served[24];

    log_set_process("worker");
    prctl(PR_SET_PDEATHSIG, SIGQUIT); /* an orphaned worker drains and leaves */
    if (FCGX_Init() != 0) {
        log_error("FCGX_Init failed", NULL);
        _exit(1);
    }
    listen_fd_for_signal = listen_fd;
    install_signals();
    if (getppid() == 1)
        quit_requested = 1;

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
        if (FCGX_Accept_r(&fr) < 0)
            break;
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
    _exit(0);
}
