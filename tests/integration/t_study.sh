#!/usr/bin/env bash
# The study API through nginx with real tokens: queues, reviews and their
# idempotency, offline batches, learners kept apart, the daily new-card
# limit, the dashboard in Europe/Berlin days, exam readiness, settings,
# answer checking, figures, and the statements each request costs.
# shellcheck disable=SC2154,SC2153,SC2015 # BODY and friends come from lib.sh; `[ a ] && [ b ] || fail` is meant

# learner NAME: a token for a learner of our own (sub = NAME).
learner() {
    node "$EASYSKS_ROOT/tests/tools/mint-token.mjs" --key "$SIGNING/test-key-1.pem" --kid test-key-1 \
        --iss "$AUTH_ISSUER" --client-id test-client --sub "$1" --exp-offset 3600
}

# api METHOD PATH TOKEN [JSON]
api() {
    local method=$1 path=$2 token=$3 body=${4:-}
    if [ -n "$body" ]; then
        req "$method" "/api$path" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
            --data-binary "$body"
    else
        req "$method" "/api$path" -H "Authorization: Bearer $token"
    fi
}

jqb() { jq -r "$1" <<<"$BODY"; }

# new_order N [TOPIC] [SEEN]: the first N new cards of a sail learner in the
# mixed order the seed wrote (cards.new_rank; its rules are unit-tested in
# tests/unit/sks/test_order.c), as a comma list, leaving out the
# comma-separated card ids SEEN.
new_order() {
    psql_owner -v n="$1" -v topic="${2:-}" -v seen="${3:-}" <<'SQL'
SELECT string_agg(card_id, ',' ORDER BY new_rank) FROM (SELECT card_id, new_rank FROM cards
 WHERE NOT retired AND topic <> 'seemannschaft_ii' AND (:'topic' = '' OR topic = :'topic')
   AND card_id <> ALL (string_to_array(:'seen', ','))
 ORDER BY new_rank LIMIT :n) AS o;
SQL
}

uuid() { cat /proc/sys/kernel/random/uuid; }

# Review CARD RATING [REVIEW_ID] as TOKEN; expects 200.
review() {
    local id=${4:-$(uuid)}
    api POST /study/review "$1" "{\"card_id\":\"$2\",\"rating\":$3,\"review_id\":\"$id\"}"
    expect_status 200
}

test_study_topics_and_a_card() {
    local t
    t=$(learner topics-user)
    api GET /topics "$t"
    expect_status 200
    [ "$(jqb '[.[].value] | join(",")')" = "navigation,schifffahrtsrecht,wetterkunde,seemannschaft_i,seemannschaft_ii" ] ||
        fail "topics: $BODY"
    [ "$(jqb '.[3].label')" = "Seemannschaft I" ] || fail "labels: $BODY"
    api GET /cards/schifffahrtsrecht_19 "$t"
    expect_status 200
    [ "$(jqb '.front.images | length')" = 2 ] || fail "images: $BODY"
    [ "$(jqb '.front.images[0].storage_key')" = /media/schifffahrtsrecht_q19_q1.gif ] || fail "storage key: $BODY"
    [ "$(jqb '.front.images[0].image_id')" = schifffahrtsrecht_q19_q1 ] || fail "image id: $BODY"
    jqb '.front.text' | grep -q '\[image:' && fail "inline image marker left in the text"
    [ "$(jqb '.tags | join(",")')" = schifffahrtsrecht ] || fail "tags: $BODY"
    api GET /cards/navigation_9999 "$t"
    expect_error 404 card_not_found
    req GET /api/topics
    expect_error 401 token_missing
}

test_study_a_figure_loads_with_a_token_and_not_without() {
    local t key
    t=$(learner figure-user)
    api GET /cards/schifffahrtsrecht_19 "$t"
    key=$(jqb '.front.images[0].storage_key')
    req GET "$key" -H "Authorization: Bearer $t"
    expect_status 200
    [ "$(head -c 6 "$BODY_FILE")" = GIF89a ] || [ "$(head -c 6 "$BODY_FILE")" = GIF87a ] || fail "not a GIF"
    req GET "$key"
    expect_status 401
}

