#include "pool/master.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "pool/scoreboard.h"
#include "pool/worker.h"

#define TICK_MS 100
#define BACKOFF_MAX_MS 30000
#define QUICK_EXIT_MS 2000 /* a worker dying sooner than this counts as a crash loop */

struct child {
    pid_t pid;           /* 0 = slot free */
    unsigned generation; /* config generation the worker was started with */
    int retiring;        /* told to quit (reload, shrink, stop) */
    long long started_ms;
};

struct master {
    struct config *cfg;
    int listen_fd;
    struct listener sock; /* what we bound: a reload may change cfg->listen_path */
    struct scoreboard *board;
    struct child children[SCOREBOARD_SLOTS];
    int target; /* wanted number of active workers */
    unsigned generation;
    int stopping;
    long long stop_deadline_ms;
    pid_t pid;
    unsigned crash_streak; /* quick worker deaths in a row */
    long long last_crash_ms;
    long long next_spawn_ms; /* backoff: no spawn before this */
};

static const char *itoa_buf(long long v, char *buf, size_t len)
{
    snprintf(buf, len, "%lld", v);
    return buf;
}

int master_listen(const struct config *cfg, struct listener *out, char *errbuf, size_t errlen)
{
    struct sockaddr_un addr;
    struct stat st;
    int fd, probe;
    mode_t old_umask;

    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", cfg->listen_path);

    /* A live listener on the path means another pool owns it. */
    probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0) {
        if (connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
            close(probe);
            snprintf(errbuf, errlen, "EASYSKS_LISTEN: %s is in use by another running pool",
                     cfg->listen_path);
            return -1;
        }
        close(probe);
    }
    /* Only a stale socket may be removed, never a file someone put there. */
    if (lstat(cfg->listen_path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
        snprintf(errbuf, errlen, "EASYSKS_LISTEN: %s exists and is not a socket; not removing it",
                 cfg->listen_path);
        return -1;
    }
    if (unlink(cfg->listen_path) < 0 && errno != ENOENT) {
        snprintf(errbuf, errlen, "EASYSKS_LISTEN: cannot remove stale %s: %s", cfg->listen_path,
                 strerror(errno));
        return -1;
    }

    /* Non-blocking: workers wait in epoll and may lose the race to accept(). */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(errbuf, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    /* Create the file owner-only, then widen to the configured mode: there is
     * no moment at which others could connect. */
    old_umask = umask(0177);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        umask(old_umask);
        snprintf(errbuf, errlen, "EASYSKS_LISTEN: bind %s: %s", cfg->listen_path, strerror(errno));
        close(fd);
        return -1;
    }
    umask(old_umask);
    if (cfg->socket_group != NULL) {
        struct group *g = getgrnam(cfg->socket_group);
        if (g == NULL || chown(cfg->listen_path, (uid_t)-1, g->gr_gid) < 0) {
            snprintf(errbuf, errlen, "EASYSKS_SOCKET_GROUP: cannot give %s to group %s",
                     cfg->listen_path, cfg->socket_group);
            close(fd);
            unlink(cfg->listen_path);
            return -1;
        }
    }
    if (chmod(cfg->listen_path, cfg->socket_mode) < 0 || listen(fd, SOMAXCONN) < 0 ||
        stat(cfg->listen_path, &st) < 0) {
        snprintf(errbuf, errlen, "EASYSKS_LISTEN: %s: %s", cfg->listen_path, strerror(errno));
        close(fd);
        unlink(cfg->listen_path);
        return -1;
    }
    out->fd = fd;
    snprintf(out->path, sizeof(out->path), "%s", cfg->listen_path);
    out->dev = st.st_dev;
    out->ino = st.st_ino;
    return fd;
}

/* Remove the socket we bound, unless something else now sits at its path
 * (another pool took it over, or an operator replaced it). */
