#!/usr/bin/env bash
# `make bench` and the bench-* targets: wrk against a throwaway stack on
# loopback (tests/integration/stack.sh: PostgreSQL with pg_stat_statements,
# migrations, catalogue, cognito-local + JWKS, the pool, nginx TLS), next to
# the Node peer (../shared/bench-peer, copied under the temp dir: its own
# database in the same cluster, node, its own nginx TLS front with upstream
# keep-alive), with the same cognito-local tokens for BENCH_LEARNERS learners
# whose study history is the same on both sides.
#
#   tests/bench.sh [MODE]
#     table      (make bench) every endpoint on both sides: req/s, p50/p99/p99.9,
#                errors, ours : peer, ours : the libfcgi hello and : nginx's
#                static /health; CPU per request of nginx / app / PostgreSQL,
#                statements and DB time per request, DB connections, worker
#                RSS before and after; compared with the previous run
#     scaling    (make bench-scaling) study endpoints with 1 2 4 8 16 workers
#     keepalive  (make bench-keepalive) nginx <-> FastCGI without keep-alive
#                (the template) vs fastcgi_keep_conn + keepalive N, per pool size
#     levers     (make bench-levers) what settings outside the C code buy: generic
#                plans, no worker recycling, synchronous_commit, nginx's access log
#     failover   (make bench-failover) the database crashing or freezing under load:
#                statuses and latency per second, time to recover
#     rss        (make bench-rss) worker memory every 100k requests up to 1M of the
#                cheapest authenticated request (GET /api/topics)
#     profile    (make bench-profile) perf samples (cpu-clock) per study endpoint
#     explain    (make bench-explain) EXPLAIN ANALYZE of the study statements on
#                10 000 generated learners x 638 cards (tests/bench/explain.sh)
#
# Settings (environment): BENCH_DURATION (10s), BENCH_WARMUP (3s),
# BENCH_CONNECTIONS (64), BENCH_THREADS (2), BENCH_LEARNERS (50),
# BENCH_WORKERS (the pool's default), BENCH_MAX_REQUESTS (the pool's default),
# BENCH_ROUNDS (1; more: the median run per endpoint), BENCH_PEER_PROCS (1, as
# the peer's README runs it), BENCH_PG_FAST=1 (fsync and synchronous_commit
# off as in the tests; default: durable, as in production),
# BENCH_PLAN_CACHE_MODE (e.g. force_generic_plan: a role setting of the
# pool's login role, to see what a migration setting it would buy),
# BENCH_QUIET_PCT
# (wait until the machine is at most this busy), BENCH_OUT (var/bench).
# Results: one JSON file per run in BENCH_OUT. On a shared machine compare
# ratios from one run, never absolute numbers across runs.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MODE=${1:-table}
case $MODE in
table | scaling | keepalive | levers | failover | rss | profile | explain) ;;
*)
    echo "usage: $0 [table|scaling|keepalive|levers|failover|rss|profile|explain]" >&2
    exit 2
    ;;
esac
# shellcheck source=tests/integration/lib.sh
. "$here/integration/lib.sh"
# shellcheck source=tests/integration/stack.sh
. "$here/integration/stack.sh"
# shellcheck source=tests/bench/lib.sh
. "$here/bench/lib.sh"

if [ "$MODE" = explain ]; then
    # shellcheck source=tests/bench/explain.sh
    . "$here/bench/explain.sh"
    explain_main
    exit $?
fi

DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-3s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
LEARNERS=${BENCH_LEARNERS:-50}
ROUNDS=${BENCH_ROUNDS:-1}
PEER_PROCS=${BENCH_PEER_PROCS:-1}
OUT=${BENCH_OUT:-$EASYSKS_ROOT/var/bench}
WORKERS=${BENCH_WORKERS:-8} # the pool's default (EASYSKS_WORKERS)
export EASYSKS_WORKERS=$WORKERS LOG_LEVEL=warn
[ -n "${BENCH_MAX_REQUESTS:-}" ] && export EASYSKS_MAX_REQUESTS=$BENCH_MAX_REQUESTS
[ "$MODE" = rss ] && export EASYSKS_MAX_REQUESTS=0
if ! command -v wrk >/dev/null; then
    echo "wrk is not installed (make deps)" >&2
    exit 1
