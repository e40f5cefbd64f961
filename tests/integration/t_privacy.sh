#!/usr/bin/env bash
# Privacy (docs/privacy.md): a learner's export holds each kind of data they
# created; the export streams a large history in bounded memory and is
# rate-limited; the erasure needs the confirmation word, cancels the Stripe
# subscription first (a Stripe failure deletes nothing), removes every row
# (checked table by table), leaves a tombstone and an audit row without
# personal data, is idempotent, and late tokens, offline reviews, webhooks
# and grading jobs cannot bring the learner back; easysks-admin exports and
# erases through the same code. The last check of the whole suite
# (pv_final_logs_hold_no_personal_data, run by run.sh) greps every log.
# shellcheck disable=SC2154,SC2153,SC2015 # BODY and friends come from lib.sh; `[ a ] && [ b ] || fail` is meant

PV_ADMIN=${EASYSKS_BIN_DIR:-$EASYSKS_ROOT/build}/easysks-admin

pv_token() {
    node "$EASYSKS_ROOT/tests/tools/mint-token.mjs" --key "$SIGNING/test-key-1.pem" --kid test-key-1 \
        --iss "$AUTH_ISSUER" --client-id test-client --sub "$1" --exp-offset 3600 "${@:2}"
}

# pv_call METHOD PATH TOKEN [JSON [curl args...]]
pv_call() {
    local method=$1 path=$2 token=$3 body=${4:-}
    shift 4 2>/dev/null || shift $#
    if [ -n "$body" ]; then
        req "$method" "/api$path" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
            --data-binary "$body" "$@"
    else
        req "$method" "/api$path" -H "Authorization: Bearer $token" "$@"
    fi
}

pv_jb() { jq -r "$1" <<<"$BODY"; }
pv_uuid() { cat /proc/sys/kernel/random/uuid; }
pv_uid() { psql_owner -c "SELECT id FROM users WHERE cognito_sub = '$1'"; }
# Strings that must never reach a log: the final check greps for them.
pv_sensitive() { printf '%s\n' "$@" >>"$IT/sensitive.list"; }

pv_premium() {
    MIGRATE_DATABASE_URL=$MIGRATE_DATABASE_URL EASYSKS_OPERATOR=pv-operator "$PV_ADMIN" grant-premium \
        --sub "$1" --until "$(date -u -d '+30 days' +%F)" --reason "${2:-privacy test}" >/dev/null ||
        fail "grant-premium failed"
}

# pv_event OUTCOME ARGS...: a signed webhook, delivered; expects 200 and OUTCOME.
pv_event() {
    local want=$1 f=$IT/pv-event.json hdr
    shift
    hdr=$(node "$EASYSKS_ROOT/tests/tools/stripe-event.mjs" --body-out "$f" --secret "$BILLING_SECRET_NEW" "$@") ||
        fail "stripe-event.mjs $*"
    req POST /webhooks/stripe -H "Stripe-Signature: $hdr" -H 'Content-Type: application/json; charset=utf-8' \
        --data-binary @"$f"
    expect_status 200
    expect_json outcome "$want"
}

# pv_subscribe SUB CUSTOMER SUBSCRIPTION: Checkout completed and the subscription active.
pv_subscribe() {
    pv_event applied --type checkout.session.completed --id "evt_pv_link_$3" --session "cs_pv_$3" \
        --client-reference-id "$1" --customer "$2" --subscription "$3"
    pv_event applied --type customer.subscription.created --id "evt_pv_created_$3" --sub "$3" \
        --customer "$2" --status active --period-end "$(($(date +%s) + 30 * 86400))"
}

pv_stripe_state() { curl -sf "$STRIPE_STUB/_stub/state"; }
pv_stripe() {
    local body=${2:-'{}'}
    curl -sf -X POST "$STRIPE_STUB/_stub/$1" -H 'Content-Type: application/json' --data-binary "$body" >/dev/null ||
        fail "stub $1"
}