test_study_new_learner_sees_new_cards_in_the_mixed_order() {
    local t
    t=$(learner order-user)
    api GET "/study/due?limit=5" "$t"
    expect_status 200
    [ "$(jqb '[.[].card.card_id] | join(",")')" = "$(new_order 5)" ] ||
        fail "order: $(jqb '[.[].card.card_id]') expected $(new_order 5)"
    [ "$(jqb '[.[].card.tags[0]] | unique | length')" -ge 3 ] || fail "five new cards from fewer than three topics: $BODY"
    [ "$(jqb '[.[].scheduling_info.state] | unique | join(",")')" = NEW ] || fail "states: $BODY"
    api GET "/study/due?topic=wetterkunde&limit=3" "$t"
    [ "$(jqb '[.[].card.card_id] | join(",")')" = "$(new_order 3 wetterkunde)" ] ||
        fail "topic order: $(jqb '[.[].card.card_id]')"
    # Reading the queue wrote nothing.
    [ "$(psql_owner -c "SELECT count(*) FROM card_states cs JOIN users u ON u.id = cs.user_id WHERE u.cognito_sub = 'order-user'")" = 0 ] ||
        fail "a GET created scheduling rows"
    api GET "/study/due?topic=Navigation" "$t"
    expect_error 422 invalid_topic
    api GET "/study/due?limit=0" "$t"
    expect_error 422 invalid_limit
    api GET "/study/due?limit=201" "$t"
    expect_error 422 invalid_limit
}

test_study_reviews_move_cards() {
    local t
    t=$(learner mover)
    review "$t" navigation_1 3
    [ "$(jqb .scheduling_info.state)" = LEARNING ] || fail "after Good: $BODY"
    [ "$(jqb .scheduling_info.reps)" = 1 ] || fail "reps: $BODY"
    [ "$(jqb .scheduling_info.stability)" = 3.1262 ] || fail "S0(Good): $BODY"
    review "$t" navigation_2 4
    [ "$(jqb .scheduling_info.state)" = REVIEW ] || fail "after Easy: $BODY"
    # Neither is due now; the next new cards come first.
    api GET "/study/due?limit=3" "$t"
    [ "$(jqb '[.[].card.card_id] | join(",")')" = "$(new_order 3 '' navigation_1,navigation_2)" ] ||
        fail "queue: $(jqb '[.[].card.card_id]')"
    # Practice adds the scheduled cards, soonest due first.
    api GET "/study/practice?topic=navigation&limit=200" "$t"
    [ "$(jqb '[.[].card.card_id] | .[-2:] | join(",")')" = "navigation_1,navigation_2" ] ||
        fail "practice tail: $(jqb '[.[].card.card_id] | .[-3:]')"
    api POST /study/review "$t" '{"card_id":"navigation_1","rating":0}'
    expect_error 422 invalid_rating
    api POST /study/review "$t" '{"card_id":"navigation_1","rating":"3"}'
    expect_error 422 invalid_rating
    api POST /study/review "$t" '{"card_id":"navigation_1","rating":3,"review_id":"not-a-uuid"}'
    expect_error 422 invalid_review_id
    api POST /study/review "$t" '{"card_id":"mars_1","rating":3}'
    expect_error 404 card_not_found
    req POST /api/study/review -H "Authorization: Bearer $t" -H 'Content-Type: text/plain' --data-binary '{}'
    expect_error 415 unsupported_media_type
}