fi
with_peer=0
if [ "$MODE" = table ] && [ "${BENCH_PEER:-1}" = 1 ]; then
    if [ -d "$PEER_SRC" ]; then
        with_peer=1
    else
        echo "no peer at $PEER_SRC: measuring EasySKS alone" >&2
    fi
fi

wait_quiet
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
busy_before=$(machine_busy 3)
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
echo "load average $load_before; ${busy_before}% busy over 3 s before starting"
echo "starting the stack$([ $with_peer = 1 ] && echo ' and the peer') ..."
stack_setup || exit 1
{
    bench_pg_durable &&
        bench_plan_cache_mode &&
        hello_start "$WORKERS" &&
        nginx_variant 0 &&
        { [ $with_peer = 0 ] || peer_start "$PEER_PROCS"; } &&
        bench_learners "$LEARNERS"
} >"$IT/bench-setup.log" 2>&1 || {
    echo "bench setup failed:" >&2
    tail -n 40 "$IT/bench-setup.log" "$IT"/log/*.log >&2
    exit 1
}
echo "$((2 * LEARNERS)) learners with the same progress on both sides ($LEARNERS reading, $LEARNERS reviewing); $WORKERS pool workers"

write_meta() { # extra JSON members
    python3 - "$META" "$@" <<PY
import json, sys
meta = {
    "mode": "$MODE", "ncpu": $(nproc), "kernel": "$(uname -r)",
    "mem_gib": round($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1048576),
    "load_before": "$load_before", "busy_before_pct": $busy_before,
    "load_after": "$(cut -d' ' -f1-3 /proc/loadavg)",
    "duration": "$DURATION", "warmup": "$WARMUP", "connections": $CONNECTIONS,
    "threads": $THREADS, "learners": $LEARNERS, "rounds": $ROUNDS, "workers": $WORKERS,
    "peer_procs": $PEER_PROCS if $with_peer else 0,
    "max_requests": "${EASYSKS_MAX_REQUESTS:-}", "pg_durable": "${BENCH_PG_FAST:-0}" != "1",
    "plan_cache_mode": "${BENCH_PLAN_CACHE_MODE:-auto}",
    "nginx_workers": $(nproc),
    "commit": "$(git -C "$EASYSKS_ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$EASYSKS_ROOT" diff --quiet HEAD 2>/dev/null || echo '+dirty')",
    "versions": {"nginx": "$("$NGINX_BIN" -v 2>&1 | sed 's|.*/||')", "node": "$(node --version)",
                 "postgres": "$(pg_mon -c 'SHOW server_version' 2>/dev/null)", "wrk": "$(wrk -v 2>&1 | head -n1 | cut -d' ' -f2)"},
}
for extra in sys.argv[2:]:
    meta.update(json.load(open(extra)))
json.dump(meta, open(sys.argv[1], "w"))
PY
}

mem_json() { # OUT_FILE
    local pids
    mapfile -t pids < <(pool_workers)
    python3 "$BENCH_DIR/procstat.py" mem "${pids[@]}" >"$1"
}

# --- modes --------------------------------------------------------------------

# The study endpoints both sides have: name, path, wrk script mode.
STUDY=("due /api/study/due?limit=20 get" "review /api/study/review review" "dash /api/dashboard/summary get")

