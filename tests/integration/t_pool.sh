#!/usr/bin/env bash
# The worker pool under operator signals, crashes and deadlines.
# shellcheck disable=SC2154,SC2034 # STATUS/BODY are shared with lib.sh helpers

N=${EASYSKS_WORKERS:-3}

# Wait until the pool has exactly $1 workers, none of them in the list $2.
wait_pool() {
    local want=$1 old=${2:-} i pids
    for ((i = 0; i < 150; i++)); do
        pids=$(worker_pids)
        if [ "$(wc -w <<<"$pids")" -eq "$want" ]; then
            local stale=0 p
            for p in $old; do
                grep -qx "$p" <<<"$pids" && stale=1
            done
            [ "$stale" -eq 0 ] && return 0
        fi
        sleep 0.1
    done
    fail "pool did not settle at $want workers (now: $(worker_pids | tr '\n' ' '), old: $old)"
}

set_pool_config() { printf '%s\n' "$@" >"$EASYSKS_CONFIG_FILE"; }

# Hold an ACCESS EXCLUSIVE lock on schema_migrations for $1 seconds, so that
# /api/health blocks in the database; the lock is taken when this returns.
hold_health_lock() {
    psql_owner -c "BEGIN; LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep($1); COMMIT;" >/dev/null 2>&1 &
    echo $! >"$IT/lock.pid"
    local i
    for ((i = 0; i < 50; i++)); do
        [ "$(psql_owner -c "SELECT count(*) FROM pg_locks WHERE relation = 'schema_migrations'::regclass AND mode = 'AccessExclusiveLock' AND granted")" = 1 ] && return 0
        sleep 0.1
    done
    fail "could not take the table lock"
}

test_pool_socket_is_private() {
    [ "$(stat -c %a "$EASYSKS_SOCKET")" = 660 ] || fail "socket mode $(stat -c %a "$EASYSKS_SOCKET")"
}

test_pool_refuses_a_second_pool_on_the_same_socket() {
    local out
    if out=$("$EASYSKS_BIN_DIR/easysks-fcgi" 2>&1); then
        fail "second pool started"
    fi
    grep -q "in use by another running pool" <<<"$out" || fail "unexpected: $out"
    req GET /api/health
    expect_status 200
}

test_pool_config_error_names_the_setting() {
    local out rc=0
    out=$(EASYSKS_WORKERS=0 EASYSKS_CONFIG_FILE='' "$EASYSKS_BIN_DIR/easysks-fcgi" --check-config 2>&1) || rc=$?
    [ "$rc" = 78 ] || fail "exit $rc"
    grep -q '^easysks-fcgi: configuration error: EASYSKS_WORKERS: must be an integer from 1 to' <<<"$out" || fail "message: $out"
    out=$(EASYSKS_CONFIG_FILE='' DATABASE_URL='' "$EASYSKS_BIN_DIR/easysks-fcgi" --check-config 2>&1) && fail "started without DATABASE_URL"
    grep -q 'DATABASE_URL: required' <<<"$out" || fail "message: $out"
}

test_pool_killed_worker_is_respawned() {
    local victim
    wait_pool "$N"
    victim=$(worker_pids | head -n1)
    kill -KILL "$victim"
    wait_pool "$N" "$victim"
    grep -q '"msg":"worker died unexpectedly; respawning"' "$IT/log/pool.log" || fail "crash not logged"
    req GET /api/health
    expect_status 200
}

test_pool_ttin_and_ttou_resize_at_runtime() {
    wait_pool "$N"
    kill -TTIN "$(pool_pid)"
    wait_pool $((N + 1))
    # One signal at a time: two sent at once may arrive as one.
    kill -TTOU "$(pool_pid)"
    wait_pool "$N"
    kill -TTOU "$(pool_pid)"
    wait_pool $((N - 1))
    kill -TTIN "$(pool_pid)"
    wait_pool "$N"
    req GET /api/health
    expect_status 200
}

test_pool_hup_rereads_the_config_file() {
    local old
    old=$(worker_pids)
    set_pool_config "EASYSKS_WORKERS=$((N + 1))"
    kill -HUP "$(pool_pid)"
    wait_pool $((N + 1)) "$old"
    set_pool_config ""
    kill -HUP "$(pool_pid)"
    wait_pool "$N"
}