static void unlink_listener(const struct listener *l)
{
    struct stat st;

    if (lstat(l->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == l->dev &&
        st.st_ino == l->ino)
        unlink(l->path);
    else
        log_warn("listen path no longer holds our socket; leaving it", "path", l->path, NULL);
}

static int count_active(const struct master *m, int *old_active, int *starting)
{
    int active = 0;
    *old_active = 0;
    *starting = 0;
    for (int i = 0; i < SCOREBOARD_SLOTS; i++) {
        const struct child *c = &m->children[i];
        if (c->pid == 0 || c->retiring)
            continue;
        active++;
        if (c->generation != m->generation)
            (*old_active)++;
        if (atomic_load(&m->board->slots[i].state) == SLOT_STARTING)
            (*starting)++;
    }
    return active;
}

static int count_alive(const struct master *m)
{
    int n = 0;
    for (int i = 0; i < SCOREBOARD_SLOTS; i++)
        n += m->children[i].pid != 0;
    return n;
}

static void spawn(struct master *m)
{
    char pidbuf[24], slotbuf[24];
    int slot = -1;
    pid_t pid;

    for (int i = 0; i < SCOREBOARD_SLOTS; i++) {
        if (m->children[i].pid == 0) {
            slot = i;
            break;
        }
    }
    if (slot < 0) {
        log_error("no free scoreboard slot; not starting a worker", NULL);
        return;
    }
    struct slot *s = &m->board->slots[slot];
    atomic_store(&s->state, SLOT_STARTING);
    atomic_store(&s->requests, 0);
    atomic_store(&s->ai_call, 0);

    pid = fork();
    if (pid < 0) {
        atomic_store(&s->state, SLOT_FREE);
        log_error("fork failed", "error", strerror(errno), NULL);
        m->next_spawn_ms = scoreboard_now_ms() + 1000;
        return;
    }
    if (pid == 0) {
        atomic_store(&s->pid, getpid());
        worker_main(m->cfg, m->listen_fd, m->board, slot, m->pid);
    }
    atomic_store(&s->pid, pid);
    m->children[slot] = (struct child){
        .pid = pid, .generation = m->generation, .retiring = 0, .started_ms = scoreboard_now_ms()};
    log_info("worker started", "worker_pid", itoa_buf(pid, pidbuf, sizeof(pidbuf)), "slot",
             itoa_buf(slot, slotbuf, sizeof(slotbuf)), NULL);
}

static void retire(struct master *m, int slot, const char *why)
{
    char pidbuf[24];
    struct child *c = &m->children[slot];
    if (c->pid == 0 || c->retiring)
        return;
    c->retiring = 1;
    kill(c->pid, SIGQUIT);
    log_info("worker retiring", "worker_pid", itoa_buf(c->pid, pidbuf, sizeof(pidbuf)), "reason",
             why, NULL);
}

/* The oldest active worker, preferring ones from an older generation. */
static int oldest_active(const struct master *m)
{
    int best = -1;
    for (int i = 0; i < SCOREBOARD_SLOTS; i++) {
        const struct child *c = &m->children[i];
        if (c->pid == 0 || c->retiring)
            continue;
        if (best < 0)
            best = i;
        else {
            const struct child *b = &m->children[best];
            int c_old = c->generation != m->generation, b_old = b->generation != m->generation;
            if (c_old > b_old || (c_old == b_old && c->started_ms < b->started_ms))
                best = i;
        }
    }
    return best;
}

/* A worker died young: the next spawn waits 0.1 s, doubling per crash in a
 * row up to BACKOFF_MAX_MS. */
static void backoff(struct master *m)
{
    long long delay = 100LL << (m->crash_streak < 9u ? m->crash_streak : 9u);

    if (delay > BACKOFF_MAX_MS)
        delay = BACKOFF_MAX_MS;
    m->crash_streak++;
    m->last_crash_ms = scoreboard_now_ms();
    m->next_spawn_ms = m->last_crash_ms + delay;
}

static void reap(struct master *m)
{
    int status;
    pid_t pid;
    char pidbuf[24], code[24];

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < SCOREBOARD_SLOTS; i++) {
            struct child *c = &m->children[i];
            if (c->pid != pid)
                continue;
            long long lived = scoreboard_now_ms() - c->started_ms;
            int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            itoa_buf(pid, pidbuf, sizeof(pidbuf));
            if (WIFSIGNALED(status))
                snprintf(code, sizeof(code), "signal %d", WTERMSIG(status));
            else
                snprintf(code, sizeof(code), "exit %d", WEXITSTATUS(status));
            if (c->retiring || (clean && !m->stopping)) {
                /* Retired, or recycled after its request budget. */
                log_info("worker exited", "worker_pid", pidbuf, "status", code, NULL);
            } else if (!m->stopping) {
                atomic_fetch_add(&m->board->respawned, 1);
                if (lived < QUICK_EXIT_MS)
                    backoff(m);
                else
                    m->crash_streak = 0;
                log_error("worker died unexpectedly; respawning", "worker_pid", pidbuf, "status",
                          code, NULL);
            }
            c->pid = 0;
            atomic_store(&m->board->slots[i].state, SLOT_FREE);
            atomic_store(&m->board->slots[i].pid, 0);
            atomic_store(&m->board->slots[i].ai_call, 0);
            break;
        }
    }
}