run_table() {
    local round t name path mode
    # Endpoints still being built elsewhere: skipped while they answer 404.
    local have_exam=0 have_webhook=0 code webhook_secret
    code=$(probe ours /api/exam-sessions exam-start)
    if [ "$code" != 404 ]; then
        if node "$BENCH_DIR/fixtures.mjs" exam-sessions --base "$(base_of ours)" \
            --tokens "$BENCH_TOKENS" >"$IT/exam-sessions" 2>"$IT/log/fixtures.log"; then
            export BENCH_EXAM_SESSIONS=$IT/exam-sessions
            have_exam=1
        else
            echo "exam endpoints answer $code but sessions could not be started: $(tail -n1 "$IT/log/fixtures.log")"
        fi
    fi
    # Signed with the test stack's webhook secret (tests/integration/setup_billing.sh).
    export BENCH_WEBHOOKS=$IT/webhooks
    webhook_secret=${STRIPE_WEBHOOK_SECRETS%%,*}
    node "$BENCH_DIR/fixtures.mjs" webhooks --secret "$webhook_secret" --count 1 >"$BENCH_WEBHOOKS"
    code=$(probe ours /webhooks/stripe webhook)
    [ "$code" != 404 ] && have_webhook=1
    [ $have_exam = 1 ] || echo "exam start/save: not measured (POST /api/exam-sessions answers 404 here)"
    [ $have_webhook = 1 ] || echo "webhook: not measured (POST /webhooks/stripe answers 404 here)"

    # Every measured request must succeed first.
    for t in "static /health none" "hello /bench/hello none" "config /api/client-config none" \
        "health /api/health none" "me /api/me get" "topics /api/topics get" "${STUDY[@]}" \
        "search /api/cards?q=kardinal search" "sheet /api/study/practice?sheet=7 sheet"; do
        read -r name path mode <<<"$t"
        code=$(probe ours "$path" "$mode")
        [ "$code" = 200 ] || { echo "probe $name ($path) answered $code: $(head -c 300 "$IT/probe.body")" >&2; return 1; }
    done
    if [ $with_peer = 1 ]; then
        for t in "${STUDY[@]}"; do
            read -r name path mode <<<"$t"
            code=$(probe peer "$path" "$mode")
            [ "$code" = 200 ] || { echo "peer probe $name answered $code: $(head -c 300 "$IT/probe.body")" >&2; return 1; }
        done
    fi

    mem_json "$IT/rss-before"
    echo
    for ((round = 1; round <= ROUNDS; round++)); do
        [ "$ROUNDS" -gt 1 ] && echo "round $round/$ROUNDS"
        measure static ours /health none round=$round
        [ $with_peer = 1 ] && measure static peer /health none round=$round
        measure hello ours /bench/hello none round=$round
        # What one FastCGI request costs without and with one query.
        measure config ours /api/client-config none round=$round
        measure health ours /api/health none round=$round
        measure me ours /api/me get round=$round
        # The cheapest authenticated request: token and user id from the
        # worker's caches, the answer from memory.
        measure topics ours /api/topics get round=$round
        # Ours and the peer back to back per endpoint: both see the same
        # machine, whatever else runs on it at that moment.
        for t in "${STUDY[@]}"; do
            read -r name path mode <<<"$t"
            measure "$name" ours "$path" "$mode" round=$round
            [ $with_peer = 1 ] && measure "$name" peer "$path" "$mode" round=$round
        done
        # Ours only (the peer has neither): the catalogue search and
        # practice by sheet, next to the study reads above.
        measure search ours "/api/cards?q=kardinal" search round=$round
        measure sheet ours "/api/study/practice?sheet=7" sheet round=$round
        if [ $have_exam = 1 ]; then
            measure exam_start ours /api/exam-sessions exam-start round=$round
            measure exam_save ours /api/exam-sessions exam-save round=$round
        fi
        if [ $have_webhook = 1 ]; then
            node "$BENCH_DIR/fixtures.mjs" webhooks --secret "$webhook_secret" \
                --count 200000 >"$BENCH_WEBHOOKS"
            measure webhook ours /webhooks/stripe webhook round=$round
        fi
    done
    mem_json "$IT/rss-after"
    python3 -c 'import json,sys; json.dump({"rss": {"before": json.load(open(sys.argv[1])), "after": json.load(open(sys.argv[2]))}}, open(sys.argv[3], "w"))' \
        "$IT/rss-before" "$IT/rss-after" "$IT/meta-rss.json"
    write_meta "$IT/meta-rss.json"
    python3 "$BENCH_DIR/report.py" table "$RESULTS" "$META" "$OUT"
}