test_pool_hup_with_invalid_config_keeps_serving() {
    local old
    old=$(worker_pids)
    set_pool_config "EASYSKS_WORKERS=lots"
    kill -HUP "$(pool_pid)"
    sleep 0.5
    set_pool_config ""
    grep -q 'reload refused: invalid configuration' "$IT/log/pool.log" || fail "refusal not logged"
    [ "$(worker_pids)" = "$old" ] || fail "workers were replaced by a refused reload"
    req GET /api/health
    expect_status 200
}

test_pool_hup_under_load_drops_no_request() {
    local old result i
    wait_pool "$N"
    old=$(worker_pids)
    node "$EASYSKS_ROOT/tests/tools/load.mjs" --url "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/health" \
        --concurrency 16 --duration-ms 9000 >"$IT/load.json" &
    local load=$!
    # Thirty reloads, most landing while the previous one is still rolling:
    # a quit signal reaching a worker inside libfcgi's accept path would drop
    # the connection nginx just opened (broken pipe, 503) and wedge the worker.
    for i in $(seq 1 30); do
        sleep 0.25
        kill -HUP "$(pool_pid)"
    done
    wait "$load"
    result=$(cat "$IT/load.json")
    echo "load: $result"
    node -e 'const r=JSON.parse(process.argv[1]); const bad=r.total-(r.statuses["200"]||0); if(r.total<100||bad!==0) process.exit(1)' "$result" ||
        fail "requests failed during reload: $result"
    wait_pool "$N" "$old"
    ! grep -q 'Broken pipe' "$IT/log/error.log" || fail "nginx saw a connection dropped by a worker"
}

# A reload while the listening socket never drains (more clients than
# workers, no request budget): the old workers must still leave. epoll_pwait
# returns a ready socket without delivering the pending quit signal, so they
# used to keep accepting until the load stopped.
test_pool_reload_with_a_full_backlog_retires_the_old_workers() {
    local old base load p still i result
    base=$(worker_pids)
    set_pool_config "EASYSKS_MAX_REQUESTS=0"
    kill -HUP "$(pool_pid)"
    wait_pool "$N" "$base"
    old=$(worker_pids)
    # Slow every request down (a table lock taken and released every 50 ms)
    # so that the 64 clients always keep connections waiting in the backlog.
    for i in $(seq 1 140); do
        echo "BEGIN; LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(0.05); COMMIT;"
    done >"$IT/backlog-locks.sql"
    psql_owner -f "$IT/backlog-locks.sql" >/dev/null 2>&1 &
    local locker=$!
    node "$EASYSKS_ROOT/tests/tools/load.mjs" --url "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/health" \
        --concurrency 64 --duration-ms 7000 >"$IT/backlog-load.json" &
    load=$!
    sleep 1.5
    kill -HUP "$(pool_pid)"
    for ((i = 0; i < 30; i++)); do
        still=""
        for p in $old; do kill -0 "$p" 2>/dev/null && still="$still $p"; done
        [ -z "$still" ] && break
        sleep 0.1
    done
    wait "$load" "$locker"
    result=$(cat "$IT/backlog-load.json")
    set_pool_config ""
    kill -HUP "$(pool_pid)"
    wait_pool "$N"
    [ -z "$still" ] || fail "old workers still serving 3 s after the reload, under load:$still"
    node -e 'const r=JSON.parse(process.argv[1]); const bad=r.total-(r.statuses["200"]||0); if(r.total<100||bad!==0) process.exit(1)' "$result" ||
        fail "requests failed during the reload: $result"
}

test_pool_recycles_a_worker_after_its_request_budget() {
    local old i
    old=$(worker_pids)
    set_pool_config "EASYSKS_MAX_REQUESTS=5"
    kill -HUP "$(pool_pid)"
    wait_pool "$N" "$old"
    old=$(worker_pids)
    for ((i = 0; i < 30; i++)); do
        req GET /api/health
        expect_status 200
    done
    grep -q 'request budget reached, recycling' "$IT/log/pool.log" || fail "no recycling logged"
    set_pool_config ""
    kill -HUP "$(pool_pid)"
    wait_pool "$N" "$old"
}

