#!/usr/bin/env bash
# `make chaos`: faults under load on a throwaway stack (the integration
# suite's: PostgreSQL, nginx, the pool, cognito-local, the JWKS and Stripe
# stand-ins, all on loopback), each scenario checked against the database
# afterwards, a table at the end. Bounded: about four minutes.
#
#   tests/chaos/run.sh [SCENARIO...]    (reviews stripe checkout jwks catalogue; all by default)
#
# CHAOS_SECONDS (default 30) is the load phase of each scenario;
# EASYSKS_BIN_DIR=build-san runs it against the sanitized build. Ends with
# "N passed, M failed". A pre-release step (docs/operations.md), not part of
# `make test`.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=tests/integration/lib.sh
. "$root/tests/integration/lib.sh"
export EASYSKS_WORKERS=${EASYSKS_WORKERS:-4}
# A durable PostgreSQL (fsync, synchronous commit): the integration suite's
# fast one loses acknowledged commits when it crashes, which is what the
# reviews scenario would then report.
export STACK_PG_MODE=durable
# shellcheck source=tests/integration/stack.sh
. "$root/tests/integration/stack.sh"

SECONDS_LOAD=${CHAOS_SECONDS:-30}
scenarios=("$@")
[ "${#scenarios[@]}" -eq 0 ] && scenarios=(reviews stripe checkout jwks catalogue)
ROWS=$IT/chaos.rows
: >"$ROWS"
passed=0 failed=0

# row SCENARIO LOAD FAULTS CHECKED RESULT
row() { printf '| %s | %s | %s | %s | %s |\n' "$@" >>"$ROWS"; }

token() { # SUB [KID]
    node "$root/tests/tools/mint-token.mjs" --key "$SIGNING/test-key-1.pem" --kid "${2:-test-key-1}" \
        --iss "$AUTH_ISSUER" --client-id test-client --sub "$1" --exp-offset 7200
}

random_worker() { worker_pids | shuf -n1; }

pg_restart() { # MODE
    pg_stop "$IT/pg" "$1" >/dev/null 2>&1
    sleep 1
    pg_start "$IT/pg" >/dev/null 2>&1
}

# --- reviews: PostgreSQL restarts, SIGKILLed workers, reload and resize ---
chaos_reviews() {
    local i out=$IT/reviews.json faults=0 kills=0 lost dup stored bad slow n
    for i in 1 2 3 4 5 6 7 8; do token "$(cat /proc/sys/kernel/random/uuid)"; done >"$IT/tokens"
    psql_owner -c "SELECT card_id FROM cards WHERE NOT retired ORDER BY position LIMIT 150" >"$IT/cards"
    node "$here/reviews.mjs" --base "https://127.0.0.1:$EASYSKS_HTTPS_PORT" --tokens "$IT/tokens" --cards "$IT/cards" \
        --concurrency 32 --duration-ms $((SECONDS_LOAD * 1000)) --out "$out" >"$IT/reviews.summary" 2>"$IT/reviews.err" &
    local load=$!
    for ((i = 1; i <= SECONDS_LOAD; i++)); do
        sleep 1
        if ((i % 3 == 0)); then
            kill -KILL "$(random_worker)" 2>/dev/null && kills=$((kills + 1))
        fi
        case $((i * 10 / SECONDS_LOAD)) in
        2) [ "$faults" = 0 ] && { pg_restart fast; faults=1; } ;;
        4) [ "$faults" = 1 ] && { kill -HUP "$(pool_pid)"; faults=2; } ;;
        5) [ "$faults" = 2 ] && { kill -TTIN "$(pool_pid)"; kill -TTIN "$(pool_pid)"; faults=3; } ;;
        6) [ "$faults" = 3 ] && { kill -TTOU "$(pool_pid)"; kill -TTOU "$(pool_pid)"; faults=4; } ;;
        8) [ "$faults" = 4 ] && { pg_restart immediate; faults=5; } ;;
        esac
    done
    wait "$load"
    # Every acknowledged review id against review_logs: stored exactly once.
    jq -r '.acked[]' "$out" >"$IT/acked.ids"
    n=$(wc -l <"$IT/acked.ids")
    psql_owner >"$IT/acked.check" 2>&1 <<SQL
