#!/usr/bin/env bash
# `make bench`: wrk against a throwaway stack on loopback, in one run:
#   1. nginx's static /health          (TLS + nginx alone)
#   2. /api/client-config              (FastCGI round trip, no database)
#   3. /api/health through the pool    (+ one PostgreSQL query)
#   4. /api/me with a bearer token     (+ token cache hit + user read)
#   5. /media/ through auth_request    (nginx subrequest to the pool + static file)
#   6. the study endpoints (due, review, dashboard) for BENCH_LEARNERS (50)
#      learners with a study history, each request from the next learner
# Prints requests/s and latency percentiles for each and the ratios against
# (1). Not part of `make test`: figures on shared machines are noisy, so
# compare ratios from one run, never absolute numbers across runs.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$here/integration/lib.sh"
# shellcheck source=tests/integration/stack.sh
. "$here/integration/stack.sh"

DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
export EASYSKS_WORKERS=${BENCH_WORKERS:-4} LOG_LEVEL=warn

stack_setup || exit 1

token=$(node "$EASYSKS_ROOT/tests/tools/mint-token.mjs" --key "$SIGNING/test-key-1.pem" \
    --kid test-key-1 --iss "$AUTH_ISSUER" --client-id test-client --sub bench-user --exp-offset 3600)
# Learners with a study history, each request from the next one.
LEARNERS=${BENCH_LEARNERS:-50}
export BENCH_TOKENS=$IT/bench-tokens
for i in $(seq 1 "$LEARNERS"); do
    node "$EASYSKS_ROOT/tests/tools/mint-token.mjs" --key "$SIGNING/test-key-1.pem" --kid test-key-1 \
        --iss "$AUTH_ISSUER" --client-id test-client --sub "bench-learner-$i" --exp-offset 3600
done >"$BENCH_TOKENS"
node "$here/bench/learners.mjs" --base "https://127.0.0.1:$EASYSKS_HTTPS_PORT" --tokens "$BENCH_TOKENS" || exit 1

base=https://127.0.0.1:$EASYSKS_HTTPS_PORT
run() { # KEY LABEL URL [wrk options] [-- script args]
    local name=$1 label=$2 url=$3
    shift 3
    local opts=() script_args=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    [ $# -gt 0 ] && shift && script_args=(-- "$@")
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "${opts[@]}" "$url" "${script_args[@]}" >"$IT/wrk.$name" 2>&1
    local rps p50 p99 non2xx
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$IT/wrk.$name")
    p50=$(awk '$1 == "50%" {print $2}' "$IT/wrk.$name")
    p99=$(awk '$1 == "99%" {print $2}' "$IT/wrk.$name")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$IT/wrk.$name")
    printf '%-34s %10s req/s   p50 %-9s p99 %-9s non-2xx %s\n' "$label" "$rps" "$p50" "$p99" "${non2xx:-0}"
    echo "$rps" >"$IT/rps.$name"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
echo "pool: $EASYSKS_WORKERS workers; nginx: worker_processes auto; wrk: $THREADS threads, $CONNECTIONS connections, $DURATION each"
echo
run static "nginx /health (static)" "$base/health"
run config "pool /api/client-config (no db)" "$base/api/client-config"
run health "pool /api/health (db query)" "$base/api/health"
run me "pool /api/me (token + user read)" "$base/api/me" -H "Authorization: Bearer $token"
run media "nginx /media (auth_request)" "$base/media/seemannschaft_i_q41_a1.gif" -H "Authorization: Bearer $token"
study=$here/bench/study.lua
run due "study/due?limit=20 ($LEARNERS learners)" "$base/api/study/due?limit=20" -s "$study" -- get
run review "study/review ($LEARNERS learners)" "$base/api/study/review" -s "$study" -- review
run dash "dashboard/summary ($LEARNERS learners)" "$base/api/dashboard/summary" -s "$study" -- get
echo
s=$(cat "$IT/rps.static")
awk -v a="$(cat "$IT/rps.config")" -v b="$s" 'BEGIN { if (b > 0) printf "ratio /api/client-config : /health = %.2f\n", a / b }'
awk -v a="$(cat "$IT/rps.health")" -v b="$s" 'BEGIN { if (b > 0) printf "ratio /api/health : /health = %.2f\n", a / b }'
awk -v a="$(cat "$IT/rps.me")" -v b="$s" 'BEGIN { if (b > 0) printf "ratio /api/me     : /health = %.2f\n", a / b }'
awk -v a="$(cat "$IT/rps.me")" -v b="$(cat "$IT/rps.health")" 'BEGIN { if (b > 0) printf "ratio /api/me     : /api/health = %.2f\n", a / b }'
awk -v a="$(cat "$IT/rps.media")" -v b="$s" 'BEGIN { if (b > 0) printf "ratio /media      : /health = %.2f\n", a / b }'
for k in due review dash; do
    awk -v k="$k" -v a="$(cat "$IT/rps.$k")" -v b="$(cat "$IT/rps.health")" 'BEGIN { if (b > 0) printf "ratio %-10s: /api/health = %.2f\n", k, a / b }'
done