# pv_learner SUB EMAIL ANSWER: a premium learner with a bit of everything:
# profile with e-mail (a token carrying it), settings, online and offline reviews,
# an exam with a saved and graded answer, an AI study check, an operator's
# grant, an active Stripe subscription (customer cus_<tag>, sub_<tag>).
# Sets PV_TOKEN, PV_UID, PV_REVIEW (an offline review id), PV_SESSION.
pv_learner() {
    local sub=$1 email=$2 answer=$3 tag=${1//-/_} card now
    pv_sensitive "$email" "$answer"
    PV_TOKEN=$(pv_token "$sub")
    pv_premium "$sub" "support case for $email"
    pv_call GET /me "$(pv_token "$sub" --claims "{\"email\":\"$email\"}")"
    expect_status 200
    PV_UID=$(pv_uid "$sub")
    pv_call PUT /settings "$PV_TOKEN" '{"timezone":"Europe/Berlin","new_cards_per_day":7,"exam_date":"2027-04-01","ai_enabled":true}'
    expect_status 200
    pv_call POST /study/review "$PV_TOKEN" "{\"card_id\":\"navigation_1\",\"rating\":3,\"review_id\":\"$(pv_uuid)\"}"
    expect_status 200
    PV_REVIEW=$(pv_uuid)
    now=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)
    pv_call POST /study/reviews "$PV_TOKEN" "{\"reviews\":[{\"review_id\":\"$PV_REVIEW\",\"card_id\":\"navigation_2\",\"rating\":2,\"reviewed_at\":\"$now\"}]}"
    expect_status 200
    pv_call POST /study/evaluate-answer "$PV_TOKEN" \
        "$(jq -cn --arg a "$answer" '{card_id:"navigation_1",user_answer:$a,mode:"ai"}')"
    expect_status 200
    # A flag with a note: learner text, like the answers.
    pv_call PUT /cards/navigation_3/flag "$PV_TOKEN" "$(jq -cn --arg a "$answer" '{note:$a}')"
    expect_status 200
    pv_call POST /exam-sessions "$PV_TOKEN" '{"sheet_number":4}'
    expect_status 200
    PV_SESSION=$(pv_jb .session_id)
    card=$(pv_jb '.questions[0].card_id')
    pv_call PUT "/exam-sessions/$PV_SESSION/answers/$card" "$PV_TOKEN" "$(jq -cn --arg a "$answer" '{student_answer:$a}')"
    expect_status 200
    pv_call POST "/exam-sessions/$PV_SESSION/submit" "$PV_TOKEN"
    expect_status 200
    pv_subscribe "$sub" "cus_$tag" "sub_$tag"
    pv_call GET /me "$PV_TOKEN"
    expect_json plan premium
}

# The learner's rows, table by table ("table=n ..."), by users.id $1 and sub $2.
pv_rows() {
    psql_owner -v uid="$1" -v sub="$2" <<'SQL'
SELECT string_agg(t || '=' || n, ' ' ORDER BY t) FROM (
  SELECT 'users' t, count(*) n FROM users WHERE id = :uid OR cognito_sub = :'sub'
  UNION ALL SELECT 'user_settings', count(*) FROM user_settings WHERE user_id = :uid
  UNION ALL SELECT 'card_states', count(*) FROM card_states WHERE user_id = :uid
  UNION ALL SELECT 'review_logs', count(*) FROM review_logs WHERE user_id = :uid
  UNION ALL SELECT 'review_days', count(*) FROM review_days WHERE user_id = :uid
  UNION ALL SELECT 'card_flags', count(*) FROM card_flags WHERE user_id = :uid
  UNION ALL SELECT 'study_versions', count(*) FROM study_versions WHERE user_id = :uid
  UNION ALL SELECT 'exam_sessions', count(*) FROM exam_sessions WHERE user_id = :uid
  UNION ALL SELECT 'exam_answers', count(*) FROM exam_answers a JOIN exam_sessions s ON s.id = a.session_id WHERE s.user_id = :uid
  UNION ALL SELECT 'grading_jobs', count(*) FROM grading_jobs WHERE user_id = :uid
  UNION ALL SELECT 'ai_usage', count(*) FROM ai_usage WHERE user_id = :uid
  UNION ALL SELECT 'stripe_customers', count(*) FROM stripe_customers WHERE user_id = :uid
  UNION ALL SELECT 'stripe_subscriptions', count(*) FROM stripe_subscriptions WHERE subscription_id = 'sub_' || replace(:'sub', '-', '_')
  UNION ALL SELECT 'stripe_events', count(*) FROM stripe_events WHERE object_id IN ('sub_' || replace(:'sub', '-', '_'), 'cus_' || replace(:'sub', '-', '_'))
  UNION ALL SELECT 'admin_audit', count(*) FROM admin_audit WHERE user_id = :uid
  UNION ALL SELECT 'data_exports', count(*) FROM data_exports WHERE user_id = :uid
) x
SQL
}

# Every table that refers to users (a foreign key to users, exam_sessions or
# exam_answers, or just a user_id column) is one the export and the erasure
# know. A new per-learner table fails here until it has its line in
# lib/sks/privacy.c and in pv_rows.
test_privacy_every_table_of_a_learner_is_covered() {
    local found known
    found=$(psql_owner -c "SELECT string_agg(DISTINCT t, ' ' ORDER BY t) FROM (
          SELECT conrelid::regclass::text t FROM pg_constraint WHERE contype = 'f'
            AND confrelid IN ('users'::regclass, 'exam_sessions'::regclass, 'exam_answers'::regclass)
          UNION SELECT table_name FROM information_schema.columns
            WHERE table_schema = 'public' AND column_name = 'user_id') x")
    known="admin_audit ai_usage card_flags card_states data_exports exam_answers exam_sessions grading_jobs review_days review_logs stripe_customers study_versions user_settings"
    [ "$found" = "$known" ] || fail "tables referring to a learner: $found; covered: $known (add the new one to lib/privacy.c)"
}

