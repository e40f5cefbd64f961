#!/usr/bin/env bash
# Functions for tests/bench.sh (sourced after tests/integration/stack.sh,
# whose EXIT trap runs every $IT/*.cleanup script: everything started here
# leaves such a script behind, so nothing outlives the run).
# shellcheck disable=SC2034,SC2154

BENCH_DIR=$EASYSKS_ROOT/tests/bench
RESULTS=$IT/results.jsonl
META=$IT/meta.json
PEER_SRC=${BENCH_PEER_SRC:-$EASYSKS_ROOT/../shared/bench-peer}
: >"$RESULTS"

# bg_wait CMD...: run CMD in the background and wait for it. bash runs a
# trap only after a foreground child exits; a background one plus `wait`
# lets ^C or TERM stop the bench at once (the cleanup kills the job).
bg_wait() {
    "$@" &
    local pid=$! rc
    echo "kill $pid 2>/dev/null" >"$IT/job-$pid.cleanup"
    wait "$pid"
    rc=$?
    rm -f "$IT/job-$pid.cleanup"
    return "$rc"
}

# Monitoring goes through the "postgres" database, so its backends count
# as neither ours nor the peer's in the CPU split.
# The server's own psql, not Debian's perl wrapper: it runs twice a second.
pg_mon() { "$PG_BIN/psql" "$(pg_url "$IT/pg" easysks_owner postgres)" -Atq -v ON_ERROR_STOP=1 "$@"; }

pg_pid() { head -n1 "$(readlink -f "$IT/pg")/data/postmaster.pid"; }

# The pool's workers (children of the master).
pool_workers() { pgrep -P "$(cat "$IT/run/pool.pid")" | sort -n; }

# bench_pg_durable: the stack's cluster is created with fsync and
# synchronous_commit off (fast tests); the bench measures with the
# production durability (an acknowledged review is on disk), unless
# BENCH_PG_FAST=1. ALTER SYSTEM overrides postgresql.conf; both settings
# take effect on reload.
bench_pg_durable() {
    # Statement statistics are read through the "postgres" database; with
    # planning counted too, so that re-planned prepared statements show.
    pg_mon -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
        -c "ALTER SYSTEM SET pg_stat_statements.track_planning = on" -c "SELECT pg_reload_conf()" \
        >/dev/null || return 1
    if [ "${BENCH_PG_FAST:-0}" = 1 ]; then
        return 0
    fi
    pg_mon -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
        -c "ALTER SYSTEM SET full_page_writes = on" -c "SELECT pg_reload_conf()" >/dev/null
}

# bench_plan_cache_mode: BENCH_PLAN_CACHE_MODE as a role setting of the
# pool's login role (what a migration would ship), then new connections.
bench_plan_cache_mode() {
    [ -n "${BENCH_PLAN_CACHE_MODE:-}" ] || return 0
    pg_mon -c "ALTER ROLE easysks_web SET plan_cache_mode = $BENCH_PLAN_CACHE_MODE" >/dev/null &&
        pool_restart "$EASYSKS_WORKERS"
}

# --- the libfcgi hello ------------------------------------------------------

hello_start() { # PROCESSES
    local sock=$IT/run/hello.sock
    rm -f "$sock"
    setsid "$EASYSKS_ROOT/build/bench-hello" "$sock" "$1" </dev/null >>"$IT/log/hello.log" 2>&1 &
    HELLO_PID=$!
    echo "kill $HELLO_PID 2>/dev/null" >"$IT/hello.cleanup"
    wait_for 10 "the hello socket" test -S "$sock"
}

hello_stop() {
    [ -n "${HELLO_PID:-}" ] || return 0
    stop_pid "$HELLO_PID" TERM 5
    rm -f "$IT/hello.cleanup"
    HELLO_PID=
}

