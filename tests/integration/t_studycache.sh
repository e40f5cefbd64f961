#!/usr/bin/env bash
# The workers' study-state cache (lib/sks/studycache.h) through nginx: a
# learner reads their own writes on every worker at once (the version check
# in the one statement a study read makes), also writes made outside the
# pool (an older release's worker, an operator in psql), and /_status shows
# the hits and misses.
# shellcheck disable=SC2154,SC2153,SC2015 # BODY and friends come from lib.sh; `[ a ] && [ b ] || fail` is meant

# A learner's token (sub = NAME).
sc_learner() {
    node "$EASYSKS_ROOT/tests/tools/mint-token.mjs" --key "$SIGNING/test-key-1.pem" --kid test-key-1 \
        --iss "$AUTH_ISSUER" --client-id test-client --sub "$1" --exp-offset 3600
}

# sc_burst TOKEN PATH N TAG: N concurrent GETs (so several workers answer),
# bodies into $IT/TAG.<i>; fails unless every one answered 200.
sc_burst() {
    local token=$1 path=$2 n=$3 tag=$4 i
    for i in $(seq 1 "$n"); do
        curl -ks -o "$IT/$tag.$i" -w '%{http_code}' -H "Authorization: Bearer $token" \
            "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api$path" >"$IT/$tag.$i.code" &
    done
    wait
    for i in $(seq 1 "$n"); do
        [ "$(cat "$IT/$tag.$i.code")" = 200 ] || fail "$tag.$i: HTTP $(cat "$IT/$tag.$i.code")"
    done
}

# Per worker pid: "pid misses hits", sorted.
sc_slots() {
    curl -sf "http://127.0.0.1:$EASYSKS_STATUS_PORT/status" |
        jq -r '.slots[] | "\(.pid) \(.study_misses) \(.study_hits)"' | sort
}

test_studycache_read_your_writes_on_every_worker() {
    local t card before after moved i rounds=0
    t=$(sc_learner "$(cat /proc/sys/kernel/random/uuid)")
    # Every worker that answers loads the learner's (empty) state, then hits.
    while :; do
        sc_burst "$t" "/study/due?limit=5" 9 warm
        rounds=$((rounds + 1))
        [ "$(sc_slots | awk '$3 > 0' | wc -l)" -ge 2 ] && break
        [ "$rounds" -lt 20 ] || fail "never two workers with a cached state: $(sc_slots)"
    done
    card=$(jq -r '.[0].card.card_id' "$IT/warm.1")
    [ -n "$card" ] && [ "$card" != null ] || fail "no new card: $(cat "$IT/warm.1")"
    before=$(sc_slots)

    # Easy: due in days. The review bumps the version on whichever worker.
    req POST /api/study/review -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
        --data-binary "{\"card_id\":\"$card\",\"rating\":4}"
    [ "$STATUS" = 200 ] || fail "review: $STATUS $BODY"

    # Immediately, on all workers: the card is no longer a new card.
    for i in 1 2 3; do
        sc_burst "$t" "/study/due?limit=5" 9 "after$i"
        for f in "$IT/after$i".[0-9]*; do
            case $f in *.code) continue ;; esac
            if jq -e --arg c "$card" 'map(.card.card_id) | index($c)' "$f" >/dev/null; then
                fail "a worker served the reviewed card $card as new again: $(cat "$f")"
            fi
        done
    done
    after=$(sc_slots)
    # Workers that held the old state each reloaded it once.
    moved=$(join <(echo "$before") <(echo "$after") | awk '$4 > $2 && $3 > 0' | wc -l)
    [ "$moved" -ge 2 ] || fail "expected at least two workers to reload after the review:
before (pid misses hits):
$before
after:
$after"
}

test_studycache_sees_writes_made_outside_the_pool() {
    local t uid card
    t=$(sc_learner studycache-outside)
    req POST /api/study/review -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
        --data-binary '{"card_id":"navigation_1","rating":4}'
    [ "$STATUS" = 200 ] || fail "review: $STATUS $BODY"
    sc_burst "$t" "/study/due?limit=200" 6 out1
    jq -e 'map(.card.card_id) | index("navigation_1") | not' "$IT/out1.1" >/dev/null ||
        fail "navigation_1 still due after an easy review"
    # As an older release (no cache) or an operator would: straight into the table.
    uid=$(psql_owner -c "SELECT id FROM users WHERE cognito_sub = 'studycache-outside'")
    [ -n "$uid" ] || fail "no user row"
    psql_owner -c "UPDATE card_states SET due = now() - interval '1 minute'
                   WHERE user_id = $uid AND card_id = 'navigation_1'"
    sc_burst "$t" "/study/due?limit=200" 9 out2
    for card in "$IT"/out2.[0-9]; do
        jq -e '.[0].card.card_id == "navigation_1"' "$card" >/dev/null ||
            fail "a worker missed the change made in the database: $(head -c 300 "$card")"
    done
    # The dashboard reads the same state.
    req GET /api/dashboard/summary -H "Authorization: Bearer $t"
    [ "$STATUS" = 200 ] && [ "$(jq -r .due_scheduled <<<"$BODY")" = 1 ] ||
        fail "dashboard: $BODY"
}

test_studycache_status_shows_hits_and_misses() {
    local out
    out=$(curl -sf "http://127.0.0.1:$EASYSKS_STATUS_PORT/status") || fail "status server"
    jq -e '.study_cache.hits > 0 and .study_cache.misses > 0 and .study_cache.learners > 0
           and .study_cache.bytes >= 0 and .study_cache.hit_rate > 0 and .study_cache.hit_rate < 1' \
        <<<"$out" >/dev/null || fail "study_cache: $(jq -c .study_cache <<<"$out")"
    out=$(curl -sf "http://127.0.0.1:$EASYSKS_STATUS_PORT/status?format=prometheus") || fail "prometheus"
    grep -Eq '^easysks_study_cache_reads_total\{result="hit"\} [1-9]' <<<"$out" || fail "prometheus hits"
    grep -Eq '^easysks_study_cache_learners [1-9]' <<<"$out" || fail "prometheus learners"
}
