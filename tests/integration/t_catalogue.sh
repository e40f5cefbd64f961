#!/usr/bin/env bash
# easysks-migrate seed: idempotent, updates a changed catalogue in place,
# retires what disappeared, never touches learners' progress; running
# workers pick the new catalogue up within a second (or at once, answering
# 503 catalogue_changed, for a card they do not know yet).
# shellcheck disable=SC2154

seed() { "$EASYSKS_BIN_DIR/easysks-migrate" --dir "$EASYSKS_ROOT/sql/migrations" seed --data "$1"; }

test_catalogue_seed_twice_changes_nothing() {
    local out before after
    before=$(psql_owner -c "SELECT string_agg(xmin::text, ',' ORDER BY card_id) FROM cards")
    out=$(seed "$EASYSKS_SKS_DATA") || fail "seed: $out"
    grep -q '638 cards (0 new, 0 changed, 0 retired), 177 chart tasks (0 new, 0 changed, 0 retired)' <<<"$out" ||
        fail "second seed: $out"
    after=$(psql_owner -c "SELECT string_agg(xmin::text, ',' ORDER BY card_id) FROM cards")
    [ "$before" = "$after" ] || fail "rows were rewritten"
}

test_catalogue_changed_source_updates_in_place_and_keeps_progress() {
    local dir out t reps
    dir=$IT/catalogue-v2
    rm -rf "$dir" && cp -r "$EASYSKS_SKS_DATA" "$dir"
    t=$(node "$EASYSKS_ROOT/tests/tools/mint-token.mjs" --key "$SIGNING/test-key-1.pem" --kid test-key-1 \
        --iss "$AUTH_ISSUER" --client-id test-client --sub catalogue-learner)
    for c in wetterkunde_100 wetterkunde_97; do
        req POST /api/study/review -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
            --data-binary "{\"card_id\":\"$c\",\"rating\":3}"
        expect_status 200
    done
    # An edited answer, and a question on no exam sheet gone.
    jq 'map(if .topic == "wetterkunde" and .question_number == 100 then .answer = "Geänderte Antwort." else . end)
        | map(select(.topic != "wetterkunde" or .question_number != 97))' \
        "$EASYSKS_SKS_DATA/sks_catalog.json" >"$dir/sks_catalog.json"
    out=$(seed "$dir") || fail "seed v2: $out"
    grep -q '637 cards (0 new, 1 changed, 1 retired)' <<<"$out" || fail "v2: $out"
    [ "$(psql_owner -c "SELECT answer_text FROM cards WHERE card_id = 'wetterkunde_100'")" = "Geänderte Antwort." ] ||
        fail "not updated"
    reps=$(psql_owner -c "SELECT string_agg(cs.reps::text, ',' ORDER BY cs.card_id) FROM card_states cs JOIN users u ON u.id = cs.user_id WHERE u.cognito_sub = 'catalogue-learner'")
    [ "$reps" = "1,1" ] || fail "progress changed: $reps"
    # New workers serve the new catalogue; the retired card is gone from it.
    local old
    old=$(worker_pids)
    kill -HUP "$(pool_pid)"
    wait_pool "${EASYSKS_WORKERS:-3}" "$old"
    req GET /api/cards/wetterkunde_97 -H "Authorization: Bearer $t"
    expect_error 404 card_not_found
    req GET /api/cards/wetterkunde_100 -H "Authorization: Bearer $t"
    [ "$(jq -r .answer.text <<<"$BODY")" = "Geänderte Antwort." ] || fail "old text served: $BODY"
    # Back to the official catalogue: the card returns, the text too.
    out=$(seed "$EASYSKS_SKS_DATA") || fail "seed back: $out"
    grep -q '638 cards (0 new, 2 changed, 0 retired)' <<<"$out" || fail "back: $out"
    old=$(worker_pids)
    kill -HUP "$(pool_pid)"
    wait_pool "${EASYSKS_WORKERS:-3}" "$old"
    req GET /api/cards/wetterkunde_97 -H "Authorization: Bearer $t"
    expect_status 200
}

test_catalogue_seed_refuses_a_broken_source_and_the_app_role_cannot_write() {
    local dir out
    dir=$IT/catalogue-broken
    rm -rf "$dir" && mkdir -p "$dir"
    cp "$EASYSKS_SKS_DATA/sks_navigation_catalog.json" "$dir/"
    echo '[{"topic":' >"$dir/sks_catalog.json"
    out=$(seed "$dir" 2>&1) && fail "seeded a broken catalogue"
    grep -q 'sks_catalog.json: not valid JSON' <<<"$out" || fail "message: $out"
    out=$(psql "$DATABASE_URL" -Atq -c "UPDATE cards SET answer_text = 'x' WHERE card_id = 'navigation_1'" 2>&1) &&
        fail "the app role changed the catalogue"
    grep -q 'permission denied' <<<"$out" || fail "unexpected: $out"
}