# nginx_variant KEEPALIVE: re-render our nginx with the hello location and
# the given upstream keep-alive (0 = one connection per request, the
# template's choice), reload, and wait until the old workers are gone.
nginx_variant() { # KEEPALIVE [API_ACCESS_LOG on|off]
    local conf=$IT/nginx master
    python3 "$BENCH_DIR/nginx_variant.py" "$conf" --hello-sock "$IT/run/hello.sock" \
        --keepalive "$1" --api-access-log "${2:-on}" || return 1
    "$NGINX_BIN" -t -q -p "$conf" -c "$conf/nginx.conf" -e "$IT/log/error.log" || return 1
    master=$(cat "$conf/run/nginx.pid")
    "$NGINX_BIN" -p "$conf" -c "$conf/nginx.conf" -e "$IT/log/error.log" -s reload || return 1
    sleep 0.5
    wait_for 20 "the old nginx workers to leave" \
        bash -c "[ \$(pgrep -P $master | wc -l) -le $(nproc) ]"
}

# pool_restart WORKERS: stop the pool and start it again with WORKERS.
pool_restart() {
    pool_stop "$IT"
    rm -f "$IT/run/easysks.sock"
    EASYSKS_WORKERS=$1 pool_start "$IT" || return 1
    wait_for 20 "the pool" bash -c \
        "[ \$(curl -ks -o /dev/null -w '%{http_code}' https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/health) = 200 ]"
    wait_for 20 "$1 workers" bash -c "[ \$(pgrep -P \$(cat $IT/run/pool.pid) | wc -l) -ge $1 ]"
}

# --- the peer ---------------------------------------------------------------

# peer_start PROCESSES: a copy of the peer under $IT (never in the tree),
# its own database in the stack's cluster, PROCESSES node servers and an
# nginx TLS front with upstream keep-alive.
peer_start() {
    local procs=$1 i port servers="" pghost
    PEER_DIR=$IT/peer
    cp -r "$PEER_SRC" "$PEER_DIR" || return 1
    (cd "$PEER_DIR" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error) \
        >"$IT/log/peer-npm.log" 2>&1 || { cat "$IT/log/peer-npm.log"; return 1; }
    pg_mon -c "CREATE ROLE peer LOGIN" -c "CREATE DATABASE peer OWNER peer" >/dev/null || return 1
    pghost=$(readlink -f "$IT/pg")/run
    PGHOST=$pghost PGUSER=peer PGDATABASE=peer node "$PEER_DIR/load.js" \
        "$EASYSKS_SKS_DATA/sks_catalog.json" || return 1
    PEER_PIDS=()
    for ((i = 0; i < procs; i++)); do
        port=$(free_port)
        PGHOST=$pghost PGUSER=peer PGDATABASE=peer NODE_ENV=production \
            ISSUER=$COGNITO_ISSUER CLIENT_ID=$COGNITO_CLIENT_ID PEER_PORT=$port \
            node "$PEER_DIR/server.js" </dev/null >>"$IT/log/peer-node.log" 2>&1 &
        PEER_PIDS+=("$!")
        echo "kill $! 2>/dev/null" >"$IT/peer-node-$i.cleanup"
        # Up when it refuses a bad token.
        wait_for 20 "the peer on port $port" bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' \
            -H 'Authorization: Bearer x' http://127.0.0.1:$port/api/dashboard/summary) = 401 ]" ||
            return 1
        servers+="        server 127.0.0.1:$port;"$'\n'
    done
    PEER_HTTPS_PORT=$(free_port)
    mkdir -p "$PEER_DIR/nginx"
    # shellcheck disable=SC2016 # the list is for envsubst
    BENCH_PEER_DIR=$PEER_DIR/nginx BENCH_PEER_HTTPS_PORT=$PEER_HTTPS_PORT \
        BENCH_PEER_SERVERS=$servers BENCH_TLS_CERT=$TLS_CERT BENCH_TLS_KEY=$TLS_KEY \
        BENCH_NGINX_USER=${NGINX_USER_DIRECTIVE:-} \
        envsubst '${BENCH_PEER_DIR} ${BENCH_PEER_HTTPS_PORT} ${BENCH_PEER_SERVERS} ${BENCH_TLS_CERT} ${BENCH_TLS_KEY} ${BENCH_NGINX_USER}' \
        <"$BENCH_DIR/peer-nginx.conf.tmpl" >"$PEER_DIR/nginx/nginx.conf"
    cat >"$IT/peer-nginx.cleanup" <<CLEAN
. "$EASYSKS_ROOT/deploy/lib.sh"
[ -f "$PEER_DIR/nginx/nginx.pid" ] && stop_pid "\$(cat "$PEER_DIR/nginx/nginx.pid")" QUIT 15
CLEAN
    "$NGINX_BIN" -t -q -p "$PEER_DIR/nginx" -c "$PEER_DIR/nginx/nginx.conf" -e "$PEER_DIR/nginx/error.log" &&
        "$NGINX_BIN" -p "$PEER_DIR/nginx" -c "$PEER_DIR/nginx/nginx.conf" -e "$PEER_DIR/nginx/error.log" ||
        return 1
    wait_for 10 "the peer's nginx" curl -ksf "https://127.0.0.1:$PEER_HTTPS_PORT/health"
}