run_scaling() {
    local w t round
    for w in ${BENCH_SCALING_WORKERS:-1 2 4 8 16}; do
        pool_restart "$w" >>"$IT/bench-setup.log" 2>&1 || { echo "pool with $w workers did not start" >&2; return 1; }
        for ((round = 1; round <= ROUNDS; round++)); do
            for t in ${BENCH_SCALING_TARGETS:-due review dash}; do
                case $t in
                me) measure me ours /api/me get workers="$w" round=$round ;;
                due) measure due ours "/api/study/due?limit=20" get workers="$w" round=$round ;;
                review) measure review ours /api/study/review review workers="$w" round=$round ;;
                dash) measure dash ours /api/dashboard/summary get workers="$w" round=$round ;;
                esac
            done
        done
    done
    write_meta
    python3 "$BENCH_DIR/report.py" scaling "$RESULTS" "$META" "$OUT"
}

run_keepalive() {
    local cfg w k t
    for cfg in ${BENCH_KEEPALIVE_CONFIGS:-4:0 4:1 4:2 4:4 8:0 8:2 8:4 16:0 16:4 16:8}; do
        w=${cfg%%:*}
        k=${cfg##*:}
        {
            pool_restart "$w" && hello_stop && hello_start "$w" && nginx_variant "$k"
        } >>"$IT/bench-setup.log" 2>&1 || { echo "config $cfg failed" >&2; return 1; }
        for t in ${BENCH_KEEPALIVE_TARGETS:-hello me due}; do
            case $t in
            hello) measure hello ours /bench/hello none workers="$w" keepalive="$k" ;;
            me) measure me ours /api/me get workers="$w" keepalive="$k" ;;
            due) measure due ours "/api/study/due?limit=20" get workers="$w" keepalive="$k" ;;
            review) measure review ours /api/study/review review workers="$w" keepalive="$k" ;;
            esac
        done
    done
    nginx_variant 0 >/dev/null 2>&1
    write_meta
    python3 "$BENCH_DIR/report.py" keepalive "$RESULTS" "$META" "$OUT"
}

run_rss() {
    local total=${BENCH_RSS_TOTAL:-1000000} step=${BENCH_RSS_STEP:-100000} done_n=0 i=0
    local path=${BENCH_RSS_PATH:-/api/topics}
    echo "[]" >"$IT/rss-samples"
    add_sample() {
        mem_json "$IT/mem.now"
        python3 - "$IT/rss-samples" "$IT/mem.now" "$1" "$2" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s.append({"step": int(sys.argv[4]), "requests": int(sys.argv[3]), "mem": json.load(open(sys.argv[2]))})
json.dump(s, open(sys.argv[1], "w"))
PY
    }
    add_sample 0 0
    # wrk stops by time, not by count: chunks long enough for about STEP
    # requests at the rate of the first chunk; the samples give the counts.
    local chunk=${BENCH_RSS_CHUNK:-2}
    WARMUP=0
    while [ "$done_n" -lt "$total" ]; do
        i=$((i + 1))
        DURATION=${chunk}s measure rss ours "$path" get step=$i
        done_n=$(python3 -c 'import json,sys; print(sum(json.loads(l)["wrk"]["requests"] for l in open(sys.argv[1]) if l.strip() and json.loads(l).get("wrk")))' "$RESULTS")
        add_sample "$done_n" "$i"
        if [ "$i" = 1 ] && [ "$done_n" -gt 0 ]; then
            chunk=$(((step * chunk + done_n - 1) / done_n))
        fi
    done
    python3 -c 'import json,sys; json.dump({"samples": json.load(open(sys.argv[1])), "total": int(sys.argv[2]), "endpoint": sys.argv[3]}, open(sys.argv[4], "w"))' \
        "$IT/rss-samples" "$done_n" "GET $path" "$IT/meta-rss.json"
    write_meta "$IT/meta-rss.json"
    python3 "$BENCH_DIR/report.py" rss "$RESULTS" "$META" "$OUT"
}

