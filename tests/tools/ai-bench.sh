#!/usr/bin/env bash
# The pool under a slow AI model (docs/ai.md "Measured"): wrk against
# /api/health and /api/me on a throwaway stack (tests/integration/stack.sh,
# the OpenAI stand-in answering after AI_BENCH_DELAY_MS), in three phases:
#
#   idle      no AI traffic
#   bounded   AI_BENCH_CLIENTS learners loop on AI study checks while an exam
#             sheet (30 answers) is graded by easysks-jobs; AI_SYNC_SLOTS=1
#   unbounded the same, with AI_SYNC_SLOTS = the number of workers (what
#             "no bound" would be)
#
# Prints requests/s and latency percentiles per phase, and what the study
# checks got (graded by the model, or answered without it: ai_busy).
# Not part of `make test`: figures are noisy; compare phases of one run.
#
#   tests/tools/ai-bench.sh     (env: BENCH_WORKERS 4, BENCH_DURATION 10s,
#                                AI_BENCH_CLIENTS 8, AI_BENCH_DELAY_MS 2000,
#                                AI_BENCH_SYNC_TIMEOUT_MS 8000)
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/integration/lib.sh
. "$here/integration/lib.sh"
# shellcheck source=tests/integration/stack.sh
. "$here/integration/stack.sh"

export EASYSKS_WORKERS=${BENCH_WORKERS:-4} LOG_LEVEL=warn
DURATION=${BENCH_DURATION:-10s}
CLIENTS=${AI_BENCH_CLIENTS:-8}
DELAY=${AI_BENCH_DELAY_MS:-2000}
stack_setup || exit 1
base=https://127.0.0.1:$EASYSKS_HTTPS_PORT

token() {
    node "$EASYSKS_ROOT/tests/tools/mint-token.mjs" --key "$SIGNING/test-key-1.pem" --kid test-key-1 \
        --iss "$AUTH_ISSUER" --client-id test-client --sub "$1" --exp-offset 3600
}
premium() {
    MIGRATE_DATABASE_URL=$MIGRATE_DATABASE_URL EASYSKS_OPERATOR=bench "$EASYSKS_ROOT/build/easysks-admin" \
        grant-premium --sub "$1" --until "$(date -u -d '+30 days' +%F)" --reason bench >/dev/null 2>&1
}
# Reload the pool with extra settings (the config file wins over the environment).
reload() {
    local old i
    printf '%s\n' "$@" >"$EASYSKS_CONFIG_FILE"
    old=$(worker_pids | tr '\n' ' ')
    kill -HUP "$(pool_pid)"
    for ((i = 0; i < 200; i++)); do
        local now stale=0 p
        now=$(worker_pids)
        for p in $old; do grep -qx "$p" <<<"$now" && stale=1; done
        [ "$stale" = 0 ] && [ "$(wc -w <<<"$now")" -eq "$EASYSKS_WORKERS" ] && return 0
        sleep 0.1
    done
    echo "workers not replaced" >&2
    exit 1
}

me_token=$(token bench-me)
curl -ksf -H "Authorization: Bearer $me_token" "$base/api/me" >/dev/null
for i in $(seq 1 "$CLIENTS"); do premium "bench-ai-$i"; done
premium bench-exam

wrk_run() { # LABEL URL [wrk args]
    local label=$1 url=$2
    shift 2
    # A 10 s timeout, so requests stuck behind the model count with their latency.
    wrk -t2 -c8 -d"$DURATION" --timeout 10s --latency "$@" "$url" >"$IT/wrk.out" 2>&1
    printf '  %-12s %9s req/s  p50 %-8s p99 %-8s non-2xx %s  %s\n' "$label" \
        "$(awk '/^Requests\/sec:/ {print $2}' "$IT/wrk.out")" \
        "$(awk '$1 == "50%" {print $2}' "$IT/wrk.out")" "$(awk '$1 == "99%" {print $2}' "$IT/wrk.out")" \
        "$(awk '/Non-2xx/ {print $NF}' "$IT/wrk.out" | grep . || echo 0)" \
        "$(grep -o 'Socket errors.*' "$IT/wrk.out" || true)"
}