# peer_progress: the peer's learners get exactly our learners' progress
# (users, scheduling and review log rows copied across), so both sides
# answer the same queues and counts.
peer_progress() {
    local ours peer
    ours=$(pg_url "$IT/pg" easysks_owner)
    peer=$(pg_url "$IT/pg" peer peer)
    psql "$ours" -Atqc "COPY (SELECT cognito_sub, created_at FROM users) TO STDOUT" |
        psql "$peer" -qc "COPY users (sub, created_at) FROM STDIN" || return 1
    psql "$ours" -Atqc "COPY (SELECT u.cognito_sub, cs.card_id, cs.state, cs.stability,
        cs.difficulty, cs.elapsed_days, cs.scheduled_days, cs.reps, cs.lapses, cs.due,
        cs.last_review FROM card_states cs JOIN users u ON u.id = cs.user_id) TO STDOUT" |
        psql "$peer" -qc "COPY scheduling FROM STDIN" || return 1
    psql "$ours" -Atqc "COPY (SELECT u.cognito_sub, r.card_id, r.rating, r.reviewed_at, r.review_id
        FROM review_logs r JOIN users u ON u.id = r.user_id) TO STDOUT" |
        psql "$peer" -qc "COPY review_logs (user_sub, card_id, rating, reviewed_at, review_id) FROM STDIN" ||
        return 1
    psql "$(pg_url "$IT/pg" easysks_owner peer)" -qc "VACUUM ANALYZE" && psql "$ours" -qc "VACUUM ANALYZE"
}

# --- learners and tokens ----------------------------------------------------

# bench_learners N: 2N cognito-local users with one access token each and
# the same study history on both sides: N read the queue and the dashboard
# ($BENCH_TOKENS), the other N send the reviews ($BENCH_REVIEW_TOKENS).
# Kept apart because every review lands in "today": thousands of bench
# reviews per learner would make every later queue and dashboard of the
# same learners count far more of today's reviews than anyone does in a day.
bench_learners() {
    export BENCH_TOKENS=$IT/bench-tokens BENCH_REVIEW_TOKENS=$IT/bench-review-tokens
    node "$BENCH_DIR/tokens.mjs" --endpoint "$COGNITO_ENDPOINT" --pool "${COGNITO_ISSUER##*/}" \
        --client "$COGNITO_CLIENT_ID" --count "$((2 * $1))" >"$IT/all-tokens" || return 1
    head -n "$1" "$IT/all-tokens" >"$BENCH_TOKENS"
    tail -n +"$(($1 + 1))" "$IT/all-tokens" >"$BENCH_REVIEW_TOKENS"
    NODE_NO_WARNINGS=1 node "$BENCH_DIR/learners.mjs" --base "https://127.0.0.1:$EASYSKS_HTTPS_PORT" \
        --tokens "$IT/all-tokens" || return 1
    # Exams are premium; the plan changes nothing else the bench measures.
    psql "$(pg_url "$IT/pg" easysks_owner)" -qc "UPDATE users SET plan = 'premium'" || return 1
    if [ -n "${PEER_HTTPS_PORT:-}" ]; then
        peer_progress || return 1
    fi
}

# --- one measured run ---------------------------------------------------------