CREATE TEMP TABLE acked (id uuid);
\\copy acked FROM '$IT/acked.ids'
SELECT count(*) FILTER (WHERE c = 0), count(*) FILTER (WHERE c = 1), count(*) FILTER (WHERE c > 1)
FROM (SELECT a.id, count(r.review_id) AS c FROM acked a LEFT JOIN review_logs r ON r.review_id = a.id GROUP BY a.id) x;
SQL
    IFS='|' read -r lost stored dup <"$IT/acked.check"
    bad=$(jq '[.statuses | to_entries[] | select(.key != "200" and .key != "503" and .key != "429") | .value] | add // 0' "$out")
    slow=$(jq .slowest_ms "$out")
    local statuses
    statuses=$(jq -r '.statuses | to_entries | map("\(.key): \(.value)") | join(", ")' "$out")
    local unacked unexpected
    unacked=$(jq '.unacked | length' "$out")
    unexpected=$(jq '.unexpected | length' "$out")
    local verdict=pass
    if [ "$n" -lt 100 ] || [ "${lost:-x}" != 0 ] || [ "${dup:-x}" != 0 ] || [ "$stored" != "$n" ] ||
        [ "$bad" != 0 ] || [ "$unacked" != 0 ] || [ "$unexpected" != 0 ] || [ "$slow" -gt 30000 ]; then
        verdict=FAIL
        cat "$IT/acked.check" "$IT/reviews.err" >&2
        jq -c '.unexpected[:3]' "$out" >&2
    fi
    row "reviews (single + offline batches of 3)" "32 clients, ${SECONDS_LOAD} s, $(jq .attempts "$out") requests ($statuses)" \
        "PostgreSQL restart (fast, then immediate), $kills workers SIGKILLed, reload, +2/-2 workers" \
        "$n acknowledged: $stored stored once, ${lost:-?} lost, ${dup:-?} twice; $unacked never acknowledged; slowest $slow ms (limit: EASYSKS_REQUEST_TIMEOUT 30 s)" \
        "$verdict"
    [ "$verdict" = pass ]
}

# --- stripe: the same events concurrently and out of order, a DB restart ---
chaos_stripe() {
    local sub=chaos-billing-learner t now i k verdict=pass hdr
    t=$(token "$sub")
    req GET /api/me -H "Authorization: Bearer $t"
    [ "$STATUS" = 200 ] || { row stripe - - "learner: $STATUS" FAIL; return 1; }
    now=$(date +%s)
    # checkout, created, updated (later period end), past_due, active again: the last one wins.
    local -a args=(
        "--type checkout.session.completed --id evt_chaos_1 --session cs_chaos --client-reference-id $sub --customer cus_chaos --subscription sub_chaos --created $now"
        "--type customer.subscription.created --id evt_chaos_2 --sub sub_chaos --customer cus_chaos --status active --period-end $((now + 86400)) --created $((now + 1))"
        "--type customer.subscription.updated --id evt_chaos_3 --sub sub_chaos --customer cus_chaos --status past_due --period-end $((now + 86400)) --created $((now + 2))"
        "--type customer.subscription.updated --id evt_chaos_4 --sub sub_chaos --customer cus_chaos --status active --period-end $((now + 40 * 86400)) --created $((now + 3))"
    )
    for k in 0 1 2 3; do
        # shellcheck disable=SC2086
        hdr=$(node "$root/tests/tools/stripe-event.mjs" --secret "$BILLING_SECRET_NEW" --body-out "$IT/evt.$k.json" ${args[$k]}) ||
            { row stripe - - "stripe-event.mjs failed" FAIL; return 1; }
        echo "$hdr" >"$IT/evt.$k.hdr"
    done
    # 50 deliveries per event, in random order, 20 at a time; each retried
    # like Stripe until it gets a 2xx; the database restarts meanwhile.
    for k in 0 1 2 3; do for i in $(seq 1 50); do echo "$k $i"; done; done | shuf >"$IT/deliveries"
    deliver() {
        local k=$1 i=$2 code tries=0
        while :; do
            tries=$((tries + 1))
            code=$(curl -ks -o "$IT/del.$k.$i" -w '%{http_code}' -X POST -H "Stripe-Signature: $(cat "$IT/evt.$k.hdr")" \
                -H 'Content-Type: application/json' --data-binary @"$IT/evt.$k.json" --max-time 30 \
                "https://127.0.0.1:$EASYSKS_HTTPS_PORT/webhooks/stripe")
            echo "$code" >>"$IT/del.codes"
            [ "$code" = 200 ] && break
            [ "$tries" -ge 60 ] && { echo "gave up" >>"$IT/del.codes"; break; }
            sleep 0.5
        done
    }
    : >"$IT/del.codes"
    (sleep 2; pg_restart fast) &
    local restarter=$! running=0 pids=()
    while read -r k i; do
        deliver "$k" "$i" &
        pids+=($!)
        running=$((running + 1))
        if [ "$running" -ge 20 ]; then wait -n "${pids[@]}"; running=$((running - 1)); fi
    done <"$IT/deliveries"
    # Only our own children: the stack's servers are children of this shell too.
    wait "${pids[@]}" "$restarter" 2>/dev/null
    local events applied final codes
    events=$(psql_owner -c "SELECT count(*) FROM stripe_events WHERE event_id LIKE 'evt_chaos_%'")
    applied=$(grep -l '"outcome":"applied"' "$IT"/del.* 2>/dev/null | wc -l)
    final=$(psql_owner -c "SELECT s.status || ' ' || s.event_id || ' ' || (extract(epoch FROM s.current_period_end))::bigint FROM stripe_subscriptions s WHERE s.subscription_id = 'sub_chaos'" 2>&1)
    req GET /api/me -H "Authorization: Bearer $t"
    local plan
    plan=$(json plan)
    codes=$(sort "$IT/del.codes" | uniq -c | awk '{printf "%s%s: %s", sep, $2, $1; sep=", "}')
    if [ "$events" != 4 ] || [ "$final" != "active evt_chaos_4 $((now + 40 * 86400))" ] || [ "$plan" != premium ] ||
        grep -q 'gave up' "$IT/del.codes" || grep -vq '^\(200\|503\)$' "$IT/del.codes"; then
        verdict=FAIL
        echo "events=$events final=$final plan=$plan" >&2
    fi
    row "Stripe webhooks" "4 events x 50 deliveries, shuffled, 20 at a time, retried until 2xx ($codes)" \
        "PostgreSQL restart (fast) during the deliveries" \
        "$events events recorded once each, $applied answers 'applied'; final: $final; plan $plan" "$verdict"
    [ "$verdict" = pass ]
}