# Levers that can be tried from outside the C code, each measured against
# the current set-up in the same run (base, variant, base again: the base
# is the mean of both, so drift shows up as their difference):
#   generic     plan_cache_mode = force_generic_plan as a role setting of
#               easysks_web (prepared statements stop being re-planned)
#   budget      EASYSKS_MAX_REQUESTS 0 (no worker recycling) vs the default
#   durable     synchronous_commit off vs on (the price of durable reviews;
#               informative only: an acknowledged review stays durable)
#   accesslog   nginx's JSON access log off for /api/ vs on
run_levers() {
    local lever phase t name path mode
    lever_set() { # LEVER on|off
        case $1 in
        generic)
            if [ "$2" = on ]; then
                pg_mon -c "ALTER ROLE easysks_web SET plan_cache_mode = force_generic_plan" >/dev/null
            else
                pg_mon -c "ALTER ROLE easysks_web RESET plan_cache_mode" >/dev/null
            fi
            pool_restart "$WORKERS" ;;
        budget)
            if [ "$2" = on ]; then export EASYSKS_MAX_REQUESTS=0; else unset EASYSKS_MAX_REQUESTS; fi
            pool_restart "$WORKERS" ;;
        durable)
            pg_mon -c "ALTER SYSTEM SET synchronous_commit = $([ "$2" = on ] && echo off || echo on)" \
                -c "SELECT pg_reload_conf()" >/dev/null ;;
        accesslog)
            nginx_variant 0 "$([ "$2" = on ] && echo off || echo on)" ;;
        esac
    }
    for lever in ${BENCH_LEVERS:-generic budget durable accesslog}; do
        local targets
        case $lever in
        generic) targets=("${STUDY[@]}") ;;
        budget | accesslog) targets=("me /api/me get" "${STUDY[0]}") ;;
        durable) targets=("${STUDY[1]}") ;;
        *) echo "unknown lever $lever" >&2; return 1 ;;
        esac
        for phase in base variant base2; do
            lever_set "$lever" "$([ $phase = variant ] && echo on || echo off)" >>"$IT/bench-setup.log" 2>&1 ||
                { echo "lever $lever ($phase) could not be set" >&2; return 1; }
            for t in "${targets[@]}"; do
                read -r name path mode <<<"$t"
                measure "$name" ours "$path" "$mode" lever="$lever" phase="$phase"
            done
        done
    done
    write_meta
    python3 "$BENCH_DIR/report.py" levers "$RESULTS" "$META" "$OUT"
}