test_privacy_export_holds_each_kind_of_data_the_learner_created() {
    local sub=pv-export-learner email=pv.export@example.test answer='Rotes Licht an Backbord voraus' doc
    pv_learner "$sub" "$email" "$answer"
    pv_call GET /me/export "$PV_TOKEN"
    expect_status 200
    [[ $(header Content-Disposition) == 'attachment; filename="easysks-export-'*'.json"' ]] ||
        fail "Content-Disposition: $(header Content-Disposition)"
    [[ $(header Content-Type) == application/json* ]] || fail "Content-Type: $(header Content-Type)"
    [ "$(header Cache-Control)" = no-store ] || fail "Cache-Control: $(header Cache-Control)"
    doc=$BODY
    jq -e . >/dev/null <<<"$doc" || fail "not JSON: ${doc:0:300}"
    jq -e --arg sub "$sub" --arg email "$email" --arg answer "$answer" --arg review "$PV_REVIEW" \
        --arg session "$PV_SESSION" --arg cus "cus_${sub//-/_}" --arg subid "sub_${sub//-/_}" '
        .format == "easysks-export/1" and .complete == true and (.exported_at | test("Z$")) and
        .account.cognito_sub == $sub and .account.email == $email and (.account | has("id") | not) and
        .settings.new_cards_per_day == 7 and .settings.exam_date == "2027-04-01" and .settings.ai_enabled == true and
        ([.card_states[].card_id] | index("navigation_1") != null and index("navigation_2") != null) and
        (.review_logs | length) == 2 and ([.review_logs[].review_id] | index($review) != null) and
        (.review_logs | all(has("user_id") | not)) and
        (.review_days | length) >= 1 and
        ([.card_flags[] | {card_id, note}] == [{card_id: "navigation_3", note: $answer}]) and
        (.card_flags | all(has("user_id") | not)) and
        ([.exam_sessions[].id] == [$session]) and .exam_sessions[0].status == "evaluated" and
        ([.exam_answers[] | select(.answer == $answer)] | length) == 1 and
        (.exam_answers | length) == 30 and
        (.ai_usage | length) == 1 and .ai_usage[0].requests >= 1 and
        ([.stripe_customers[].customer_id] == [$cus]) and
        ([.stripe_subscriptions[] | .subscription_id + ":" + .status] == [$subid + ":active"]) and
        ([.operator_actions[] | select(.action == "grant-premium" and .operator == "pv-operator")] | length) == 1 and
        (.operator_actions[0].detail.reason | contains($email)) and
        (.data_exports | length) == 1
    ' <<<"$doc" >/dev/null || fail "export: $(jq -c '{format, complete, account, settings, review_logs: (.review_logs|length), exam_sessions, ai_usage, stripe_customers, stripe_subscriptions, operator_actions, data_exports}' <<<"$doc")"
    # Nobody else's data: the export of another learner is about them only.
    pv_call GET /me/export "$(pv_token pv-export-other)"
    expect_status 200
    jq -e '.account.cognito_sub == "pv-export-other" and (.review_logs | length) == 0 and .settings == null
        and (.exam_sessions | length) == 0' <<<"$BODY" >/dev/null || fail "other learner's export: $BODY"
}

test_privacy_export_is_rate_limited_per_learner_across_workers() {
    local t i
    t=$(pv_token pv-export-limit)
    for i in 1 2 3; do
        pv_call GET /me/export "$t"
        expect_status 200
    done
    pv_call GET /me/export "$t"
    expect_error 429 export_rate_limited
    [ "$(header Retry-After)" -gt 3000 ] && [ "$(header Retry-After)" -le 3600 ] || fail "Retry-After: $(header Retry-After)"
    pv_call GET /me/export "$t"
    expect_error 429 export_rate_limited
    # Another learner is not affected; the window ends after an hour.
    pv_call GET /me/export "$(pv_token pv-export-limit-2)"
    expect_status 200
    psql_owner -c "UPDATE data_exports SET window_start = now() - interval '61 minutes' WHERE user_id = $(pv_uid pv-export-limit)"
    pv_call GET /me/export "$t"
    expect_status 200
}