# --- checkout: Stripe's API failing, then hanging, under load ---
chaos_checkout() {
    local i d=$SECONDS_LOAD verdict=pass pids=() health=$IT/checkout.health.json
    for i in 1 2 3 4 5 6 7 8; do token "chaos-checkout-$i"; done >"$IT/checkout.tokens"
    : >"$IT/checkout.codes"
    curl -sf -X POST "$STRIPE_STUB/_stub/reset" >/dev/null
    curl -sf -X POST "$STRIPE_STUB/_stub/next" -H 'Content-Type: application/json' \
        --data-binary '{"status":500,"body":{"error":{"type":"api_error","message":"chaos"}},"count":60}' >/dev/null
    node "$root/tests/tools/load.mjs" --url "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/health" --concurrency 8 \
        --duration-ms $((d * 1000)) >"$health" &
    local loadpid=$!
    while read -r t; do
        (
            end=$((SECONDS + d))
            while [ "$SECONDS" -lt "$end" ]; do
                curl -ks -o /dev/null -w '%{http_code} %{time_total}\n' -X POST --max-time 30 \
                    -H "Authorization: Bearer $t" "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/billing/checkout" >>"$IT/checkout.codes"
                sleep 0.2
            done
        ) &
        pids+=($!)
    done <"$IT/checkout.tokens"
    sleep $((d / 3))
    # Then Stripe hangs: each call waits 5 s, past STRIPE_TIMEOUT_MS.
    curl -sf -X POST "$STRIPE_STUB/_stub/next" -H 'Content-Type: application/json' \
        --data-binary '{"status":200,"delay_ms":5000,"count":60}' >/dev/null
    wait "${pids[@]}" "$loadpid"
    # Recovered: every learner gets a Checkout URL.
    curl -sf -X POST "$STRIPE_STUB/_stub/reset" >/dev/null
    local recovered=0
    while read -r t; do
        req POST /api/billing/checkout -H "Authorization: Bearer $t"
        [ "$STATUS" = 200 ] && recovered=$((recovered + 1))
    done <"$IT/checkout.tokens"
    local codes slowest hs hslow timeout_ms=${STRIPE_TIMEOUT_MS:-10000}
    # The slowest checkout may have queued behind the other workers' Stripe
    # calls (16 clients, EASYSKS_WORKERS of them served at a time), each
    # bounded by STRIPE_TIMEOUT_MS: 4 of those and 2 s, never the 5 s hang.
    codes=$(awk '{print $1}' "$IT/checkout.codes" | sort | uniq -c | awk '{printf "%s%s: %s", sep, $2, $1; sep=", "}')
    slowest=$(awk '$2 > m {m = $2} END {printf "%d", m * 1000}' "$IT/checkout.codes")
    hs=$(jq -c .statuses "$health")
    hslow=$(jq .slowest_ms "$health")
    if awk '$1 != "200" && $1 != "502" && $1 != "504" {bad=1} END {exit !bad}' "$IT/checkout.codes" ||
        [ "$slowest" -gt $((4 * timeout_ms + 2000)) ] || [ "$recovered" != 8 ] ||
        [ "$(jq '[.statuses | to_entries[] | select(.key != "200") | .value] | add // 0' "$health")" != 0 ] ||
        ! grep -q '^504 ' "$IT/checkout.codes" || ! grep -q '^502 ' "$IT/checkout.codes"; then
        verdict=FAIL
        echo "codes: $codes slowest $slowest health $hs $hslow recovered $recovered" >&2
    fi
    row "Stripe API during checkout" "8 learners starting checkouts, 8 clients on /api/health, ${d} s" \
        "Stripe answering 500 (60 calls), then hanging 5 s per call (60 calls, STRIPE_TIMEOUT_MS=$timeout_ms)" \
        "checkout: $codes, slowest $slowest ms (limit $((4 * timeout_ms + 2000)) ms); /api/health meanwhile: $hs, slowest $hslow ms; $recovered of 8 learners got a Checkout URL after recovery" \
        "$verdict"
    [ "$verdict" = pass ]
}