/* Kill workers that have been busy with one request past the deadline, and
 * workers that did not finish starting in time (a hung start must not stall
 * a rolling reload, which waits for the new worker before retiring an old
 * one); the latter count as crashes, so a start that always hangs backs off. */
static void enforce_deadline(struct master *m)
{
    long long now = scoreboard_now_ms(), limit = (long long)m->cfg->request_timeout_s * 1000;
    long long start_limit = (long long)m->cfg->start_timeout_s * 1000;
    char pidbuf[24], ms[24];

    for (int i = 0; i < SCOREBOARD_SLOTS; i++) {
        struct child *c = &m->children[i];
        struct slot *s = &m->board->slots[i];
        if (c->pid == 0)
            continue;
        if (!c->retiring && atomic_load(&s->state) == SLOT_STARTING &&
            now - c->started_ms > start_limit) {
            kill(c->pid, SIGKILL);
            c->retiring = 1;
            atomic_store(&s->state, SLOT_EXITING);
            atomic_fetch_add(&m->board->respawned, 1);
            backoff(m);
            log_error("worker killed: not ready within EASYSKS_START_TIMEOUT", "worker_pid",
                      itoa_buf(c->pid, pidbuf, sizeof(pidbuf)), "starting_ms",
                      itoa_buf(now - c->started_ms, ms, sizeof(ms)), NULL);
            continue;
        }
        if (atomic_load(&s->state) != SLOT_BUSY)
            continue;
        long long busy = now - atomic_load(&s->busy_since_ms);
        if (busy <= limit)
            continue;
        kill(c->pid, SIGKILL);
        c->retiring = 1; /* its replacement is started by the normal top-up */
        atomic_store(&s->state, SLOT_EXITING);
        atomic_fetch_add(&m->board->killed, 1);
        log_error("worker killed: request exceeded EASYSKS_REQUEST_TIMEOUT", "worker_pid",
                  itoa_buf(c->pid, pidbuf, sizeof(pidbuf)), "busy_ms",
                  itoa_buf(busy, ms, sizeof(ms)), NULL);
    }
}

static void maintain(struct master *m)
{
    int old_active, starting;
    int active = count_active(m, &old_active, &starting);
    long long now = scoreboard_now_ms();

    if (m->stopping)
        return;
    /* A quiet minute ends a crash loop: fill the pool at full speed again. */
    if (m->crash_streak > 0 && now - m->last_crash_ms > 60000)
        m->crash_streak = 0;

    /* Rolling replacement after a reload: start one new worker, wait until it
     * is accepting, retire one old worker, repeat. */
    if (old_active > 0) {
        if (starting > 0)
            return;
        if (active > m->target) {
            int victim = oldest_active(m);
            if (victim >= 0)
                retire(m, victim, "reload");
            return;
        }
        if (now >= m->next_spawn_ms)
            spawn(m);
        return;
    }

    while (active > m->target) {
        int victim = oldest_active(m);
        if (victim < 0)
            break;
        retire(m, victim, "pool shrunk");
        active--;
    }
    if (active < m->target && now >= m->next_spawn_ms) {
        /* During a crash loop start one at a time, otherwise fill up. */
        int n = m->crash_streak > 0 ? 1 : m->target - active;
        for (int i = 0; i < n; i++)
            spawn(m);
    }
}

static void begin_stop(struct master *m, int sig)
{
    char signame[16];
    if (m->stopping)
        return;
    m->stopping = 1;
    m->stop_deadline_ms = scoreboard_now_ms() + (long long)m->cfg->graceful_timeout_s * 1000;
    log_info("stopping gracefully", "signal", itoa_buf(sig, signame, sizeof(signame)), NULL);
    /* New connections are refused at once from here on (nginx tries its next
     * upstream or answers 502) instead of queueing for workers that leave. */
    close(m->listen_fd);
    m->listen_fd = -1;
    unlink_listener(&m->sock);
    for (int i = 0; i < SCOREBOARD_SLOTS; i++)
        if (m->children[i].pid != 0) {
            m->children[i].retiring = 1;
            kill(m->children[i].pid, SIGQUIT);
        }
}

/* A bound on synchronous AI calls that is no bound (docs/ai.md). */
static void warn_ai_slots(const struct config *c)
{
    char n[16];

    if (c->openai_api_key != NULL && c->ai_sync_slots >= c->workers)
        log_warn(
            "AI_SYNC_SLOTS is not below EASYSKS_WORKERS: a slow AI model can hold every worker",
            "ai_sync_slots", itoa_buf(c->ai_sync_slots, n, sizeof(n)), NULL);
}