# What clients see while the database goes away and comes back, from
# nginx's access log (status and time of every request), second by second:
#   crash  PostgreSQL stops at once (connections reset) and is back after
#          BENCH_OUTAGE seconds (like a failover whose new primary answers)
#   stall  PostgreSQL is frozen (SIGSTOP: connections stay open, nothing
#          answers, like a primary that vanished from the network) for
#          BENCH_OUTAGE seconds, then resumes
run_failover() {
    local scenario outage=${BENCH_OUTAGE:-10} pids wrk_pid t0 log=$IT/log/access.log
    for scenario in ${BENCH_FAILOVER:-crash stall}; do
        : >"$log"
        "$NGINX_BIN" -p "$IT/nginx" -c "$IT/nginx/nginx.conf" -e "$IT/log/error.log" -s reopen
        sleep 0.5
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$((outage + 20))s" --timeout 40s -s "$BENCH_DIR/study.lua" \
            "$(base_of ours)/api/study/due?limit=20" -- get >"$IT/wrk.failover.$scenario" 2>&1 &
        wrk_pid=$!
        echo "kill $wrk_pid 2>/dev/null" >"$IT/wrk-failover.cleanup"
        sleep 5
        t0=$(date +%s.%N)
        case $scenario in
        crash)
            as_pg "$PG_BIN/pg_ctl" -D "$(readlink -f "$IT/pg")/data" -m immediate -w stop >/dev/null
            sleep "$outage"
            as_pg "$PG_BIN/pg_ctl" -D "$(readlink -f "$IT/pg")/data" -l "$(readlink -f "$IT/pg")/postgres.log" \
                -w start >/dev/null ;;
        stall)
            mapfile -t pids < <(pg_pid; pgrep -P "$(pg_pid)")
            echo "kill -CONT ${pids[*]} 2>/dev/null" >"$IT/pg-stall.cleanup"
            kill -STOP "${pids[@]}"
            sleep "$outage"
            kill -CONT "${pids[@]}"
            rm -f "$IT/pg-stall.cleanup" ;;
        esac
        wait "$wrk_pid"
        rm -f "$IT/wrk-failover.cleanup"
        python3 "$BENCH_DIR/report.py" failover "$scenario" "$log" "$t0" "$outage" \
            "$IT/wrk.failover.$scenario" >>"$IT/failover.jsonl"
        sleep 3
    done
    write_meta
    python3 "$BENCH_DIR/report.py" failover-table "$IT/failover.jsonl" "$META" "$OUT"
}

run_profile() {
    local t dir stamp perf_pid
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    dir=$OUT/profile-$stamp
    mkdir -p "$dir"
    for t in ${BENCH_PROFILE_TARGETS:-me due review dash}; do
        set -- "$t"
        case $t in
        me) set -- me /api/me get ;;
        due) set -- due "/api/study/due?limit=20" get ;;
        review) set -- review /api/study/review review ;;
        dash) set -- dash /api/dashboard/summary get ;;
        esac
        bg_wait wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$BENCH_DIR/study.lua" \
            "$(base_of ours)$2" -- "$3" >/dev/null 2>&1
        perf record -e cpu-clock -F "${BENCH_PERF_FREQ:-499}" -a -o "$IT/perf.$1" \
            >"$IT/log/perf.$1.log" 2>&1 &
        perf_pid=$!
        echo "kill -INT $perf_pid 2>/dev/null" >"$IT/perf.cleanup"
        sleep 0.5
        WARMUP=0 measure "$1" ours "$2" "$3"
        kill -INT "$perf_pid"
        wait "$perf_pid"
        rm -f "$IT/perf.cleanup"
        {
            echo "# $1: share of all samples by process and library"
            perf report -i "$IT/perf.$1" --stdio --sort comm,dso --percent-limit 0.5 2>/dev/null |
                grep -v '^$'
            for comm in easysks-fcgi postgres nginx; do
                echo
                echo "# $1: top symbols in $comm (share of that command's samples)"
                perf report -i "$IT/perf.$1" --stdio --comms "$comm" --sort dso,sym \
                    --percentage relative --percent-limit 1 2>/dev/null | grep -v '^#' | grep -v '^$' |
                    head -n 40
            done
        } >"$dir/$1.txt"
        echo "  profile: $dir/$1.txt"
    done
    write_meta
    cp "$RESULTS" "$dir/results.jsonl"
    cp "$META" "$dir/meta.json"
}

case $MODE in
table) run_table ;;
scaling) run_scaling ;;
keepalive) run_keepalive ;;
levers) run_levers ;;
failover) run_failover ;;
rss) run_rss ;;
profile) run_profile ;;
esac
rc=$?
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $rc
