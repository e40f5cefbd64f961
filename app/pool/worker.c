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
#include "pool/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <fcgiapp.h>

#include "http/serve.h"
#include "core/log.h"

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

/* A quit signal that arrived while the worker was busy, or while the
 * listening socket was already readable: epoll_pwait() returns the ready
 * event without delivering a pending signal (it restores the mask unless
 * it fails with EINTR), so under a backlog that never empties the handler
 * would never run and the worker would never leave. */
static int quit_pending(void)
{
    sigset_t pending;

    return sigpending(&pending) == 0 &&
           (sigismember(&pending, SIGQUIT) == 1 || sigismember(&pending, SIGTERM) == 1);
}

/* The request budget plus up to 10 % more, different in every worker, so
 * workers started together (a reload, a fresh pool) are not all recycled in
 * the same second. 0 stays "no budget". */
static unsigned long request_budget(int max_requests)
{
    unsigned long budget = (unsigned long)max_requests;
    unsigned seed = (unsigned)getpid() ^ (unsigned)scoreboard_now_ms();

    if (budget == 0)
        return 0;
    return budget + (unsigned long)rand_r(&seed) % (budget / 10 + 1);
}

void worker_main(const struct config *cfg, int listen_fd, struct scoreboard *board, int slot_index,
                 pid_t master)
{
    struct slot *slot = &board->slots[slot_index];
    struct app *app;
    FCGX_Request fr;
    struct epoll_event ev;
    sigset_t wait_mask;
    char served_s[24];
    unsigned long served = 0, budget = request_budget(cfg->max_requests);
    int epfd, rc, status = WORKER_EXIT_OK;

    log_set_process("worker");
    prctl(PR_SET_PDEATHSIG, SIGQUIT); /* an orphaned worker drains and leaves */
    if (FCGX_Init() != 0) {
        log_error("FCGX_Init failed", NULL);
        _exit(WORKER_EXIT_FAILURE);
    }
    install_signals(&wait_mask);
    /* The master may have died between fork() and prctl(). */
    if (getppid() != master)
        quit_requested = 1;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.fd = listen_fd;
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev) < 0) {
        log_error("epoll setup failed", "error", strerror(errno), NULL);
        _exit(WORKER_EXIT_FAILURE);
    }
    if (FCGX_InitRequest(&fr, listen_fd, 0) != 0) {
        log_error("FCGX_InitRequest failed", NULL);
        _exit(WORKER_EXIT_FAILURE);
    }

    app = app_new(cfg, board, slot_index);
    atomic_store(&slot->state, SLOT_IDLE);

    while (!quit_requested && !quit_pending()) {
        /* The only place the quit signals are delivered (and see above). */
        if (epoll_pwait(epfd, &ev, 1, -1, &wait_mask) < 0) {
            if (errno == EINTR)
                continue;
            log_error("epoll_pwait failed", "error", strerror(errno), NULL);
            status = WORKER_EXIT_FAILURE;
            break;
        }
        rc = FCGX_Accept_r(&fr);
        if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -ECONNABORTED)
            continue; /* another worker took the connection */
        if (rc < 0) {
            /* e.g. EMFILE: leave with a failure status, so the master
             * counts a crash and backs off instead of respawning a worker
             * that fails the same way every tick. */
            log_error("FCGX_Accept_r failed", "error", strerror(-rc), NULL);
            status = WORKER_EXIT_FAILURE;
            break;
        }
        atomic_store(&slot->busy_since_ms, scoreboard_now_ms());
        atomic_store(&slot->state, SLOT_BUSY);

        app_serve(app, &fr);
        FCGX_Finish_r(&fr);
        app_after_request(app);

        served++;
        atomic_fetch_add(&slot->requests, 1);
        atomic_fetch_add(&board->accepted, 1);
        atomic_store(&slot->state, SLOT_IDLE);

        if (budget > 0 && served >= budget) {
            log_info("request budget reached, recycling", NULL);
            break;
        }
    }
    atomic_store(&slot->state, SLOT_EXITING);
    snprintf(served_s, sizeof(served_s), "%lu", served);
    log_debug("worker exiting", "served", served_s, NULL);
    app_free(app);
    close(epfd);
    _exit(status);
}