test_study_same_review_id_applies_once_also_concurrently() {
    local t id first i
    t=$(learner idem-user)
    id=$(uuid)
    review "$t" navigation_7 3 "$id"
    first=$BODY
    review "$t" navigation_7 3 "$id"
    [ "$BODY" = "$first" ] || fail "a retry answered differently: $BODY"
    [ "$(header idempotent-replayed)" = true ] || fail "no Idempotent-Replayed header"
    api POST /study/review "$t" "{\"card_id\":\"navigation_7\",\"rating\":1,\"review_id\":\"$id\"}"
    expect_error 409 review_id_conflict
    # Eight clients send one new id at once: one review, eight equal answers.
    id=$(uuid)
    for i in $(seq 1 8); do
        curl -ks -o "$IT/idem.$i" -w '%{http_code}\n' -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
            --data-binary "{\"card_id\":\"navigation_8\",\"rating\":3,\"review_id\":\"$id\"}" \
            "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/study/review" >"$IT/idem.$i.code" &
    done
    wait
    [ "$(cat "$IT"/idem.*.code | sort -u)" = 200 ] || fail "statuses: $(cat "$IT"/idem.*.code)"
    [ "$(for i in $(seq 1 8); do jq -c .scheduling_info "$IT/idem.$i"; done | sort -u | wc -l)" = 1 ] ||
        fail "different answers for one review id"
    [ "$(psql_owner -c "SELECT count(*) FROM review_logs WHERE review_id = '$id'")" = 1 ] || fail "logged twice"
    [ "$(psql_owner -c "SELECT cs.reps FROM card_states cs JOIN users u ON u.id = cs.user_id WHERE u.cognito_sub = 'idem-user' AND cs.card_id = 'navigation_8'")" = 1 ] ||
        fail "applied twice"
}

test_study_concurrent_reviews_of_one_card_lose_no_update() {
    local t i
    t=$(learner racer)
    for i in $(seq 1 10); do
        curl -ks -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
            --data-binary "{\"card_id\":\"wetterkunde_5\",\"rating\":3,\"review_id\":\"$(uuid)\"}" \
            "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/study/review" >"$IT/race.$i" &
    done
    wait
    [ "$(cat "$IT"/race.* | sort -u)" = 200 ] || fail "statuses: $(cat "$IT"/race.* | tr '\n' ' ')"
    [ "$(psql_owner -c "SELECT cs.reps FROM card_states cs JOIN users u ON u.id = cs.user_id WHERE u.cognito_sub = 'racer' AND cs.card_id = 'wetterkunde_5'")" = 10 ] ||
        fail "reps after 10 concurrent reviews: $(psql_owner -c "SELECT cs.reps FROM card_states cs JOIN users u ON u.id = cs.user_id WHERE u.cognito_sub = 'racer'"); logs: $(psql_owner -c "SELECT string_agg(r.applied::text || '/' || r.new_reps || '@' || r.reviewed_at, ' ' ORDER BY r.id) FROM review_logs r JOIN users u ON u.id = r.user_id WHERE u.cognito_sub = 'racer'")"
    [ "$(psql_owner -c "SELECT count(*) FROM review_logs r JOIN users u ON u.id = r.user_id WHERE u.cognito_sub = 'racer'")" = 10 ] ||
        fail "log rows"
}

# An online review (no reviewed_at) always moves its card, even when the
# card's last review looks newer than the server's clock: a concurrent
# review that committed while this one was starting, or a clock stepped
# back. (Before: logged with applied=false, and the learner's answer was lost.)
test_study_online_review_after_a_newer_last_review_still_applies() {
    local t q="SELECT cs.reps FROM card_states cs JOIN users u ON u.id = cs.user_id WHERE u.cognito_sub = 'clock-step' AND cs.card_id = 'wetterkunde_7'"
    t=$(learner clock-step)
    review "$t" wetterkunde_7 3
    psql_owner -c "UPDATE card_states cs SET last_review = now() + interval '2 seconds' FROM users u WHERE u.id = cs.user_id AND u.cognito_sub = 'clock-step'" >/dev/null
    review "$t" wetterkunde_7 3
    [ "$(psql_owner -c "$q")" = 2 ] || fail "reps: $(psql_owner -c "$q")"
    [ "$(psql_owner -c "SELECT string_agg(r.applied::text, ',' ORDER BY r.id) FROM review_logs r JOIN users u ON u.id = r.user_id WHERE u.cognito_sub = 'clock-step'")" = true,true ] ||
        fail "a review was logged without being applied"
}