base_of() { # SERVICE
    if [ "$1" = peer ]; then echo "https://127.0.0.1:$PEER_HTTPS_PORT"; else echo "https://127.0.0.1:$EASYSKS_HTTPS_PORT"; fi
}

# probe SERVICE PATH MODE: the HTTP status one request of this kind gets.
probe() {
    local base tok args=()
    base=$(base_of "$1")
    tok=$(head -n1 "$BENCH_TOKENS")
    case $3 in
    none) ;;
    review) args=(-X POST -H "Authorization: Bearer $(head -n1 "$BENCH_REVIEW_TOKENS")" -H 'Content-Type: application/json'
        --data "{\"card_id\":\"navigation_7\",\"rating\":3,\"review_id\":\"$(cat /proc/sys/kernel/random/uuid)\"}") ;;
    exam-start) args=(-X POST -H "Authorization: Bearer $tok" -H 'Content-Type: application/json'
        --data '{"sheet_number":1}') ;;
    exam-save) head -n1 "${BENCH_EXAM_SESSIONS:-/dev/null}" | grep -q . || { echo 404; return; }
        local s
        s=$(head -n1 "$BENCH_EXAM_SESSIONS")
        args=(-X PUT -H "Authorization: Bearer $(cut -f1 <<<"$s")" -H 'Content-Type: application/json'
            --data '{"student_answer":"probe"}')
        set -- "$1" "/api/exam-sessions/$(cut -f2 <<<"$s")/answers/$(cut -f3 <<<"$s" | cut -d, -f1)" "$3" ;;
    webhook) head -n1 "${BENCH_WEBHOOKS:-/dev/null}" | grep -q . || { echo 404; return; }
        local sig body
        sig=$(head -n1 "$BENCH_WEBHOOKS" | cut -f1)
        body=$(head -n1 "$BENCH_WEBHOOKS" | cut -f2-)
        args=(-X POST -H "Stripe-Signature: $sig" -H 'Content-Type: application/json' --data "$body") ;;
    *) args=(-H "Authorization: Bearer $tok") ;;
    esac
    curl -ks -o "$IT/probe.body" -w '%{http_code}' --max-time 10 "${args[@]}" "$base$2"
}