# 50 000 reviews: the document has them all, and no worker's peak memory
# grows by anything near the document's size (it is streamed, not built).
test_privacy_export_streams_a_long_history_in_bounded_memory() {
    local sub=pv-export-big t uid before after size pid
    t=$(pv_token "$sub")
    pv_call GET /me "$t"
    expect_status 200
    uid=$(pv_uid "$sub")
    psql_owner -c "INSERT INTO review_logs (user_id, review_id, card_id, rating, reviewed_at, applied, state,
            elapsed_days, scheduled_days, new_state, new_stability, new_difficulty, new_reps, new_lapses, new_due)
        SELECT $uid, gen_random_uuid(), 'navigation_' || (1 + g % 50), 1 + g % 4, now() - g * interval '1 minute',
            true, 2, 3, 4, 2, 12.5, 5.25, g, 0, now() + interval '1 day'
        FROM generate_series(1, 50000) g" >/dev/null || fail "inserting reviews"
    before=0
    for pid in $(worker_pids); do
        before=$((before + $(awk '/VmHWM/ {print $2}' "/proc/$pid/status")))
    done
    curl -ks -o "$IT/pv-big.json" -w '%{http_code} %{time_total}' -H "Authorization: Bearer $t" --max-time 60 \
        "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/me/export" >"$IT/pv-big.code"
    [ "$(cut -d' ' -f1 "$IT/pv-big.code")" = 200 ] || fail "export: $(cat "$IT/pv-big.code") $(head -c 300 "$IT/pv-big.json")"
    size=$(stat -c %s "$IT/pv-big.json")
    [ "$(jq '(.review_logs | length), .complete' "$IT/pv-big.json" | paste -sd' ')" = "50000 true" ] ||
        fail "document: $(jq -c '{n: (.review_logs | length), complete}' "$IT/pv-big.json")"
    after=0
    for pid in $(worker_pids); do
        after=$((after + $(awk '/VmHWM/ {print $2}' "/proc/$pid/status")))
    done
    echo "# export of 50 000 reviews: $((size / 1024)) KiB in $(cut -d' ' -f2 "$IT/pv-big.code") s; workers' peak RSS grew by $((after - before)) KiB" >&2
    # A sanitizer build keeps freed memory in quarantine: its RSS says
    # nothing about what the code holds at once.
    # (clang links ASan statically: look for its runtime in the binary.)
    if grep -q libasan "/proc/$(worker_pids | head -n1)/maps" 2>/dev/null ||
        grep -qa __asan_init "$EASYSKS_BIN_DIR/easysks-fcgi" 2>/dev/null; then
        echo "# (AddressSanitizer build: the memory bound is checked by the plain build only)" >&2
        return 0
    fi
    [ $(((after - before) * 1024)) -lt $((size / 4)) ] ||
        fail "peak RSS grew by $((after - before)) KiB for a $((size / 1024)) KiB document"
}

test_privacy_delete_needs_the_confirmation_word() {
    local t sub=pv-confirm
    t=$(pv_token "$sub")
    pv_call GET /me "$t"
    expect_status 200
    pv_call DELETE /me "$t" '{}'
    expect_error 422 confirmation_required
    pv_call DELETE /me "$t" '{"confirm":"löschen"}'
    expect_error 422 confirmation_required
    pv_call DELETE /me "$t" '{"confirm":true}'
    expect_error 422 confirmation_required
    pv_call DELETE /me "$t" '{"confirm":"LOESCHEN"}'
    expect_error 422 confirmation_required
    req DELETE /api/me -H "Authorization: Bearer $t"
    [ "$STATUS" = 415 ] || [ "$STATUS" = 422 ] || fail "no body: $STATUS $BODY"
    pv_call GET /me "$t"
    expect_status 200
    [ -n "$(pv_uid "$sub")" ] || fail "the account went without confirmation"
}