test_study_offline_batch() {
    local t now h2 h1 fut old id1 id2 id3 body
    t=$(learner offline-user)
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    h2=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%S.250+00:00)
    h1=$(date -u -d '-1 hours' +%Y-%m-%dT%H:%M:%S+01:00) # = two hours ago in UTC, an offset
    fut=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
    old=$(date -u -d '-31 days' +%Y-%m-%dT%H:%M:%SZ)
    id1=$(uuid) id2=$(uuid) id3=$(uuid)
    # Out of order in the body; applied in reviewed_at order.
    body="{\"reviews\":[
      {\"review_id\":\"$id1\",\"card_id\":\"navigation_1\",\"rating\":3,\"reviewed_at\":\"$now\"},
      {\"review_id\":\"$id2\",\"card_id\":\"navigation_1\",\"rating\":3,\"reviewed_at\":\"$h2\"},
      {\"review_id\":\"$id2\",\"card_id\":\"navigation_1\",\"rating\":3,\"reviewed_at\":\"$h2\"},
      {\"review_id\":\"$id3\",\"card_id\":\"navigation_2\",\"rating\":4,\"reviewed_at\":\"$h1\"}]}"
    api POST /study/reviews "$t" "$body"
    expect_status 200
    [ "$(jqb '[.reviews[].status] | join(",")')" = "applied,applied,duplicate,applied" ] || fail "statuses: $BODY"
    # navigation_1: Good 2 h ago (LEARNING), then Good now: REVIEW, reps 2.
    [ "$(jqb '.cards[] | select(.card_id=="navigation_1") | .scheduling_info.state')" = REVIEW ] || fail "order not applied: $BODY"
    [ "$(jqb '.cards[] | select(.card_id=="navigation_1") | .scheduling_info.reps')" = 2 ] || fail "reps: $BODY"
    [ "$(jqb '.reviews[1].reviewed_at')" = "$(date -u -d "${h2%+00:00}Z" +%Y-%m-%dT%H:%M:%S).250000+00:00" ] || fail "time: $BODY"
    # Sent again (a retry after a lost answer): all known, nothing changes.
    api POST /study/reviews "$t" "$body"
    [ "$(jqb '[.reviews[].status] | unique | join(",")')" = duplicate ] || fail "retry: $BODY"
    [ "$(psql_owner -c "SELECT count(*) FROM review_logs r JOIN users u ON u.id = r.user_id WHERE u.cognito_sub = 'offline-user'")" = 3 ] ||
        fail "log rows after the retry"
    # A review older than the card's last review is logged, schedule kept.
    api POST /study/reviews "$t" "{\"reviews\":[{\"review_id\":\"$(uuid)\",\"card_id\":\"navigation_1\",\"rating\":1,\"reviewed_at\":\"$(date -u -d '-3 hours' +%Y-%m-%dT%H:%M:%SZ)\"}]}"
    expect_status 200
    [ "$(jqb '.reviews[0].status')" = logged_only ] || fail "old review: $BODY"
    [ "$(jqb '.cards[0].scheduling_info.reps')" = 2 ] || fail "the old review moved the card: $BODY"
    # Bad times refuse the whole batch; nothing is written.
    api POST /study/reviews "$t" "{\"reviews\":[{\"review_id\":\"$(uuid)\",\"card_id\":\"navigation_5\",\"rating\":3,\"reviewed_at\":\"$now\"},{\"review_id\":\"$(uuid)\",\"card_id\":\"navigation_6\",\"rating\":3,\"reviewed_at\":\"$fut\"}]}"
    expect_error 422 invalid_review_time
    api POST /study/reviews "$t" "{\"reviews\":[{\"review_id\":\"$(uuid)\",\"card_id\":\"navigation_6\",\"rating\":3,\"reviewed_at\":\"$old\"}]}"
    expect_error 422 invalid_review_time
    api POST /study/reviews "$t" "{\"reviews\":[{\"review_id\":\"$(uuid)\",\"card_id\":\"navigation_6\",\"rating\":3,\"reviewed_at\":\"2026-12-01 10:00\"}]}"
    expect_error 422 invalid_review_time
    api POST /study/reviews "$t" "{\"reviews\":[{\"review_id\":\"$(uuid)\",\"card_id\":\"navigation_6\",\"rating\":3,\"reviewed_at\":\"1970-01-01T00:00:00Z\"}]}"
    expect_error 422 invalid_review_time
    [ "$(psql_owner -c "SELECT count(*) FROM card_states cs JOIN users u ON u.id = cs.user_id WHERE u.cognito_sub = 'offline-user' AND cs.card_id IN ('navigation_5','navigation_6')")" = 0 ] ||
        fail "a refused batch wrote something"
    api POST /study/reviews "$t" "{\"reviews\":[{\"review_id\":\"$id1\",\"card_id\":\"navigation_1\",\"rating\":3,\"reviewed_at\":\"$now\"},{\"review_id\":\"$id1\",\"card_id\":\"navigation_2\",\"rating\":3,\"reviewed_at\":\"$now\"}]}"
    expect_error 422 duplicate_review_id
    # A device clock a little ahead: the time is clamped to the server's, and
    # a resend reports the time recorded, not the one sent again.
    local ahead ahead_id first
    ahead=$(date -u -d '+2 minutes' +%Y-%m-%dT%H:%M:%SZ)
    ahead_id=$(uuid)
    api POST /study/reviews "$t" "{\"reviews\":[{\"review_id\":\"$ahead_id\",\"card_id\":\"navigation_7\",\"rating\":3,\"reviewed_at\":\"$ahead\"}]}"
    expect_status 200
    first=$(jqb '.reviews[0].reviewed_at')
    [ "$first" \< "${ahead%Z}" ] || fail "a time ahead was not clamped: $BODY"
    api POST /study/reviews "$t" "{\"reviews\":[{\"review_id\":\"$ahead_id\",\"card_id\":\"navigation_7\",\"rating\":3,\"reviewed_at\":\"$ahead\"}]}"
    [ "$(jqb '.reviews[0].status')" = duplicate ] && [ "$(jqb '.reviews[0].reviewed_at')" = "$first" ] ||
        fail "the resend reports another time than the one recorded ($first): $BODY"
    api POST /study/reviews "$t" '{"reviews":[]}'
    expect_error 422 validation_error
    api POST /study/reviews "$t" "{\"reviews\":[{\"card_id\":\"navigation_1\",\"rating\":3,\"reviewed_at\":\"$now\"}]}"
    expect_error 422 validation_error
}

test_study_learners_never_see_each_other() {
    local a b
    a=$(learner alice) b=$(learner bob)
    review "$a" seemannschaft_ii_3 4
    review "$a" seemannschaft_ii_4 4
    api GET "/study/practice?topic=seemannschaft_ii&limit=200" "$b"
    [ "$(jqb '[.[] | select(.scheduling_info.state != "NEW")] | length')" = 0 ] || fail "bob sees alice's progress"
    api GET /dashboard/summary "$b"
    [ "$(jqb .reviewed_today)" = 0 ] || fail "bob's dashboard counts alice: $BODY"
    api GET /dashboard/summary "$a"
    [ "$(jqb .reviewed_today)" = 2 ] || fail "alice's dashboard: $BODY"
}

test_study_daily_new_card_limit() {
    local t i first
    t=$(learner limited)
    api PUT /settings "$t" '{"new_cards_per_day":3}'
    expect_status 200
    api GET "/study/due?limit=50" "$t"
    [ "$(jqb 'length')" = 3 ] || fail "limit 3 offered $(jqb 'length')"
    for i in 1 2; do review "$t" "wetterkunde_$i" 4; done
    api GET "/study/due?limit=50" "$t"
    first=$(new_order 1 '' wetterkunde_1,wetterkunde_2)
    [ "$(jqb '[.[].card.card_id] | join(",")')" = "$first" ] || fail "after two new cards: $(jqb '[.[].card.card_id]')"
    review "$t" "$first" 4
    api GET "/study/due?limit=50" "$t"
    [ "$(jqb 'length')" = 0 ] || fail "the limit is spent, yet: $(jqb '[.[].card.card_id]')"
    # Reviewing an already introduced card again does not count.
    review "$t" wetterkunde_1 3
    api GET /dashboard/summary "$t"
    [ "$(jqb .due_now)" = 0 ] || fail "dashboard due_now: $BODY"
    api PUT /settings "$t" '{"new_cards_per_day":4}'
    api GET "/study/due?limit=50" "$t"
    [ "$(jqb '[.[].card.card_id] | join(",")')" = "$(new_order 1 '' "wetterkunde_1,wetterkunde_2,$first")" ] ||
        fail "raised limit: $(jqb '[.[].card.card_id]')"
}

# Reviews just before and after midnight in Berlin fall on two days there.
test_study_dashboard_days_are_the_learners() {
    local t midnight before after two_days_ago gap
    t=$(learner berlin)
    midnight=$(psql_owner -c "SELECT to_char(date_trunc('day', now() AT TIME ZONE 'Europe/Berlin') AT TIME ZONE 'Europe/Berlin' AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
    before=$(date -u -d "$midnight - 90 seconds" +%Y-%m-%dT%H:%M:%SZ)
    after=$(date -u -d "$midnight + 90 seconds" +%Y-%m-%dT%H:%M:%SZ)
    two_days_ago=$(date -u -d "$midnight - 1 day - 1 hour" +%Y-%m-%dT%H:%M:%SZ)
    gap=$(date -u -d "$midnight - 3 days - 1 hour" +%Y-%m-%dT%H:%M:%SZ)
    api POST /study/reviews "$t" "{\"reviews\":[
      {\"review_id\":\"$(uuid)\",\"card_id\":\"navigation_10\",\"rating\":3,\"reviewed_at\":\"$gap\"},
      {\"review_id\":\"$(uuid)\",\"card_id\":\"navigation_11\",\"rating\":3,\"reviewed_at\":\"$two_days_ago\"},
      {\"review_id\":\"$(uuid)\",\"card_id\":\"navigation_12\",\"rating\":3,\"reviewed_at\":\"$before\"},
      {\"review_id\":\"$(uuid)\",\"card_id\":\"navigation_13\",\"rating\":3,\"reviewed_at\":\"$after\"}]}"
    expect_status 200
    api GET /dashboard/summary "$t"
    expect_status 200
    [ "$(jqb .reviewed_today)" = 1 ] || fail "reviewed_today (Berlin): $BODY"
    [ "$(jqb .streak_days)" = 3 ] || fail "streak (today, yesterday, the day before; not across the gap): $BODY"
    [ "$(jqb '.due_by_topic | keys_unsorted | join(",")')" = "navigation,schifffahrtsrecht,wetterkunde,seemannschaft_i,seemannschaft_ii" ] ||
        fail "due_by_topic keys: $BODY"
    # A learner whose last review was two days ago has no streak.
    t=$(learner lapsed)
    api POST /study/reviews "$t" "{\"reviews\":[{\"review_id\":\"$(uuid)\",\"card_id\":\"navigation_10\",\"rating\":3,\"reviewed_at\":\"$two_days_ago\"}]}"
    api GET /dashboard/summary "$t"
    [ "$(jqb .streak_days)" = 0 ] || fail "stale streak: $BODY"
    [ "$(jqb .reviewed_today)" = 0 ] || fail "reviewed_today: $BODY"
}

test_study_readiness_rises_as_cards_are_learned() {
    local t before after cards batch
    t=$(learner examinee)
    api GET /dashboard/summary "$t"
    [ "$(jqb '.exam_readiness.sheets | length')" = 15 ] || fail "sheets: $BODY"
    before=$(jqb '.exam_readiness.sheets[0].expected_points')
    [ "$before" = 0 ] || fail "a new learner expects $before points"
    [ "$(jqb '.exam_readiness.sheets[0].pass_probability')" = 0 ] || fail "pass probability for nothing learned"
    # Learn sheet 1's thirty questions (Easy).
    cards=$(psql_owner -c "SELECT card_id FROM cards WHERE 1 = ANY(exam_sheets) ORDER BY position")
    batch=$(for c in $cards; do printf '{"review_id":"%s","card_id":"%s","rating":4,"reviewed_at":"%s"},' "$(uuid)" "$c" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"; done)
    api POST /study/reviews "$t" "{\"reviews\":[${batch%,}]}"
    expect_status 200
    api GET /dashboard/summary "$t"
    after=$(jqb '.exam_readiness.sheets[0].expected_points')
    awk -v a="$after" 'BEGIN { exit !(a > 59 && a <= 60) }' || fail "sheet 1 after learning it all: $after"
    awk -v p="$(jqb '.exam_readiness.sheets[0].pass_probability')" 'BEGIN { exit !(p > 0.99) }' ||
        fail "pass probability: $(jqb '.exam_readiness.sheets[0]')"
    awk -v a="$(jqb '.exam_readiness.sheets[1].expected_points')" 'BEGIN { exit !(a < 60) }' || fail "sheet 2 too"
    # Later exam date: memories fade, readiness falls.
    api PUT /settings "$t" "{\"exam_date\":\"$(date -u -d '+120 days' +%F)\"}"
    api GET /dashboard/summary "$t"
    awk -v a="$(jqb '.exam_readiness.sheets[0].expected_points')" -v b="$after" 'BEGIN { exit !(a < b) }' ||
        fail "no forgetting towards a later exam: $(jqb '.exam_readiness.sheets[0]')"
}

test_study_settings() {
    local t
    t=$(learner settings-user)
    api GET /settings "$t"
    expect_status 200
    [ "$(jqb .timezone)" = Europe/Berlin ] && [ "$(jqb .new_cards_per_day)" = 20 ] && [ "$(jqb .exam_date)" = null ] ||
        fail "defaults: $BODY"
    # The test stack configures AI (setup_ai.sh); t_ai covers the server without a key.
    [ "$(jqb .openai_api_key_set)" = true ] && [ "$(jqb .ai_enabled)" = false ] || fail "AI: $BODY"
    [ "$(psql_owner -c "SELECT count(*) FROM user_settings s JOIN users u ON u.id = s.user_id WHERE u.cognito_sub = 'settings-user'")" = 0 ] ||
        fail "GET /settings wrote a row"
    # What the reference's client sends on save: accepted, models ignored.
    api PUT /settings "$t" '{"ai_enabled":true,"openai_chat_model":"gpt-9","openai_transcription_model":"x"}'
    expect_status 200
    [ "$(jqb .ai_enabled)" = true ] && [ "$(jqb .openai_chat_model)" = gpt-4o-mini ] || fail "save: $BODY"
    api PUT /settings "$t" '{"openai_api_key":"sk-not-taken"}'
    expect_error 422 api_key_not_accepted
    api PUT /settings "$t" '{"openai_api_key":null,"timezone":"Asia/Tokyo","exam_date":"2027-04-30"}'
    expect_status 200
    [ "$(jqb .timezone)" = Asia/Tokyo ] && [ "$(jqb .exam_date)" = 2027-04-30 ] || fail "update: $BODY"
    api PUT /settings "$t" '{"timezone":"CET+1"}'
    expect_error 422 invalid_timezone
    api PUT /settings "$t" '{"new_cards_per_day":1001}'
    expect_error 422 invalid_new_cards_per_day
    api PUT /settings "$t" '{"exam_date":"2027-02-30"}'
    expect_error 422 invalid_exam_date
    api PUT /settings "$t" '{"exam_date":null}'
    [ "$(jqb .exam_date)" = null ] && [ "$(jqb .timezone)" = Asia/Tokyo ] || fail "clear: $BODY"
}

test_study_evaluate_answer() {
    local t long
    t=$(learner checker)
    api POST /study/evaluate-answer "$t" '{"card_id":"navigation_1","user_answer":"Vollständigkeit prüfen und Berichtigung auf neuesten Stand"}'
    expect_status 200
    [ "$(jqb .verdict)" = full ] && [ "$(jqb .suggested_rating)" = 4 ] && [ "$(jqb .awarded_points)" = 1 ] ||
        fail "full: $BODY"
    api POST /study/evaluate-answer "$t" '{"card_id":"navigation_1","user_answer":"Unterlagen auf Vollständigkeit"}'
    [ "$(jqb .verdict)" = partial ] && [ "$(jqb .awarded_points)" = 0.5 ] || fail "partial: $BODY"
    [ "$(jqb '.missing_points | length')" = 1 ] || fail "missing points: $BODY"
    api POST /study/evaluate-answer "$t" '{"card_id":"navigation_1","user_answer":""}'
    [ "$(jqb .verdict)" = incorrect ] && [ "$(jqb .suggested_rating)" = 1 ] || fail "empty: $BODY"
    long=$(head -c 10001 /dev/zero | tr '\0' a)
    api POST /study/evaluate-answer "$t" "{\"card_id\":\"navigation_1\",\"user_answer\":\"$long\"}"
    expect_error 422 answer_too_long
    api POST /study/evaluate-answer "$t" '{"card_id":"navigation_0","user_answer":"x"}'
    expect_error 404 card_not_found
    [ "$(psql_owner -c "SELECT count(*) FROM review_logs r JOIN users u ON u.id = r.user_id WHERE u.cognito_sub = 'checker'")" = 0 ] ||
        fail "evaluating wrote a review"
}

# Requests cost at most two statements (none for authentication once the
# learner is known), never one per card. The catalogue checks and reloads
# (app_catalogue_refresh) are per worker and second, not per request.
test_study_statements_per_request() {
    local t calls
    # A Cognito subject is a UUID: the workers' users cache keeps only those
    # (any other subject costs one more query per request, see lib/sks/users.h).
    t=$(learner "$(cat /proc/sys/kernel/random/uuid)")
    api GET "/study/due?limit=200" "$t" # first sight: user row
    psql_owner -c "SELECT pg_stat_statements_reset()" >/dev/null
    for _ in 1 2 3 4 5; do api GET "/study/due?limit=200" "$t"; expect_status 200; done
    for _ in 1 2 3 4 5; do api GET /dashboard/summary "$t"; expect_status 200; done
    for _ in 1 2 3 4 5; do review "$t" schifffahrtsrecht_1 3; done
    calls=$(psql_owner -c "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
                           WHERE r.rolname = 'easysks_web' AND s.query NOT ILIKE 'PREPARE%' AND s.query NOT ILIKE 'SELECT pg_stat%'
                           AND s.query NOT ILIKE '%catalogue_meta%' AND s.query NOT ILIKE '%FROM cards WHERE NOT retired%'")
    echo "statements for 15 requests: $calls"
    [ "$calls" -le 20 ] || fail "$calls statements for 15 requests (5 due, 5 dashboard, 5 reviews): more than 2 per review, 1 per read"
}

# A review id reused for another card or rating: 409 naming the id (the
# message was formatted from a result already freed: ASan's pass sees it).
test_study_reused_review_id_conflict_names_the_id() {
    local t id
    t=$(learner reuse-user)
    id=$(uuid)
    review "$t" navigation_20 3 "$id"
    api POST /study/review "$t" "{\"card_id\":\"navigation_21\",\"rating\":3,\"review_id\":\"$id\"}"
    expect_error 409 review_id_conflict
    [ "$(jqb .detail)" = "review_id $id was already used for another review" ] || fail "message: $BODY"
    api POST /study/reviews "$t" "{\"reviews\":[{\"card_id\":\"navigation_20\",\"rating\":4,\"review_id\":\"$id\",\"reviewed_at\":\"$(date -u +%FT%TZ)\"}]}"
    expect_error 409 review_id_conflict
    [ "$(jqb .detail)" = "review_id $id was already used for another review" ] || fail "batch message: $BODY"
}