test_pool_kills_a_worker_stuck_past_the_deadline() {
    local old
    set_pool_config "EASYSKS_REQUEST_TIMEOUT=1"
    old=$(worker_pids)
    kill -HUP "$(pool_pid)"
    wait_pool "$N" "$old"
    hold_health_lock 4
    req GET /api/health
    # nginx sees the connection die and answers with the API's JSON 503.
    expect_error 503 upstream_unavailable
    wait "$(cat "$IT/lock.pid")"
    grep -q 'worker killed: request exceeded EASYSKS_REQUEST_TIMEOUT' "$IT/log/pool.log" || fail "kill not logged"
    set_pool_config ""
    kill -HUP "$(pool_pid)"
    wait_pool "$N"
    req GET /api/health
    expect_status 200
}

# Runs last among the pool tests (name order): it stops the pool and starts it again.
test_pool_zz_graceful_stop_finishes_the_request_in_flight() {
    local master curl_pid code
    wait_pool "$N"
    master=$(pool_pid)
    hold_health_lock 2
    curl -ks -o "$IT/inflight.body" -w '%{http_code}' --max-time 20 \
        "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/health" >"$IT/inflight.code" &
    curl_pid=$!
    sleep 0.5
    kill -TERM "$master"
    sleep 0.3
    # New requests are refused at once (socket gone), not queued.
    req GET /api/health
    expect_error 503 upstream_unavailable
    wait "$curl_pid"
    code=$(cat "$IT/inflight.code")
    [ "$code" = 200 ] || fail "in-flight request got $code: $(cat "$IT/inflight.body")"
    grep -q '"msg":"slow request".*"path":"/health"' "$IT/log/pool.log" || fail "the held request was not logged as slow"
    for ((i = 0; i < 100; i++)); do
        kill -0 "$master" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$master" 2>/dev/null && fail "master still running"
    [ -e "$EASYSKS_SOCKET" ] && fail "socket left behind"
    grep -q '"msg":"pool stopped"' "$IT/log/pool.log" || fail "stop not logged"
    rm -f "$IT/run/pool.pid"
    pool_start "$IT" || fail "pool did not start again"
    wait_pool "$N"
}

test_pool_status_is_served_on_loopback_only() {
    local out before after
    out=$(curl -sf "http://127.0.0.1:$EASYSKS_STATUS_PORT/status") || fail "status server"
    BODY=$out
    expect_json workers_target "$N"
    [ "$(node -e 'const b=JSON.parse(process.argv[1]); console.log(b.workers.idle+b.workers.busy)' "$out")" = "$N" ] ||
        fail "worker counts: $out"
    before=$(json requests_total)
    req GET /api/health
    after=$(curl -sf "http://127.0.0.1:$EASYSKS_STATUS_PORT/status" | jq .requests_total)
    [ "$after" -gt "$before" ] || fail "requests_total did not move: $before -> $after"
    out=$(curl -sf "http://127.0.0.1:$EASYSKS_STATUS_PORT/status?format=prometheus") || fail "prometheus"
    grep -q "^easysks_pool_workers_target $N$" <<<"$out" || fail "prometheus text: $out"
    # One line per live worker, with its pid.
    [ "$(grep -c '^easysks_pool_worker_requests{slot="[0-9]*",pid="[0-9]*",state="\(idle\|busy\)"} [0-9]*$' <<<"$out")" = "$N" ] ||
        fail "per-worker lines: $out"
    req GET /api/_status
    expect_error 404 not_found
}

test_pool_backs_off_when_workers_keep_dying() {
    local start end spawned
    wait_pool "$N"
    start=$(grep -c '"msg":"worker started"' "$IT/log/pool.log")
    # Kill every worker as soon as it appears, for 3 seconds: a crash loop.
    end=$((SECONDS + 3))
    while [ "$SECONDS" -lt "$end" ]; do
        pkill -KILL -P "$(pool_pid)" 2>/dev/null
        sleep 0.02
    done
    spawned=$(($(grep -c '"msg":"worker started"' "$IT/log/pool.log") - start))
    echo "workers started during the crash loop: $spawned"
    # Without backoff the master would restart all workers every 100 ms tick (~90).
    [ "$spawned" -le 20 ] || fail "no backoff: $spawned workers started in 3 s"
    [ "$spawned" -ge 2 ] || fail "the master stopped respawning ($spawned)"
    wait_pool "$N"
    req GET /api/health
    expect_status 200
}

test_pool_refuses_to_remove_something_that_is_not_a_socket() {
    local out path=$IT/run/not-a-socket
    echo keep >"$path"
    out=$(EASYSKS_LISTEN=unix:$path EASYSKS_CONFIG_FILE='' "$EASYSKS_BIN_DIR/easysks-fcgi" 2>&1) &&
        fail "started on a regular file"
    grep -q 'exists and is not a socket; not removing it' <<<"$out" || fail "message: $out"
    [ "$(cat "$path")" = keep ] || fail "the file was touched"
}