static void reload(struct master *m)
{
    struct config next;
    char errbuf[512], n[16];

    if (config_load(&next, errbuf, sizeof(errbuf)) < 0) {
        log_error("reload refused: invalid configuration; keeping the running one", "error", errbuf,
                  NULL);
        return;
    }
    if (strcmp(next.listen_path, m->cfg->listen_path) != 0)
        log_warn("EASYSKS_LISTEN changed; the socket stays until a restart", NULL);
    config_cleanup(m->cfg);
    *m->cfg = next;
    log_set_level(m->cfg->log_level);
    m->target = m->cfg->workers;
    atomic_store(&m->board->target, m->target);
    atomic_fetch_add(&m->board->reloads, 1);
    m->generation++;
    m->crash_streak = 0;
    m->next_spawn_ms = 0;
    log_info("reloading: replacing workers one at a time", "workers",
             itoa_buf(m->target, n, sizeof(n)), NULL);
    warn_ai_slots(m->cfg);
}

static void write_pidfile(const char *path)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "we");
    if (f == NULL) {
        log_warn("cannot write pid file", "path", path, "error", strerror(errno), NULL);
        return;
    }
    fprintf(f, "%ld\n", (long)getpid());
    fclose(f);
    rename(tmp, path);
}

int master_run(struct config *cfg, const struct listener *sock, const char *pidfile)
{
    static struct master m; /* large (slot table); keep it off the stack */
    sigset_t set;
    siginfo_t info;
    char n[16];

    memset(&m, 0, sizeof(m));
    m.cfg = cfg;
    m.sock = *sock;
    m.listen_fd = sock->fd;
    m.pid = getpid();
    m.target = cfg->workers;
    m.board =
        mmap(NULL, sizeof(*m.board), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m.board == MAP_FAILED) {
        log_error("cannot map the scoreboard", "error", strerror(errno), NULL);
        return 1;
    }
    memset(m.board, 0, sizeof(*m.board));
    atomic_store(&m.board->target, m.target);
    atomic_store(&m.board->started_ms, scoreboard_now_ms());

    /* All signals are taken synchronously with sigtimedwait(): no handler
     * races, and children inherit the mask (they reset it). */
    sigemptyset(&set);
    int sigs[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGTTIN, SIGTTOU, SIGCHLD, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaddset(&set, sigs[i]);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (pidfile != NULL)
        write_pidfile(pidfile);
    log_info("pool started", "listen", cfg->listen_path, "workers",
             itoa_buf(m.target, n, sizeof(n)), "env", config_env_name(cfg->env), NULL);
    warn_ai_slots(cfg);

    for (;;) {
        struct timespec ts = {0, TICK_MS * 1000000L};
        int sig = sigtimedwait(&set, &info, &ts);

        switch (sig) {
        case SIGTERM:
        case SIGINT:
        case SIGQUIT:
            begin_stop(&m, sig);
            break;
        case SIGHUP:
            if (!m.stopping)
                reload(&m);
            break;
        case SIGTTIN:
            if (!m.stopping && m.target < CONFIG_MAX_WORKERS) {
                m.target++;
                atomic_store(&m.board->target, m.target);
                log_info("pool grown", "workers", itoa_buf(m.target, n, sizeof(n)), NULL);
            }
            break;
        case SIGTTOU:
            if (!m.stopping && m.target > 1) {
                m.target--;
                atomic_store(&m.board->target, m.target);
                log_info("pool shrunk", "workers", itoa_buf(m.target, n, sizeof(n)), NULL);
            }
            break;
        default: /* SIGCHLD, timeout, USR1/USR2 (stderr is reopened by the supervisor) */
            break;
        }

        reap(&m);
        enforce_deadline(&m);
        maintain(&m);

        if (m.stopping) {
            if (count_alive(&m) == 0)
                break;
            if (scoreboard_now_ms() > m.stop_deadline_ms) {
                log_warn("graceful stop timed out; killing remaining workers", NULL);
                for (int i = 0; i < SCOREBOARD_SLOTS; i++)
                    if (m.children[i].pid != 0)
                        kill(m.children[i].pid, SIGKILL);
                m.stop_deadline_ms = scoreboard_now_ms() + 60000;
            }
        }
    }

    if (pidfile != NULL)
        unlink(pidfile);
    log_info("pool stopped", NULL);
    return 0;
}