# CLIENTS learners, each looping on AI study checks until $1 (epoch s);
# their pids go to CLIENT_PIDS (a bare `wait` would wait for the stubs too).
ai_clients() {
    local until=$1 i
    CLIENT_PIDS=()
    for i in $(seq 1 "$CLIENTS"); do
        (
            t=$(token "bench-ai-$i")
            while [ "$(date +%s)" -lt "$until" ]; do
                curl -ks -o "$IT/ai.$i.body" -w '%{http_code} %{time_total} ' --max-time 30 \
                    -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
                    --data-binary '{"card_id":"navigation_1","user_answer":"Unterlagen prüfen","mode":"ai"}' \
                    "$base/api/study/evaluate-answer"
                jq -r '(.grader // .code) + "/" + (.fallback_reason // "-")' "$IT/ai.$i.body" 2>/dev/null || echo parse
            done >"$IT/ai.$i.log"
        ) &
        CLIENT_PIDS+=($!)
    done
}

# An exam sheet with 30 answers, submitted: easysks-jobs grades it meanwhile.
exam() {
    local t id card
    t=$(token bench-exam)
    curl -ksf -X PUT -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
        --data-binary '{"ai_enabled":true}' "$base/api/settings" >/dev/null
    id=$(curl -ksf -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
        --data-binary "{\"sheet_number\":$1}" "$base/api/exam-sessions" | jq -r .session_id)
    for card in $(curl -ksf -H "Authorization: Bearer $t" "$base/api/exam-sessions/$id" | jq -r '.questions[].card_id'); do
        curl -ksf -X PUT -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
            --data-binary '{"student_answer":"Eine Antwort"}' "$base/api/exam-sessions/$id/answers/$card" >/dev/null
    done
    curl -ksf -X POST -H "Authorization: Bearer $t" "$base/api/exam-sessions/$id/submit" | jq -r .grading
}

phase() { # LABEL SHEET
    local secs=${DURATION%s} grading
    rm -f "$IT"/ai.*.log
    grading=$(exam "$2")
    ai_clients $(($(date +%s) + secs * 2 + 2))
    sleep 1
    echo "$1 (study checks: $CLIENTS clients looping; exam sheet $2 submitted: grading $grading)"
    wrk_run /api/health "$base/api/health"
    wrk_run /api/me "$base/api/me" -H "Authorization: Bearer $me_token"
    wait "${CLIENT_PIDS[@]}"
    awk '{n[$3]++; if ($1 == 200) { t[$3] += $2; c[$3]++ } } END {
        for (k in n) printf "  study checks %-28s %4d  mean %.2f s\n", k, n[k], c[k] ? t[k] / c[k] : 0 }' \
        "$IT"/ai.*.log | sort
    echo "  grading jobs: $(psql_owner -c "SELECT string_agg(state || ' ' || n, ', ') FROM (SELECT state, count(*) n FROM grading_jobs GROUP BY state) s")"
}

echo "machine: $(nproc) cores; pool: $EASYSKS_WORKERS workers; wrk: 2 threads, 8 connections, $DURATION; model delay ${DELAY} ms"
# The default study-check deadline (8 s): the model's 2 s answers arrive.
settings=("AI_RATE_PER_MINUTE=10000" "AI_DAILY_QUOTA=1000000" "AI_SYNC_TIMEOUT_MS=${AI_BENCH_SYNC_TIMEOUT_MS:-8000}")
reload "${settings[@]}" "AI_SYNC_SLOTS=1"
echo "idle"
wrk_run /api/health "$base/api/health"
wrk_run /api/me "$base/api/me" -H "Authorization: Bearer $me_token"
curl -sf "$OPENAI_STUB/_mode?mode=slow&delay_ms=$DELAY&for=chat" >/dev/null
phase "bounded: AI_SYNC_SLOTS=1" 11
reload "${settings[@]}" "AI_SYNC_SLOTS=$EASYSKS_WORKERS"
phase "unbounded: AI_SYNC_SLOTS=$EASYSKS_WORKERS (= workers)" 12
curl -sf "$OPENAI_STUB/_reset" >/dev/null