# Retired cards a learner had scheduled neither fill the queue's limit nor
# use up its new-card budget: the next due card and a new one still come.
test_catalogue_retired_due_cards_leave_the_queue_open() {
    local dir out t old
    dir=$IT/catalogue-retire
    rm -rf "$dir" && cp -r "$EASYSKS_SKS_DATA" "$dir"
    t=$(node "$EASYSKS_ROOT/tests/tools/mint-token.mjs" --key "$SIGNING/test-key-1.pem" --kid test-key-1 \
        --iss "$AUTH_ISSUER" --client-id test-client --sub retired-learner)
    for c in wetterkunde_3 wetterkunde_10 wetterkunde_99; do
        req POST /api/study/review -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
            --data-binary "{\"card_id\":\"$c\",\"rating\":3}"
        expect_status 200
    done
    # Two of them due long ago, the one that stays due later.
    psql_owner -c "UPDATE card_states cs SET due = now() - CASE card_id WHEN 'wetterkunde_99' THEN interval '1 day' ELSE interval '3 days' END
        FROM users u WHERE u.id = cs.user_id AND u.cognito_sub = 'retired-learner'" >/dev/null
    jq 'map(select(.topic != "wetterkunde" or (.question_number != 3 and .question_number != 10)))' \
        "$EASYSKS_SKS_DATA/sks_catalog.json" >"$dir/sks_catalog.json"
    out=$(seed "$dir") || fail "seed: $out"
    grep -q '636 cards (0 new, 0 changed, 2 retired)' <<<"$out" || fail "seed: $out"
    old=$(worker_pids)
    kill -HUP "$(pool_pid)"
    wait_pool "${EASYSKS_WORKERS:-3}" "$old"
    req GET "/api/study/due?topic=wetterkunde&limit=2" -H "Authorization: Bearer $t"
    local got
    got=$(jq -r '[.[] | .card.card_id + ":" + .scheduling_info.state] | join(",")' <<<"$BODY")
    out=$(seed "$EASYSKS_SKS_DATA") || fail "seed back: $out"
    old=$(worker_pids)
    kill -HUP "$(pool_pid)"
    wait_pool "${EASYSKS_WORKERS:-3}" "$old"
    expect_status 200
    [[ $got == wetterkunde_99:*,wetterkunde_*:NEW ]] || fail "queue after retiring two due cards: '$got'"
}

# A seed that adds a card while the workers run (a rolling deploy): reviews
# of the new card land within seconds from a client that retries what is
# retryable (503 catalogue_changed, Retry-After), each exactly once; an id
# that is truly unknown stays 404; no worker needs a restart.
test_catalogue_rolling_change_loses_no_review() {
    local dir out t i n=8 code
    dir=$IT/catalogue-grown
    rm -rf "$dir" && cp -r "$EASYSKS_SKS_DATA" "$dir"
    t=$(node "$EASYSKS_ROOT/tests/tools/mint-token.mjs" --key "$SIGNING/test-key-1.pem" --kid test-key-1 \
        --iss "$AUTH_ISSUER" --client-id test-client --sub rolling-learner)
    # Every worker has served (and so loaded the catalogue) before the seed.
    for i in $(seq 1 12); do
        req GET /api/cards/navigation_1 -H "Authorization: Bearer $t"
        expect_status 200
    done
    jq '. + [{"topic":"navigation","question_number":999,"question":"Neue Frage?","answer":"Neue Antwort.","short_answer":[],"exam_sheets":[]}]' \
        "$EASYSKS_SKS_DATA/sks_catalog.json" >"$dir/sks_catalog.json"
    out=$(seed "$dir") || fail "seed: $out"
    grep -q '639 cards (1 new, 0 changed, 0 retired)' <<<"$out" || fail "seed: $out"
    # n clients at once, each retrying 503/429 after a short pause, 5 s at most.
    for i in $(seq 1 "$n"); do
        (
            id=$(cat /proc/sys/kernel/random/uuid)
            echo "$id" >"$IT/roll.$i.id"
            end=$((SECONDS + 5))
            while :; do
                code=$(curl -ks -o "$IT/roll.$i.body" -w '%{http_code}' -H "Authorization: Bearer $t" \
                    -H 'Content-Type: application/json' \
                    --data-binary "{\"card_id\":\"navigation_999\",\"rating\":3,\"review_id\":\"$id\"}" \
                    "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/study/review")
                echo "$code $(jq -r '.code // empty' "$IT/roll.$i.body" 2>/dev/null)" >>"$IT/roll.$i.codes"
                case $code in
                503 | 429) [ "$SECONDS" -lt "$end" ] && { sleep 0.2; continue; } ;;
                esac
                break
            done
        ) &
    done
    wait
    local statuses
    statuses=$(cat "$IT"/roll.*.codes | sort | uniq -c | tr '\n' ';')
    echo "# answers: $statuses" >&2
    for i in $(seq 1 "$n"); do
        [ "$(tail -n1 "$IT/roll.$i.codes" | cut -d' ' -f1)" = 200 ] || fail "client $i: $(tr '\n' ' ' <"$IT/roll.$i.codes")"
        [ "$(psql_owner -c "SELECT count(*) FROM review_logs WHERE review_id = '$(cat "$IT/roll.$i.id")'")" = 1 ] ||
            fail "review of client $i not stored once"
    done
    ! grep -qv '^\(200\|503 catalogue_changed\) *$' "$IT"/roll.*.codes || fail "other answers: $statuses"
    # A card no catalogue has: 404, also right after the change.
    req POST /api/study/review -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
        --data-binary '{"card_id":"navigation_99999","rating":3}'
    expect_error 404 card_not_found
    req GET /api/cards/navigation_999 -H "Authorization: Bearer $t"
    expect_status 200
    # Back to the official catalogue; the new card is retired again.
    out=$(seed "$EASYSKS_SKS_DATA") || fail "seed back: $out"
    grep -q '638 cards (0 new, 0 changed, 1 retired)' <<<"$out" || fail "seed back: $out"
    sleep 1.2
    for i in $(seq 1 12); do
        req GET /api/cards/navigation_999 -H "Authorization: Bearer $t"
        [ "$STATUS" = 404 ] || [ "$STATUS" = 200 ] || fail "after the change back: $STATUS $BODY"
    done
    [ "$STATUS" = 404 ] || fail "the retired card is still served: $BODY"
}