# measure TARGET SERVICE PATH MODE [KEY=VALUE...]: warm up, then one wrk run
# with CPU, connection and statement accounting; appends to $RESULTS.
measure() {
    local target=$1 service=$2 path=$3 mode=$4
    shift 4
    local url tag cpu_args wrk_out t0 t1 sampler
    url=$(base_of "$service")$path
    tag=$target-$service-$RANDOM
    wrk_out=$IT/wrk.$tag
    if [ -n "$WARMUP" ] && [ "$WARMUP" != 0 ]; then
        bg_wait wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$BENCH_DIR/study.lua" "$url" -- "$mode" \
            >/dev/null 2>&1
    fi
    cpu_args=(--tree "nginx_ours=$(cat "$IT/nginx/run/nginx.pid")" --tree "pool=$(cat "$IT/run/pool.pid")"
        --pg "$(pg_pid)" --pgdb easysks=pg_ours --pgdb peer=pg_peer)
    [ -n "${HELLO_PID:-}" ] && cpu_args+=(--tree "hello=$HELLO_PID")
    if [ -n "${PEER_DIR:-}" ] && [ -f "$PEER_DIR/nginx/nginx.pid" ]; then
        cpu_args+=(--tree "nginx_peer=$(cat "$PEER_DIR/nginx/nginx.pid")")
        for p in "${PEER_PIDS[@]}"; do cpu_args+=(--tree "node=$p"); done
    fi
    pg_mon -c "SELECT pg_stat_statements_reset()" >/dev/null
    : >"$IT/conns.$tag"
    (
        while :; do
            pg_mon -c "SELECT coalesce(json_object_agg(k, n), '{}') FROM (SELECT usename || ':' ||
                coalesce(state, '') AS k, count(*) AS n FROM pg_stat_activity
                WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
                GROUP BY 1) s" >>"$IT/conns.$tag" 2>/dev/null
            sleep 0.5
        done
    ) &
    sampler=$!
    echo "kill $sampler 2>/dev/null" >"$IT/sampler.cleanup"
    python3 "$BENCH_DIR/procstat.py" cpu "${cpu_args[@]}" >"$IT/cpu0.$tag"
    t0=$(awk '{print $16 + $17}' "/proc/$$/stat")
    bg_wait wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout "${BENCH_TIMEOUT:-5s}" \
        -s "$BENCH_DIR/study.lua" "$url" -- "$mode" >"$wrk_out" 2>&1
    # bash's own cutime now includes wrk (reaped by the wait above).
    t1=$(awk '{print $16 + $17}' "/proc/$$/stat")
    python3 "$BENCH_DIR/procstat.py" cpu "${cpu_args[@]}" >"$IT/cpu1.$tag"
    kill "$sampler" 2>/dev/null
    wait "$sampler" 2>/dev/null
    rm -f "$IT/sampler.cleanup"
    pg_mon -c "SELECT coalesce(json_agg(s), '[]') FROM (SELECT r.rolname AS usename, d.datname,
        s.calls, round(s.total_exec_time::numeric, 3) AS total_ms,
        round(s.mean_exec_time::numeric, 4) AS mean_ms, s.rows, s.plans,
        round(s.total_plan_time::numeric, 3) AS plan_ms,
        left(regexp_replace(s.query, '\s+', ' ', 'g'), 200) AS query
        FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
        JOIN pg_database d ON d.oid = s.dbid
        WHERE r.rolname IN ('easysks_web', 'peer')
        ORDER BY s.total_exec_time DESC LIMIT 20) s" >"$IT/stmts.$tag" 2>/dev/null
    python3 "$BENCH_DIR/report.py" record target="$target" service="$service" path="$path" \
        "$@" wrk_out="$wrk_out" cpu_before="$IT/cpu0.$tag" cpu_after="$IT/cpu1.$tag" \
        wrk_ticks="$t0 $t1" conns="$IT/conns.$tag" stmts="$IT/stmts.$tag" >>"$RESULTS"
    python3 - "$RESULTS" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]
w = r.get("wrk")
if not w:
    print(f"  {r['target']:<10} {r['service']:<5} wrk failed: {r.get('wrk_error', '')[-200:]}")
else:
    extra = " ".join(f"{k}={r[k]}" for k in ("workers", "keepalive", "step") if k in r)
    rps = w["requests"] / (w["duration_us"] / 1e6)
    errs = w["non2xx"] + w["connect_errors"] + w["read_errors"] + w["write_errors"] + w["timeouts"]
    print(f"  {r['target']:<10} {r['service']:<5} {extra:<22} {rps:9.0f} req/s  p50 {w['p50_us']/1000:6.2f}"
          f"  p99 {w['p99_us']/1000:7.2f}  p99.9 {w['p999_us']/1000:7.2f} ms  errors {errs}")
PY
}

# machine_busy SECONDS: percentage of all cores busy over that many seconds.
machine_busy() {
    local a b
    a=$(head -n1 /proc/stat)
    sleep "$1"
    b=$(head -n1 /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x); split(b, y); bt = 0; it = 0;
        for (i = 2; i <= 9; i++) { d = y[i] - x[i]; bt += d; if (i == 5 || i == 6) it += d }
        printf "%.0f", bt ? 100 * (bt - it) / bt : 0 }'
}

# wait_quiet: with BENCH_QUIET_PCT set, wait (up to BENCH_QUIET_TRIES x 30 s)
# until the machine's load from others is below that percentage.
wait_quiet() {
    local pct=${BENCH_QUIET_PCT:-} tries=${BENCH_QUIET_TRIES:-10} busy i
    [ -n "$pct" ] || return 0
    for ((i = 1; i <= tries; i++)); do
        busy=$(machine_busy 5)
        if [ "$busy" -le "$pct" ]; then
            echo "machine quiet enough: ${busy}% busy over 5 s (limit ${pct}%)"
            return 0
        fi
        echo "machine busy: ${busy}% over 5 s (limit ${pct}%), waiting 30 s ($i/$tries)"
        sleep 30
    done
    echo "machine still busy after $tries tries; measuring anyway"
}