# --- jwks: the key endpoint down, then slow; cached keys keep serving ---
chaos_jwks() {
    local t verdict=pass half=$((SECONDS_LOAD / 2)) out1=$IT/jwks1.json out2=$IT/jwks2.json i ok=0
    t=$(token chaos-jwks-user)
    curl -sf "http://127.0.0.1:$JWKS_PORT/control?status=503&delay_ms=0" >/dev/null
    node "$root/tests/tools/load.mjs" --url "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/me" --concurrency 16 \
        --duration-ms $((half * 1000)) --header "Authorization: Bearer $t" >"$out1"
    curl -sf "http://127.0.0.1:$JWKS_PORT/control?status=200&delay_ms=8000" >/dev/null
    # Unknown kids meanwhile ask for a refresh: they must not hold anyone up.
    (for i in $(seq 1 5); do
        curl -ks -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 20 -H "Authorization: Bearer $(token chaos-jwks-user "unknown-$i")" \
            "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/me"
        sleep 1
    done) >"$IT/jwks.unknown" &
    local unknowns=$!
    node "$root/tests/tools/load.mjs" --url "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/me" --concurrency 16 \
        --duration-ms $((half * 1000)) --header "Authorization: Bearer $t" >"$out2"
    wait "$unknowns"
    curl -sf "http://127.0.0.1:$JWKS_PORT/control?status=200&delay_ms=0" >/dev/null
    # Recovery without a restart: a key published now is accepted soon.
    cp "$SIGNING/test-key-2.pem" "$KEYS/"
    local fresh
    fresh=$(node "$root/tests/tools/mint-token.mjs" --key "$SIGNING/test-key-2.pem" --kid test-key-2 \
        --iss "$AUTH_ISSUER" --client-id test-client --sub chaos-jwks-new)
    for ((i = 0; i < 60; i++)); do
        req GET /api/me -H "Authorization: Bearer $fresh"
        [ "$STATUS" = 200 ] && { ok=1; break; }
        sleep 0.5
    done
    local s1 s2 unk slow1 slow2
    s1=$(jq -c .statuses "$out1")
    s2=$(jq -c .statuses "$out2")
    unk=$(awk '{printf "%s%s in %.1f s", sep, $1, $2; sep=", "}' "$IT/jwks.unknown")
    slow1=$(jq .slowest_ms "$out1")
    slow2=$(jq .slowest_ms "$out2")
    if [ "$(jq '[.statuses | to_entries[] | select(.key != "200") | .value] | add // 0' "$out1")" != 0 ] ||
        [ "$(jq '[.statuses | to_entries[] | select(.key != "200") | .value] | add // 0' "$out2")" != 0 ] ||
        [ "$slow1" -gt 4000 ] || [ "$slow2" -gt 4000 ] ||
        [ "$ok" != 1 ] || awk '$2 > 4 || $1 != "401" {bad=1} END {exit !bad}' "$IT/jwks.unknown"; then
        verdict=FAIL
        cat "$out1" "$out2" "$IT/jwks.unknown" >&2
    fi
    row "JWKS endpoint" "16 clients on /api/me, ${half} s down (503) then ${half} s slow (8 s)" \
        "JWKS 503, then 8 s per answer; 5 tokens with unknown kids" \
        "down: $s1, slowest $slow1 ms; slow: $s2, slowest $slow2 ms (limit 4 s: the 3 s JWKS timeout, never the 8 s stall); unknown kids: $unk; a key published after recovery accepted: $([ "$ok" = 1 ] && echo yes || echo no)" \
        "$verdict"
    [ "$verdict" = pass ]
}

