#!/usr/bin/env bash
# Shared shell functions for the local stack (`make run`), the integration
# tests and the staging rehearsal. Source it; every function takes its state
# directory explicitly so several stacks can run side by side.
# shellcheck disable=SC2034 # variables here are used by the scripts sourcing this file

EASYSKS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BIN=${PG_BIN:-$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n1)}
PG_SYSTEM_USER=${PG_SYSTEM_USER:-postgres}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}

die() {
    echo "error: $*" >&2
    exit 1
}

# Run a command as the unprivileged PostgreSQL user when we are root
# (PostgreSQL refuses to run as root), as ourselves otherwise.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        # From / : the caller's directory may be closed to that user.
        (cd / && runuser -u "$PG_SYSTEM_USER" -- "$@")
    else
        "$@"
    fi
}

# A free TCP port on 127.0.0.1 (the kernel picks; racy only against other pickers).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for TIMEOUT_SECONDS DESCRIPTION COMMAND...
wait_for() {
    local timeout=$1 what=$2 i
    shift 2
    for ((i = 0; i < timeout * 10; i++)); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    echo "timed out after ${timeout}s waiting for $what" >&2
    return 1
}

# stop_pid PID SIGNAL TIMEOUT_SECONDS: send SIGNAL, wait for the process to
# exit, SIGKILL it when it outlives the timeout. A pid already gone is fine.
stop_pid() {
    local pid=$1 sig=$2 timeout=$3
    kill "-$sig" "$pid" 2>/dev/null || return 0
    wait_for "$timeout" "pid $pid to exit" bash -c "! kill -0 $pid" ||
        kill -KILL "$pid" 2>/dev/null || true
}

# Where a cluster's files live. As root, the postgres user must be able to
# reach the directory; when the checkout is somewhere it cannot traverse
# (e.g. under /root) the cluster lives under /var/tmp, linked from $dir.
pg_prepare_dir() {
    local dir=$1 real
    if [ -L "$dir" ] || [ -d "$dir/data" ]; then
        return 0
    fi
    mkdir -p "$(dirname "$dir")"
    if [ "$(id -u)" -eq 0 ] && ! runuser -u "$PG_SYSTEM_USER" -- test -x "$(dirname "$dir")" 2>/dev/null; then
        real=/var/tmp/easysks-pg-$(echo "$dir" | sha256sum | cut -c1-16)
        rm -rf "$real"
        mkdir -p "$real"
        ln -sfn "$real" "$dir"
    else
        mkdir -p "$dir"
    fi
    if [ "$(id -u)" -eq 0 ]; then
        chown "$PG_SYSTEM_USER:" "$(readlink -f "$dir")"
    fi
    chmod 0700 "$(readlink -f "$dir")"
}

# pg_init DIR [fast]: a new cluster in DIR/data listening only on the unix
# socket in DIR/run. The bootstrap superuser is easysks_owner (owns the
# schema, runs migrations). Local socket connections are trusted: the socket
# directory is private to this user.
pg_init() {
    local dir=$1 fast=${2:-}
    pg_prepare_dir "$dir"
    dir=$(readlink -f "$dir")
    if [ -f "$dir/data/PG_VERSION" ]; then
        return 0
    fi
    as_pg mkdir -p "$dir/run"
    as_pg "$PG_BIN/initdb" -D "$dir/data" -U easysks_owner --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    {
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$dir/run'"
        echo "unix_socket_permissions = 0770"
        echo "max_connections = 200"
        echo "shared_buffers = 64MB"
        echo "log_min_duration_statement = 500"
        # Per-statement counts and times (make bench, the round-trip tests).
        echo "shared_preload_libraries = 'pg_stat_statements'"
        echo "pg_stat_statements.track = top"
        if [ "$fast" = fast ]; then
            echo "fsync = off"
            echo "synchronous_commit = off"
            echo "full_page_writes = off"
        fi
    } | as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
    if [ "$(id -u)" -eq 0 ]; then
        # root clients (the pool, the tests) connect through the socket dir.
        chmod 0755 "$dir" "$dir/run"
    fi
}