test_privacy_delete_cancels_stripe_and_removes_every_row() {
    local sub=pv-delete-learner email=pv.delete@example.test answer='Manöver des letzten Augenblicks' before out state i
    pv_learner "$sub" "$email" "$answer"
    local t=$PV_TOKEN uid=$PV_UID
    # Every worker learns the learner's id (its users cache), so that later
    # requests also reach workers that still know it.
    for i in 1 2 3 4 5 6; do
        pv_call GET /dashboard/summary "$t"
        expect_status 200
    done
    before=$(pv_rows "$uid" "$sub")
    [[ $before == *"review_logs=2"* && $before == *"exam_answers=30"* && $before == *"stripe_subscriptions=1"* && $before == *"admin_audit=1"* && $before == *"ai_usage=1"* ]] ||
        fail "setup: $before"
    pv_stripe reset
    pv_call DELETE /me "$t" '{"confirm":"LÖSCHEN"}'
    expect_status 200
    jq -e '.deleted == true and .status == "deleted" and .details.subscriptions_cancelled == 1 and
        .details.removed.review_logs == 2 and .details.removed.exam_answers == 30 and .details.removed.account == 1' \
        <<<"$BODY" >/dev/null || fail "answer: $BODY"
    state=$(pv_stripe_state)
    jq -e --arg p "/v1/subscriptions/sub_${sub//-/_}" '[.requests[] | select(.method == "DELETE")] | length == 1 and .[0].path == $p and .[0].status == 200' \
        <<<"$state" >/dev/null || fail "Stripe saw: $state"
    [ "$(jq '.failures | length' <<<"$state")" = 0 ] || fail "stub assertions: $state"
    # Table by table: nothing of the learner is left.
    out=$(pv_rows "$uid" "$sub")
    [ "$out" = "admin_audit=0 ai_usage=0 card_flags=0 card_states=0 data_exports=0 exam_answers=0 exam_sessions=0 grading_jobs=0 review_days=0 review_logs=0 stripe_customers=0 stripe_events=0 stripe_subscriptions=0 study_versions=0 user_settings=0 users=0" ] ||
        fail "left behind: $out"
    [ "$(psql_owner -c "SELECT count(*) FROM review_logs WHERE review_id = '$PV_REVIEW'")" = 0 ] || fail "review kept"
    # The operator's grant stays in the audit trail, unlinked and without its reason.
    [ "$(psql_owner -c "SELECT count(*) FROM admin_audit WHERE action = 'grant-premium' AND operator = 'pv-operator' AND user_id IS NULL AND detail ? 'reason_erased' AND NOT detail ? 'reason'")" -ge 1 ] ||
        fail "audit: $(psql_owner -c "SELECT detail FROM admin_audit WHERE operator = 'pv-operator'")"
    [ "$(psql_owner -c "SELECT count(*) FROM admin_audit WHERE detail::text LIKE '%$email%'")" = 0 ] || fail "e-mail in the audit trail"
    # The erasure's own audit row: counts, no personal data.
    out=$(psql_owner -c "SELECT operator || ' ' || coalesce(user_id::text, 'null') || ' ' || (detail->'removed'->>'review_logs') || ' ' || (detail->>'via') FROM admin_audit WHERE action = 'delete-account' ORDER BY id DESC LIMIT 1")
    [ "$out" = "self null 2 api" ] || fail "audit row: $out"
    [ "$(psql_owner -c "SELECT count(*) FROM admin_audit WHERE action = 'delete-account' AND (detail::text LIKE '%$sub%'
            OR detail::text LIKE '%${sub//-/_}%' OR detail::text LIKE '%@%'
            OR (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(detail) k) <> '{removed,subscriptions_cancelled,via}')")" = 0 ] ||
        fail "personal data in the audit row: $(psql_owner -c "SELECT detail FROM admin_audit WHERE action = 'delete-account'")"
    # The tombstones: the sub, the customer and the subscription, hashed.
    [ "$(psql_owner -c "SELECT string_agg(kind, ',' ORDER BY kind) FROM erased_ids WHERE id_sha256 IN (sha256('$sub'::bytea), sha256('cus_${sub//-/_}'::bytea), sha256('sub_${sub//-/_}'::bytea))")" = cognito_sub,stripe_customer,stripe_subscription ] ||
        fail "tombstones: $(psql_owner -c "SELECT kind FROM erased_ids")"

    # Idempotent, on every worker (some still know the id, some look it up).
    for i in 1 2 3 4 5 6; do
        pv_call DELETE /me "$t" '{"confirm":"LÖSCHEN"}'
        expect_status 200
        expect_json status already_deleted
    done
    [ "$(jq '[.requests[] | select(.method == "DELETE")] | length' <<<"$(pv_stripe_state)")" = 1 ] || fail "cancelled twice"
    # The account does not come back: the same token, or a fresh one.
    for i in 1 2 3; do
        pv_call GET /me "$t"
        expect_error 410 account_deleted
        pv_call GET /me "$(pv_token "$sub" --claims "{\"email\":\"$email\"}")"
        expect_error 410 account_deleted
    done
    [ "$(pv_uid "$sub")" = "" ] || fail "the user row came back"
}