# A worker whose accept() fails (here EMFILE, its descriptor limit lowered
# to what it has open) must exit with a failure status: the master then
# counts a crash and backs off instead of respawning it every tick.
test_pool_worker_that_cannot_accept_exits_with_failure() {
    local p n crashes_before crashes_after
    wait_pool "$N"
    crashes_before=$(curl -sf "http://127.0.0.1:$EASYSKS_STATUS_PORT/status" | jq .worker_crashes_total)
    for p in $(worker_pids); do
        # The limit caps descriptor numbers: the lowest free number is the
        # one accept() would get.
        n=0
        while [ -e "/proc/$p/fd/$n" ]; do n=$((n + 1)); done
        prlimit --pid "$p" --nofile="$n:$n" || fail "prlimit"
    done
    # Served by a replacement once the limited workers have left.
    req GET /api/health
    expect_status 200
    grep -q '"msg":"FCGX_Accept_r failed".*"error":"Too many open files"' "$IT/log/pool.log" ||
        fail "EMFILE not logged"
    grep -q '"msg":"worker died unexpectedly; respawning".*"status":"exit 1"' "$IT/log/pool.log" ||
        fail "the exit was not counted as a failure"
    crashes_after=$(curl -sf "http://127.0.0.1:$EASYSKS_STATUS_PORT/status" | jq .worker_crashes_total)
    [ "$crashes_after" -gt "$crashes_before" ] || fail "crash counter: $crashes_before -> $crashes_after"
    wait_pool "$N"
}

# A worker that does not become ready within EASYSKS_START_TIMEOUT is killed,
# so a reload cannot hang on it; the old workers serve meanwhile. Here a
# stalled JWKS endpoint holds every new worker in its start-up key fetch.
test_pool_start_timeout_ends_a_hung_start() {
    local old i
    wait_pool "$N"
    old=$(worker_pids)
    curl -sf "http://127.0.0.1:$JWKS_PORT/control?status=200&delay_ms=8000" >/dev/null
    set_pool_config "EASYSKS_START_TIMEOUT=1"
    kill -HUP "$(pool_pid)"
    for ((i = 0; i < 50; i++)); do
        grep -q '"msg":"worker killed: not ready within EASYSKS_START_TIMEOUT"' "$IT/log/pool.log" && break
        sleep 0.1
    done
    grep -q '"msg":"worker killed: not ready within EASYSKS_START_TIMEOUT"' "$IT/log/pool.log" ||
        { curl -sf "http://127.0.0.1:$JWKS_PORT/control?status=200&delay_ms=0" >/dev/null; fail "no start timeout"; }
    req GET /api/health
    local during=$STATUS
    curl -sf "http://127.0.0.1:$JWKS_PORT/control?status=200&delay_ms=0" >/dev/null
    [ "$during" = 200 ] || fail "the old workers did not serve during the stalled reload: $during"
    wait_pool "$N" "$old"
    set_pool_config ""
    old=$(worker_pids)
    kill -HUP "$(pool_pid)"
    wait_pool "$N" "$old"
}

# Stop removes the socket the pool bound, not whatever EASYSKS_LISTEN says
# after a reload, and never a socket that is not ours.
test_pool_zz_stop_removes_only_its_own_socket() {
    local master other=$IT/run/other.sock i
    wait_pool "$N"
    master=$(pool_pid)
    python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$other"
    set_pool_config "EASYSKS_LISTEN=unix:$other"
    kill -HUP "$master"
    wait_pool "$N"
    grep -q 'EASYSKS_LISTEN changed; the socket stays until a restart' "$IT/log/pool.log" ||
        fail "no warning for the changed path"
    req GET /api/health
    expect_status 200
    kill -TERM "$master"
    for ((i = 0; i < 100; i++)); do
        kill -0 "$master" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$master" 2>/dev/null && fail "master still running"
    [ -e "$EASYSKS_SOCKET" ] && fail "the pool's own socket was left behind"
    [ -S "$other" ] || fail "another socket at the reloaded path was removed"
    rm -f "$other" "$IT/run/pool.pid"
    set_pool_config ""
    pool_start "$IT" || fail "pool did not start again"
    wait_pool "$N"
}