# --- catalogue: a seed that adds a card under load (defect 3 of issue 21) ---
chaos_catalogue() {
    local dir=$IT/cat-grown t verdict=pass i n=16 out
    rm -rf "$dir" && cp -r "$EASYSKS_SKS_DATA" "$dir"
    t=$(token chaos-catalogue-user)
    jq '. + [{"topic":"navigation","question_number":998,"question":"Neu?","answer":"Neu.","short_answer":[],"exam_sheets":[]}]' \
        "$EASYSKS_SKS_DATA/sks_catalog.json" >"$dir/sks_catalog.json"
    printf '%s\n' "$t" >"$IT/cat.tokens"
    # Background load keeps every worker busy with the old catalogue.
    psql_owner -c "SELECT card_id FROM cards WHERE NOT retired ORDER BY position LIMIT 150" >"$IT/cards"
    node "$here/reviews.mjs" --base "https://127.0.0.1:$EASYSKS_HTTPS_PORT" --tokens "$IT/cat.tokens" --cards "$IT/cards" \
        --concurrency 16 --duration-ms 6000 --out "$IT/cat.load.json" >/dev/null 2>&1 &
    local load=$!
    sleep 1
    out=$("$EASYSKS_BIN_DIR/easysks-migrate" --dir "$root/sql/migrations" seed --data "$dir" 2>&1) ||
        { row catalogue - - "seed: $out" FAIL; wait "$load"; return 1; }
    local pids=()
    for i in $(seq 1 "$n"); do
        (
            id=$(cat /proc/sys/kernel/random/uuid)
            echo "$id" >"$IT/cat.$i.id"
            end=$((SECONDS + 10))
            while :; do
                code=$(curl -ks -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
                    --data-binary "{\"card_id\":\"navigation_998\",\"rating\":3,\"review_id\":\"$id\"}" \
                    "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/study/review")
                echo "$code" >>"$IT/cat.codes"
                [ "$code" = 200 ] && break
                [ "$SECONDS" -ge "$end" ] && break
                sleep 0.2
            done
        ) &
        pids+=($!)
    done
    wait "${pids[@]}" "$load"
    local stored=0 codes
    for i in $(seq 1 "$n"); do
        [ "$(psql_owner -c "SELECT count(*) FROM review_logs WHERE review_id = '$(cat "$IT/cat.$i.id")'")" = 1 ] && stored=$((stored + 1))
    done
    codes=$(sort "$IT/cat.codes" | uniq -c | awk '{printf "%s%s: %s", sep, $2, $1; sep=", "}')
    "$EASYSKS_BIN_DIR/easysks-migrate" --dir "$root/sql/migrations" seed --data "$EASYSKS_SKS_DATA" >/dev/null 2>&1
    if [ "$stored" != "$n" ] || grep -vq '^\(200\|503\)$' "$IT/cat.codes"; then
        verdict=FAIL
    fi
    row "rolling catalogue change" "16 clients reviewing, then 16 clients review the card the seed adds" \
        "easysks-migrate seed adding a card while the workers run, no reload" \
        "$stored of $n reviews of the new card stored once ($codes)" "$verdict"
    [ "$verdict" = pass ]
}

if ! stack_setup; then
    echo "not ok - chaos stack setup"
    echo "0 passed, 1 failed"
    exit 1
fi
for s in "${scenarios[@]}"; do
    if ! declare -F "chaos_$s" >/dev/null; then
        echo "unknown scenario: $s" >&2
        failed=$((failed + 1))
        continue
    fi
    echo "# $s ..." >&2
    if "chaos_$s" 2>"$IT/$s.stderr"; then
        passed=$((passed + 1))
        echo "ok - $s"
    else
        failed=$((failed + 1))
        echo "not ok - $s"
        sed 's/^/#   /' "$IT/$s.stderr" | tail -n 20
    fi
done
if sanitizer_files=$(ls "$IT"/log/asan.* "$IT"/log/ubsan.* 2>/dev/null) && [ -n "$sanitizer_files" ]; then
    echo "not ok - sanitizer reports: $sanitizer_files"
    failed=$((failed + 1))
fi
echo
echo "| scenario | load | faults | checked against the database | result |"
echo "| --- | --- | --- | --- | --- |"
cat "$ROWS"
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