test_privacy_late_reviews_webhooks_and_jobs_cannot_resurrect_the_learner() {
    local sub=pv-late-learner t uid i card tag=pv_late_learner state now
    t=$(pv_token "$sub")
    pv_premium "$sub"
    pv_call PUT /settings "$t" '{"ai_enabled":true}'
    expect_status 200
    uid=$(pv_uid "$sub")
    pv_subscribe "$sub" "cus_$tag" "sub_$tag"
    for i in 1 2 3 4 5 6; do
        pv_call GET /dashboard/summary "$t"
        expect_status 200
    done
    # An exam whose AI grading is still running when the account goes.
    curl -sf "$OPENAI_STUB/_mode?mode=slow&delay_ms=2500&for=chat" >/dev/null || fail "openai stub"
    pv_call POST /exam-sessions "$t" '{"sheet_number":6}'
    expect_status 200
    local session
    session=$(pv_jb .session_id)
    for card in $(pv_jb '.questions[:3][].card_id'); do
        pv_call PUT "/exam-sessions/$session/answers/$card" "$t" '{"student_answer":"Ausweichen nach Steuerbord"}'
        expect_status 200
    done
    pv_sensitive 'Ausweichen nach Steuerbord'
    pv_call POST "/exam-sessions/$session/submit" "$t"
    expect_status 200
    for ((i = 0; i < 40; i++)); do
        [ "$(psql_owner -c "SELECT count(*) FROM grading_jobs WHERE session_id = '$session' AND state = 'running'")" -gt 0 ] && break
        sleep 0.1
    done
    [ "$i" -lt 40 ] || fail "no grading job started"
    pv_call DELETE /me "$t" '{"confirm":"LÖSCHEN"}'
    expect_status 200
    expect_json status deleted

    # Offline reviews synced from another device: refused on every worker.
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    for i in 1 2 3 4 5 6; do
        pv_call POST /study/reviews "$t" "{\"reviews\":[{\"review_id\":\"$(pv_uuid)\",\"card_id\":\"navigation_3\",\"rating\":3,\"reviewed_at\":\"$now\"}]}"
        expect_error 410 account_deleted
        pv_call POST /study/review "$t" "{\"card_id\":\"navigation_4\",\"rating\":3}"
        expect_error 410 account_deleted
        pv_call PUT /settings "$t" '{"new_cards_per_day":3}'
        expect_error 410 account_deleted
    done
    # Stripe's late events (the cancellation's own, a checkout, an invoice):
    # acknowledged, dropped, not even recorded.
    pv_event erased --type customer.subscription.deleted --id evt_pv_late_deleted --sub "sub_$tag" \
        --customer "cus_$tag" --status canceled
    pv_event erased --type customer.subscription.updated --id evt_pv_late_updated --sub "sub_$tag" \
        --customer "cus_$tag" --status active --period-end "$(($(date +%s) + 86400))"
    pv_event erased --type checkout.session.completed --id evt_pv_late_checkout --session cs_pv_late2 \
        --client-reference-id "$sub" --customer cus_pv_late_new --subscription sub_pv_late_new
    pv_event erased --type invoice.paid --id evt_pv_late_invoice --invoice in_pv_late \
        --customer "cus_$tag" --subscription "sub_$tag"
    [ "$(psql_owner -c "SELECT count(*) FROM stripe_events WHERE event_id LIKE 'evt_pv_late_%'")" = 0 ] || fail "late events recorded"
    [ "$(psql_owner -c "SELECT count(*) FROM stripe_subscriptions WHERE customer_id IN ('cus_$tag', 'cus_pv_late_new')")" = 0 ] ||
        fail "a late event wrote a subscription"
    [ "$(psql_owner -c "SELECT count(*) FROM stripe_customers WHERE customer_id IN ('cus_$tag', 'cus_pv_late_new')")" = 0 ] ||
        fail "a late event linked a customer"
    # The grading job finishes after the erasure and writes nothing.
    sleep 3.5
    curl -sf "$OPENAI_STUB/_reset" >/dev/null
    [ "$(pv_rows "$uid" "$sub")" = "admin_audit=0 ai_usage=0 card_flags=0 card_states=0 data_exports=0 exam_answers=0 exam_sessions=0 grading_jobs=0 review_days=0 review_logs=0 stripe_customers=0 stripe_events=0 stripe_subscriptions=0 study_versions=0 user_settings=0 users=0" ] ||
        fail "after the late events: $(pv_rows "$uid" "$sub")"
    [ "$(psql_owner -c "SELECT count(*) FROM exam_sessions WHERE id = '$session'")" = 0 ] || fail "session back"
    pv_call GET /me "$t"
    expect_error 410 account_deleted
}

test_privacy_a_stripe_failure_deletes_nothing_and_a_retry_finishes() {
    local sub=pv-stripe-fails tag=pv_stripe_fails t uid before
    t=$(pv_token "$sub")
    pv_call PUT /settings "$t" '{"new_cards_per_day":9}'
    expect_status 200
    pv_call POST /study/review "$t" "{\"card_id\":\"navigation_5\",\"rating\":3}"
    expect_status 200
    pv_subscribe "$sub" "cus_$tag" "sub_$tag"
    uid=$(pv_uid "$sub")
    before=$(pv_rows "$uid" "$sub")
    pv_stripe reset
    pv_stripe next '{"status":500,"body":{"error":{"type":"api_error","message":"boom"}},"count":1}'
    pv_call DELETE /me "$t" '{"confirm":"LÖSCHEN"}'
    expect_error 502 stripe_unavailable
    [ "$(pv_rows "$uid" "$sub")" = "$before" ] || fail "partly deleted: $before -> $(pv_rows "$uid" "$sub")"
    [ "$(psql_owner -c "SELECT count(*) FROM erased_ids WHERE id_sha256 = sha256('$sub'::bytea)")" = 0 ] || fail "tombstone without erasure"
    pv_call GET /me "$t"
    expect_status 200
    # A timeout is retryable too, and leaves everything.
    pv_stripe next '{"status":200,"body":{},"delay_ms":3000,"count":1}'
    pv_call DELETE /me "$t" '{"confirm":"LÖSCHEN"}'
    expect_error 504 stripe_timeout
    [ "$(pv_rows "$uid" "$sub")" = "$before" ] || fail "partly deleted after a timeout"
    # The retry goes through; a subscription Stripe no longer knows counts as cancelled.
    pv_call DELETE /me "$t" '{"confirm":"LÖSCHEN"}'
    expect_status 200
    expect_json status deleted
    [ "$(pv_rows "$uid" "$sub")" = "admin_audit=0 ai_usage=0 card_flags=0 card_states=0 data_exports=0 exam_answers=0 exam_sessions=0 grading_jobs=0 review_days=0 review_logs=0 stripe_customers=0 stripe_events=0 stripe_subscriptions=0 study_versions=0 user_settings=0 users=0" ] ||
        fail "after the retry: $(pv_rows "$uid" "$sub")"
    local sub2=pv-stripe-gone
    t=$(pv_token "$sub2")
    pv_call GET /me "$t"
    expect_status 200
    pv_subscribe "$sub2" cus_pv_stripe_gone sub_missing_pv
    pv_call DELETE /me "$t" '{"confirm":"LÖSCHEN"}'
    expect_status 200
    jq -e '.details.subscriptions_cancelled == 1' <<<"$BODY" >/dev/null || fail "gone subscription: $BODY"
}