pg_running() {
    local dir
    dir=$(readlink -f "$1")
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

pg_start() {
    local dir
    dir=$(readlink -f "$1")
    if pg_running "$dir"; then
        return 0
    fi
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 start >/dev/null ||
        { cat "$dir/postgres.log" >&2; die "PostgreSQL did not start (log above)"; }
}

# pg_stop DIR [MODE]: fast by default (rolls back open transactions).
pg_stop() {
    local dir mode=${2:-fast}
    [ -e "$1" ] || return 0
    dir=$(readlink -f "$1")
    if pg_running "$dir"; then
        as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m "$mode" -w -t 30 stop >/dev/null || true
    fi
}

# pg_url DIR USER [DB]: a libpq URI through the cluster's unix socket.
pg_url() {
    local dir
    dir=$(readlink -m "$1")
    echo "postgresql:///${3:-easysks}?host=$dir/run&user=$2"
}

# pg_setup_db DIR: create the database (idempotent).
pg_setup_db() {
    local dir=$1 owner
    owner=$(pg_url "$dir" easysks_owner postgres)
    if [ "$(psql "$owner" -Atqc "SELECT 1 FROM pg_database WHERE datname = 'easysks'")" != 1 ]; then
        psql "$owner" -qc "CREATE DATABASE easysks" >/dev/null
    fi
}

# pg_setup_app_role DIR: the login role the pool uses: easysks_web, a member
# of easysks_app (DML only) with its timeouts, both made by the migrations;
# here it only gets LOGIN (trusted local socket, no password).
pg_setup_app_role() {
    local dir=$1
    psql "$(pg_url "$dir" easysks_owner)" -qv ON_ERROR_STOP=1 >/dev/null <<'SQL'
ALTER ROLE easysks_web LOGIN;
SQL
}

# make_cert DIR: a self-signed certificate for localhost (kept across runs).
make_cert() {
    local dir=$1
    mkdir -p "$dir"
    if [ -s "$dir/cert.pem" ] && [ -s "$dir/key.pem" ]; then
        return 0
    fi
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
    chmod 0600 "$dir/key.pem"
}

# pool_start STATE_DIR: start easysks-fcgi in the background with the current
# environment; waits until the socket accepts connections.
pool_start() {
    local state=$1 bin=${EASYSKS_BIN_DIR:-$EASYSKS_ROOT/build}
    local sock=${EASYSKS_LISTEN#unix:}
    mkdir -p "$state/run" "$state/log"
    if [ -f "$state/run/pool.pid" ] && kill -0 "$(cat "$state/run/pool.pid")" 2>/dev/null; then
        return 0
    fi
    "$bin/easysks-fcgi" --check-config >/dev/null || die "the pool's configuration is invalid"
    setsid "$bin/easysks-fcgi" --pidfile "$state/run/pool.pid" \
        </dev/null >>"$state/log/pool.log" 2>&1 &
    wait_for 10 "the pool socket $sock" test -S "$sock" ||
        { tail -n 20 "$state/log/pool.log" >&2; return 1; }
    wait_for 10 "the pool pid file" test -s "$state/run/pool.pid"
}

# pool_stop STATE_DIR: graceful stop (TERM), waits for the master to exit.
pool_stop() {
    local state=$1
    [ -f "$state/run/pool.pid" ] || return 0
    stop_pid "$(cat "$state/run/pool.pid")" TERM 40
    rm -f "$state/run/pool.pid"
}

# jobs_start STATE_DIR: start easysks-jobs (AI grading, docs/ai.md) in the
# background with the current environment, like the pool; waits until its
# runners are up (it writes its pid file then).
jobs_start() {
    local state=$1 bin=${EASYSKS_BIN_DIR:-$EASYSKS_ROOT/build}
    mkdir -p "$state/run" "$state/log"
    if [ -f "$state/run/jobs.pid" ] && kill -0 "$(cat "$state/run/jobs.pid")" 2>/dev/null; then
        return 0
    fi
    "$bin/easysks-jobs" --check-config >/dev/null || die "the job process's configuration is invalid"
    rm -f "$state/run/jobs.pid"
    setsid "$bin/easysks-jobs" --pidfile "$state/run/jobs.pid" \
        </dev/null >>"$state/log/jobs.log" 2>&1 &
    wait_for 15 "easysks-jobs to be ready" test -s "$state/run/jobs.pid" ||
        { tail -n 20 "$state/log/jobs.log" >&2; return 1; }
}

# jobs_stop STATE_DIR: graceful stop (TERM: runners finish the job in hand).
jobs_stop() {
    local state=$1
    [ -f "$state/run/jobs.pid" ] || return 0
    stop_pid "$(cat "$state/run/jobs.pid")" TERM 40
    rm -f "$state/run/jobs.pid"
}

# nginx_start STATE_DIR: render the templates into STATE_DIR/nginx, check
# them with nginx -t, start nginx (master process daemonizes).
nginx_start() {
    local state=$1
    export NGINX_RUN_DIR=$state/nginx/run NGINX_LOG_DIR=$state/log
    if [ "$(id -u)" -eq 0 ]; then
        # Local and test runs as root: the checkout may be unreadable for
        # www-data, so workers stay root here. Hosts render "user www-data;".
        export NGINX_USER_DIRECTIVE=${NGINX_USER_DIRECTIVE:-"user root;"}
    fi
    "$EASYSKS_ROOT/deploy/render-nginx.sh" "$state/nginx"
    "$NGINX_BIN" -t -q -p "$state/nginx" -c "$state/nginx/nginx.conf" -e "$state/log/error.log" ||
        die "nginx -t failed for $state/nginx/nginx.conf"
    if [ -f "$state/nginx/run/nginx.pid" ] && kill -0 "$(cat "$state/nginx/run/nginx.pid")" 2>/dev/null; then
        "$NGINX_BIN" -p "$state/nginx" -c "$state/nginx/nginx.conf" -e "$state/log/error.log" -s reload
        return 0
    fi
    "$NGINX_BIN" -p "$state/nginx" -c "$state/nginx/nginx.conf" -e "$state/log/error.log"
    wait_for 10 "nginx" curl -ksf "https://127.0.0.1:${EASYSKS_HTTPS_PORT}/health"
}

nginx_stop() {
    local state=$1
    [ -f "$state/nginx/run/nginx.pid" ] || return 0
    stop_pid "$(cat "$state/nginx/run/nginx.pid")" QUIT 15
    rm -f "$state/nginx/run/nginx.pid"
}