# Stripe cancelled, then the database could not erase (the row stayed
# locked past lock_timeout): nothing removed, and the retry, which Stripe
# now answers "No such subscription", finishes.
test_privacy_a_database_failure_after_the_cancellation_is_retryable() {
    local sub=pv-db-fails tag=pv_db_fails t uid before holder state
    t=$(pv_token "$sub")
    pv_call PUT /settings "$t" '{"new_cards_per_day":4}'
    expect_status 200
    pv_subscribe "$sub" "cus_$tag" "sub_$tag"
    uid=$(pv_uid "$sub")
    before=$(pv_rows "$uid" "$sub")
    pv_stripe reset
    psql_owner -c "BEGIN; SELECT 1 FROM users WHERE id = $uid FOR UPDATE; SELECT pg_sleep(6); COMMIT" >/dev/null &
    holder=$!
    sleep 0.5
    pv_call DELETE /me "$t" '{"confirm":"LÖSCHEN"}'
    expect_error 503 db_busy
    wait "$holder"
    [ "$(pv_rows "$uid" "$sub")" = "$before" ] || fail "partly deleted: $(pv_rows "$uid" "$sub")"
    pv_call DELETE /me "$t" '{"confirm":"LÖSCHEN"}'
    expect_status 200
    expect_json status deleted
    jq -e '.details.subscriptions_cancelled == 1' <<<"$BODY" >/dev/null || fail "answer: $BODY"
    state=$(pv_stripe_state)
    [ "$(jq -c '[.requests[] | select(.method == "DELETE") | .status]' <<<"$state")" = '[200,404]' ] ||
        fail "Stripe saw: $state"
    [ "$(pv_rows "$uid" "$sub" | grep -o 'users=[0-9]*\|user_settings=[0-9]*\|stripe_customers=[0-9]*' | paste -sd' ')" = "stripe_customers=0 user_settings=0 users=0" ] ||
        fail "after the retry: $(pv_rows "$uid" "$sub")"
}

test_privacy_admin_exports_and_deletes_by_email_with_the_operator_in_the_audit() {
    local sub=pv-admin-learner email=pv.admin@example.test out uid
    pv_sensitive "$email"
    pv_call GET /me "$(pv_token "$sub" --claims "{\"email\":\"$email\"}")"
    expect_status 200
    pv_call POST /study/review "$(pv_token "$sub")" "{\"card_id\":\"navigation_6\",\"rating\":4}"
    expect_status 200
    uid=$(pv_uid "$sub")
    out=$(MIGRATE_DATABASE_URL=$MIGRATE_DATABASE_URL "$PV_ADMIN" export --email "PV.Admin@example.test" 2>"$IT/pv-admin.err") ||
        fail "admin export: $(cat "$IT/pv-admin.err")"
    jq -e --arg sub "$sub" '.account.cognito_sub == $sub and (.review_logs | length) == 1 and .complete == true' <<<"$out" >/dev/null ||
        fail "admin export: ${out:0:400}"
    MIGRATE_DATABASE_URL=$MIGRATE_DATABASE_URL "$PV_ADMIN" delete --email "$email" >/dev/null 2>&1 &&
        fail "admin delete without --confirm"
    [ -n "$(pv_uid "$sub")" ] || fail "deleted without --confirm"
    out=$(MIGRATE_DATABASE_URL=$MIGRATE_DATABASE_URL EASYSKS_OPERATOR=pv-support "$PV_ADMIN" delete --email "$email" --confirm 2>&1) ||
        fail "admin delete: $out"
    [[ $out == *'"status":"deleted"'* ]] || fail "admin delete said: $out"
    [ "$(pv_rows "$uid" "$sub" | grep -o 'review_logs=[0-9]*\|users=[0-9]*' | paste -sd' ')" = "review_logs=0 users=0" ] || fail "admin delete left: $(pv_rows "$uid" "$sub")"
    [ "$(psql_owner -c "SELECT operator || ' ' || (detail->>'via') FROM admin_audit WHERE action = 'delete-account' ORDER BY id DESC LIMIT 1")" = "pv-support admin" ] ||
        fail "audit: $(psql_owner -c "SELECT operator, detail FROM admin_audit WHERE action = 'delete-account'")"
    # Again, by sub: already erased, nothing to do.
    out=$(MIGRATE_DATABASE_URL=$MIGRATE_DATABASE_URL EASYSKS_OPERATOR=pv-support "$PV_ADMIN" delete --sub "$sub" --confirm 2>&1) ||
        fail "admin delete again: $out"
    [[ $out == *already* ]] || fail "admin delete again said: $out"
    # A grant cannot bring an erased sub back either.
    MIGRATE_DATABASE_URL=$MIGRATE_DATABASE_URL "$PV_ADMIN" grant-premium --sub "$sub" --until 2030-01-01 >/dev/null 2>&1 &&
        fail "grant-premium recreated an erased learner"
    [ "$(pv_uid "$sub")" = "" ] || fail "the user row came back through the admin tool"
}

# The web client in headless Chromium (tests/e2e/privacy.mjs): legal pages
# from the sign-in screen, export download, deletion with confirmation,
# sign-out and wiped device, credentials that no longer work, and a
# half-finished deletion completed at the next sign-in. Screenshots in
# $IT/e2e-privacy (and EASYSKS_E2E_SCREENSHOTS when set).
test_privacy_web_export_delete_and_legal_pages() {
    local out=$IT/e2e-privacy rc=0
    node "$EASYSKS_ROOT/tests/e2e/privacy.mjs" --base "https://127.0.0.1:$EASYSKS_HTTPS_PORT" \
        --cert "$TLS_CERT" --cognito-state "$IT/cognito" --db "$MIGRATE_DATABASE_URL" \
        --out "$out" >"$IT/e2e-privacy.out" 2>"$IT/e2e-privacy.err" || rc=$?
    cat "$IT/e2e-privacy.out" >&2
    if [ -n "${EASYSKS_E2E_SCREENSHOTS:-}" ]; then
        mkdir -p "$EASYSKS_E2E_SCREENSHOTS" && cp "$out"/*.png "$EASYSKS_E2E_SCREENSHOTS"/ 2>/dev/null
    fi
    [ "$rc" -eq 0 ] || { grep -v NODE_TLS_REJECT "$IT/e2e-privacy.err" | tail -n 5; fail "browser privacy flow failed"; }
    grep -c '^ok ' "$IT/e2e-privacy.out" | grep -qx 5 || fail "not every browser step passed"
}

# Run by run.sh after every test: no log of the suite holds a test
# learner's e-mail address, an answer they typed, or a token. The stand-ins'
# own logs (cognito-local, the Stripe and OpenAI stubs) are theirs, not ours.
pv_final_logs_hold_no_personal_data() {
    local list=$IT/sensitive.all logs hits
    : >"$list"
    [ -f "$IT/sensitive.list" ] && cat "$IT/sensitive.list" >>"$list"
    psql_owner -c "SELECT DISTINCT email FROM users WHERE email IS NOT NULL
        UNION SELECT DISTINCT answer FROM exam_answers WHERE length(answer) >= 12" >>"$list" 2>/dev/null
    cat "$IT"/cognito/.cognito/db/*.json 2>/dev/null | grep -oE '"Value":"[^"@]+@[^"]+"' | sed 's/^"Value":"//; s/"$//' >>"$list"
    sort -u -o "$list" "$list"
    sed -i '/^$/d' "$list"
    logs=$(find "$IT/log" -type f \( -name '*.log' -o -name '*.out' \) ! -name 'cognito*' ! -name 'stripe-stub*' \
        ! -name 'openai-stub*' ! -name 'jwks*' | sort)
    [ -n "$logs" ] || fail "no logs found in $IT/log"
    [ "$(wc -l <"$list")" -ge 3 ] || fail "too few sensitive strings to look for: $(cat "$list")"
    # shellcheck disable=SC2086 # one word per log file
    hits=$(grep -F -i -n -f "$list" $logs | head -n 5)
    [ -z "$hits" ] || fail "personal data in a log: $hits"
    # shellcheck disable=SC2086
    hits=$(grep -E -n 'eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}' $logs | head -n 3)
    [ -z "$hits" ] || fail "a token in a log: $hits"
    echo "# looked for $(wc -l <"$list") e-mail addresses and answers in: $(echo "$logs" | xargs -n1 basename | paste -sd' ')" >&2
}
