#!/usr/bin/env bash
# Billing through nginx: Checkout and the portal against the loopback Stripe
# stub (setup_billing.sh), webhooks signed by the official stripe npm package
# (tests/tools/stripe-event.mjs): signatures, rotation and tolerance, refusals
# that write nothing, duplicates (also concurrent), out-of-order events,
# unknown types, a database outage with redelivery, the past_due grace, the
# operator's manual grant as an override, and the whole path from checkout
# to premium (/api/me and a /media/premium/ file) and back to free.
# shellcheck disable=SC2154,SC2153 # IT, BODY and friends come from run.sh and lib.sh

# bl_token SUB [mint-token args]: an access token for a learner of our own.
bl_token() {
    node "$EASYSKS_ROOT/tests/tools/mint-token.mjs" --key "$SIGNING/test-key-1.pem" --kid test-key-1 \
        --iss "$AUTH_ISSUER" --client-id test-client --sub "$1" --exp-offset 3600 "${@:2}"
}

# bl_api METHOD PATH TOKEN [curl args]
bl_api() {
    local method=$1 path=$2 token=$3
    shift 3
    req "$method" "/api$path" -H "Authorization: Bearer $token" "$@"
}

bl_me() {
    bl_api GET /me "$1"
    expect_status 200
}

# A unique Stripe-style id.
bl_id() { echo "${1}_$(tr -d - </proc/sys/kernel/random/uuid)"; }

# bl_sign FILE ARGS...: build and sign an event (stripe-event.mjs ARGS), body
# into FILE; prints the Stripe-Signature header.
bl_sign() {
    local file=$1
    shift
    node "$EASYSKS_ROOT/tests/tools/stripe-event.mjs" --body-out "$file" "$@"
}

# bl_deliver HEADER FILE: POST FILE to the webhook as Stripe does ("" = no signature header).
bl_deliver() {
    local hdr=$1 file=$2
    if [ -n "$hdr" ]; then
        req POST /webhooks/stripe -H "Stripe-Signature: $hdr" -H 'Content-Type: application/json; charset=utf-8' \
            --data-binary @"$file"
    else
        req POST /webhooks/stripe -H 'Content-Type: application/json; charset=utf-8' --data-binary @"$file"
    fi
}

# bl_apply OUTCOME ARGS...: an event signed with the current secret, delivered; expects 200 and OUTCOME.
bl_apply() {
    local want=$1 f=$IT/bl-event.json hdr
    shift
    hdr=$(bl_sign "$f" --secret "$BILLING_SECRET_NEW" "$@") || fail "stripe-event.mjs $*"
    bl_deliver "$hdr" "$f"
    expect_status 200
    expect_json outcome "$want"
}

# bl_link SUB CUSTOMER: checkout.session.completed for learner SUB.
bl_link() {
    bl_apply applied --type checkout.session.completed --id "$(bl_id evt_link)" --session "$(bl_id cs)" \
        --client-reference-id "$1" --customer "$2" --subscription "sub_for_$2"
}

bl_time() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
bl_stub_state() { curl -sf "$STRIPE_STUB/_stub/state"; }
bl_stub() {
    local body=${2:-'{}'}
    curl -sf -X POST "$STRIPE_STUB/_stub/$1" -H 'Content-Type: application/json' --data-binary "$body" >/dev/null ||
        fail "stub control $1"
}
# After a database restart each worker's old connection fails once (503,
# which Stripe retries). Later tests expect every delivery to succeed, so
# the outage test ends by having the pool replace its workers (HUP).
bl_fresh_workers() {
    local old i
    old=$(worker_pids)
    kill -HUP "$(pool_pid)"
    for ((i = 0; i < 200; i++)); do
        if [ "$(worker_count)" = "$EASYSKS_WORKERS" ] && [ -z "$(comm -12 <(echo "$old") <(worker_pids))" ]; then
            return 0
        fi
        sleep 0.1
    done
    fail "the pool did not replace its workers (old: $old, now: $(worker_pids))"
}

bl_events_with() { psql_owner -c "SELECT count(*) FROM stripe_events WHERE event_id = '$1'"; }
bl_sub_status() { psql_owner -c "SELECT status FROM stripe_subscriptions WHERE subscription_id = '$1'"; }

# Two Checkout sessions opened before either was paid (two tabs), both paid:
# two customers, two subscriptions. Premium is simply on, but the learner
# pays twice: the pool logs it at level error for an operator (the
# app-errors alarm) with both subscriptions.
test_billing_a_learner_paying_twice_is_reported() {
    local sub=bl-twice-learner t now end from
    t=$(bl_token "$sub")
    bl_me "$t"
    now=$(date +%s)
    end=$((now + 30 * 86400))
    from=$(wc -l <"$IT/log/pool.log")
    bl_apply applied --type checkout.session.completed --id "$(bl_id evt)" --session cs_twice1 \
        --client-reference-id "$sub" --customer cus_twice1 --subscription sub_twice1
    bl_apply applied --type customer.subscription.created --id "$(bl_id evt)" --sub sub_twice1 \
        --customer cus_twice1 --status active --period-end "$end"
    sleep 0.2
    tail -n +"$((from + 1))" "$IT/log/pool.log" | grep -q 'more than one subscription' &&
        fail "one subscription reported as two"
    bl_apply applied --type checkout.session.completed --id "$(bl_id evt)" --session cs_twice2 \
        --client-reference-id "$sub" --customer cus_twice2 --subscription sub_twice2
    bl_apply applied --type customer.subscription.created --id "$(bl_id evt)" --sub sub_twice2 \
        --customer cus_twice2 --status active --period-end "$end"
    bl_me "$t"
    expect_json plan premium
    sleep 0.2
    tail -n +"$((from + 1))" "$IT/log/pool.log" |
        grep 'more than one subscription' | grep '"level":"error"' | grep -q '"subscriptions":"sub_twice1,sub_twice2"' ||
        fail "paying twice was not reported: $(tail -n +"$((from + 1))" "$IT/log/pool.log" | tail -5)"
}

test_billing_end_to_end_checkout_to_premium_and_back() {
    local sub=bl-e2e-learner t url now end state out
    t=$(bl_token "$sub")
    printf 'GIF89a' >"$EASYSKS_MEDIA_ROOT/premium/billing-chart.gif"
    bl_me "$t"
    expect_json plan free
    req GET /media/premium/billing-chart.gif -H "Authorization: Bearer $t"
    expect_status 403

    bl_api POST /billing/checkout "$t"
    expect_status 200
    url=$(json url)
    [[ $url == https://checkout.stripe.test/c/pay/cs_test_* ]] || fail "checkout url: $BODY"
    state=$(bl_stub_state)
    [ "$(jq -r '.requests[-1].path' <<<"$state")" = /v1/checkout/sessions ] || fail "stub saw: $state"
    [ "$(jq -r '.requests[-1].form.client_reference_id' <<<"$state")" = "$sub" ] || fail "reference: $state"
    [ "$(jq -r '.requests[-1].form.customer // "none"' <<<"$state")" = none ] || fail "a customer out of nowhere: $state"

    # Stripe reports the completed checkout and the new subscription.
    now=$(date +%s)
    end=$((now + 30 * 86400))
    bl_apply applied --type checkout.session.completed --id "$(bl_id evt)" --session cs_e2e \
        --client-reference-id "$sub" --customer cus_e2e --subscription sub_e2e
    bl_me "$t"
    expect_json plan free
    # created pinned: the deletion below is ordered after it however slow
    # the run (a sanitized build) is.
    bl_apply applied --type customer.subscription.created --id "$(bl_id evt)" --sub sub_e2e \
        --customer cus_e2e --status active --period-end "$end" --created "$now"
    bl_me "$t"
    expect_json plan premium
    expect_json premium_until "$(bl_time "$end")"
    req GET /media/premium/billing-chart.gif -H "Authorization: Bearer $t"
    expect_status 200
    # Premium unlocks the exam simulation.
    req POST /api/exam-sessions -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
        --data-binary '{"sheet_number":12}'
    expect_status 200
    [ "$(json status)" = in_progress ] || fail "exam start: $BODY"
    # Support sees where premium comes from: no manual grant, the subscription.
    out=$("$EASYSKS_BIN_DIR/easysks-admin" show --sub "$sub" 2>&1) ||
        fail "easysks-admin show: $out"
    [[ $out == *" plan=free premium_until=- subscription=sub_e2e status=active until=$(bl_time "$end") grants=yes" ]] ||
        fail "easysks-admin show: $out"

    bl_api POST /billing/checkout "$t"
    expect_error 409 already_subscribed
    bl_api POST /billing/portal "$t"
    expect_status 200
    [[ $(json url) == https://billing.stripe.test/p/session/bps_test_* ]] || fail "portal url: $BODY"
    state=$(bl_stub_state)
    [ "$(jq -r '.requests[-1].path + " " + .requests[-1].form.customer' <<<"$state")" = "/v1/billing_portal/sessions cus_e2e" ] ||
        fail "portal request: $state"

    # Cancelled in the portal: Stripe deletes the subscription.
    bl_apply applied --type customer.subscription.deleted --id "$(bl_id evt)" --sub sub_e2e \
        --customer cus_e2e --status canceled --created $((now + 1))
    bl_me "$t"
    expect_json plan free
    expect_json premium_until null
    out=$("$EASYSKS_BIN_DIR/easysks-admin" show --sub "$sub" 2>&1) || fail "easysks-admin show: $out"
    [[ $out == *" subscription=sub_e2e status=canceled "*" grants=no" ]] || fail "easysks-admin show: $out"
    req GET /media/premium/billing-chart.gif -H "Authorization: Bearer $t"
    expect_status 403
    req POST /api/exam-sessions -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
        --data-binary '{"sheet_number":13}'
    expect_error 403 premium_required

    # Subscribing again reuses the known customer.
    bl_api POST /billing/checkout "$t"
    expect_status 200
    state=$(bl_stub_state)
    [ "$(jq -r '.requests[-1].form.customer' <<<"$state")" = cus_e2e ] || fail "customer not reused: $state"
    [ "$(jq -r '.requests[-1].form | has("customer_email")' <<<"$state")" = false ] || fail "both customer and email: $state"
    [ "$(jq '.failures | length' <<<"$state")" = 0 ] || fail "stub assertions failed: $state"
}

test_billing_checkout_sends_what_stripe_expects_and_retries_idempotently() {
    local sub=bl-checkout-learner t url state key
    bl_stub reset
    # Cognito access tokens carry no email; ours may, to show it is prefilled.
    t=$(bl_token "$sub" --claims '{"email":"learner@example.test"}')
    bl_api POST /billing/checkout "$t"
    expect_status 200
    url=$(json url)
    state=$(bl_stub_state)
    [ "$(jq '.failures | length' <<<"$state")" = 0 ] || fail "stub assertions failed: $state"
    jq -e --arg sub "$sub" --arg price "$STRIPE_PRICE_ID" --arg ok "$STRIPE_SUCCESS_URL" \
        --arg cancel "$STRIPE_CANCEL_URL" '.requests[0] | .headers.authorized
        and .headers["stripe-version"] == "2026-10-28.endive"
        and (.headers["content-type"] | startswith("application/x-www-form-urlencoded"))
        and (.headers["idempotency-key"] | test("^easysks-checkout-[0-9a-f]{48}$"))
        and .form.mode == "subscription" and .form["line_items[0][price]"] == $price
        and .form["line_items[0][quantity]"] == "1" and .form.client_reference_id == $sub
        and .form["subscription_data[metadata][easysks_sub]"] == $sub
        and .form.success_url == $ok and .form.cancel_url == $cancel
        and .form.customer_email == "learner@example.test" and (.form | has("customer") | not)' \
        <<<"$state" >/dev/null || fail "checkout request: $(jq -c '.requests[0]' <<<"$state")"
    key=$(jq -r '.requests[0].headers["idempotency-key"]' <<<"$state")

    # A second click (or a retry after a lost answer): the same key, and
    # Stripe answers with the same session instead of making a second one.
    bl_api POST /billing/checkout "$t"
    expect_status 200
    [ "$(json url)" = "$url" ] || fail "a retry made a second session: $url vs $BODY"
    state=$(bl_stub_state)
    [ "$(jq -r '.requests[1].headers["idempotency-key"]' <<<"$state")" = "$key" ] || fail "key changed: $state"
    [ "$(jq -r '.requests[1].replayed' <<<"$state")" = true ] || fail "not replayed: $state"

    # No customer yet: nothing to manage, and Stripe is not called.
    bl_api POST /billing/portal "$t"
    expect_error 409 no_billing_customer
    [ "$(bl_stub_state | jq '.requests | length')" = 2 ] || fail "the portal called Stripe without a customer"

    req POST /api/billing/checkout
    expect_error 401 token_missing
    bl_api GET /billing/checkout "$t"
    expect_error 405 method_not_allowed
}

test_billing_stripe_errors_map_to_502_and_the_key_stays_secret() {
    local t
    t=$(bl_token bl-errors-learner)
    bl_stub next '{"status":402,"body":{"error":{"type":"card_error","code":"card_declined","message":"Your card was declined."}}}'
    bl_api POST /billing/checkout "$t"
    expect_error 502 stripe_invalid_request
    [[ $(json detail) == *card_declined* ]] || fail "Stripe's code not shown: $BODY"
    bl_stub next '{"status":500,"body":{"error":{"type":"api_error","message":"boom"}}}'
    bl_api POST /billing/checkout "$t"
    expect_error 502 stripe_unavailable
    bl_stub next '{"status":429,"body":{"error":{"type":"invalid_request_error","code":"rate_limit"}}}'
    bl_api POST /billing/checkout "$t"
    expect_error 502 stripe_rate_limited
    bl_stub next '{"status":200,"body":"<html>not json</html>"}'
    bl_api POST /billing/checkout "$t"
    expect_error 502 stripe_bad_response
    bl_stub next '{"status":200,"body":{"id":"cs_test_nourl","url":"javascript:alert(1)"}}'
    bl_api POST /billing/checkout "$t"
    expect_error 502 stripe_bad_response
    bl_stub next '{"status":200,"body":{"id":"cs_test_slow","url":"https://checkout.stripe.test/slow"},"delay_ms":4000}'
    bl_api POST /billing/checkout "$t"
    expect_error 504 stripe_timeout
    # The key went to the stub in a header only: never to a log.
    ! grep -rq "$STRIPE_API_KEY" "$IT"/log/ || fail "the Stripe key is in a log: $(grep -rl "$STRIPE_API_KEY" "$IT"/log/)"
    grep -q '"stripe_code":"card_declined"' "$IT/log/pool.log" || fail "Stripe's error was not logged"
}

test_billing_stripe_connection_is_reused() {
    local i state distinct n
    bl_stub reset
    for i in 1 2 3 4 5 6 7 8 9; do
        bl_api POST /billing/checkout "$(bl_token "bl-reuse-$i")"
        expect_status 200
    done
    state=$(bl_stub_state)
    n=$(jq '.requests | length' <<<"$state")
    distinct=$(jq '[.requests[].connection] | unique | length' <<<"$state")
    [ "$n" = 9 ] || fail "expected 9 calls: $state"
    # One kept connection per worker (3), not one per call.
    [ "$distinct" -le "$EASYSKS_WORKERS" ] || fail "$distinct connections for 9 calls with $EASYSKS_WORKERS workers"
}

test_billing_webhook_signed_by_either_secret_within_tolerance() {
    local f=$IT/bl-sig.json hdr now
    now=$(date +%s)
    hdr=$(bl_sign "$f" --type customer.created --id "$(bl_id evt_sig)" --secret "$BILLING_SECRET_OLD")
    [[ $hdr == t=*,v1=* ]] || fail "the stripe package made: $hdr"
    bl_deliver "$hdr" "$f"
    expect_status 200
    expect_json outcome ignored
    # The second secret of the list (the rotated one) alone.
    hdr=$(bl_sign "$f" --type customer.created --id "$(bl_id evt_sig)" --secret "$BILLING_SECRET_NEW")
    bl_deliver "$hdr" "$f"
    expect_status 200
    # During a rotation Stripe signs with both; one unknown v1 first is fine.
    hdr=$(bl_sign "$f" --type customer.created --id "$(bl_id evt_sig)" --secret whsec_someone_elses \
        --secret "$BILLING_SECRET_NEW")
    [[ $hdr == t=*,v1=*,v1=* ]] || fail "two signatures expected: $hdr"
    bl_deliver "$hdr" "$f"
    expect_status 200
    # Within the 300 s tolerance on both sides.
    hdr=$(bl_sign "$f" --type customer.created --id "$(bl_id evt_sig)" --secret "$BILLING_SECRET_NEW" \
        --timestamp $((now - 240)))
    bl_deliver "$hdr" "$f"
    expect_status 200
    hdr=$(bl_sign "$f" --type customer.created --id "$(bl_id evt_sig)" --secret "$BILLING_SECRET_NEW" \
        --timestamp $((now + 240)))
    bl_deliver "$hdr" "$f"
    expect_status 200
}

test_billing_webhook_refusals_write_nothing() {
    local f=$IT/bl-bad.json hdr now id before args
    now=$(date +%s)
    id=$(bl_id evt_bad)
    before=$(psql_owner -c "SELECT count(*) FROM stripe_events")
    # A subscription event: a delivery wrongly accepted would leave rows.
    args=(--type customer.subscription.created --id "$id" --sub sub_bad --customer cus_bad --status active)
    hdr=$(bl_sign "$f" "${args[@]}" --secret whsec_not_one_of_ours)
    bl_deliver "$hdr" "$f"
    expect_error 400 signature_mismatch
    # Outside the tolerance (300 s, plus a margin for the clock moving on).
    hdr=$(bl_sign "$f" "${args[@]}" --secret "$BILLING_SECRET_NEW" --timestamp $((now - 330)))
    bl_deliver "$hdr" "$f"
    expect_error 400 signature_expired
    hdr=$(bl_sign "$f" "${args[@]}" --secret "$BILLING_SECRET_NEW" --timestamp $((now + 330)))
    bl_deliver "$hdr" "$f"
    expect_error 400 signature_not_yet_valid
    bl_deliver "" "$f"
    expect_error 400 signature_missing
    hdr=$(bl_sign "$f" "${args[@]}" --secret "$BILLING_SECRET_NEW" --scheme v0)
    [[ $hdr == t=*,v0=* ]] || fail "v0 header: $hdr"
    bl_deliver "$hdr" "$f"
    expect_error 400 signature_no_v1
    bl_deliver "t=later,v1=$(printf '%064d' 0)" "$f"
    expect_error 400 signature_malformed
    # Tampered after signing: one value changed, or only whitespace added.
    hdr=$(bl_sign "$f" "${args[@]}" --secret "$BILLING_SECRET_NEW")
    sed -i 's/"active"/"trialing"/' "$f"
    bl_deliver "$hdr" "$f"
    expect_error 400 signature_mismatch
    hdr=$(bl_sign "$f" "${args[@]}" --secret "$BILLING_SECRET_NEW")
    printf '\n' >>"$f"
    bl_deliver "$hdr" "$f"
    expect_error 400 signature_mismatch

    [ "$(psql_owner -c "SELECT count(*) FROM stripe_events")" = "$before" ] || fail "a refused delivery recorded an event"
    [ "$(psql_owner -c "SELECT count(*) FROM stripe_subscriptions WHERE subscription_id = 'sub_bad'")" = 0 ] ||
        fail "a refused delivery wrote a subscription"
    # The same event untouched is accepted: each refusal was for its stated reason.
    hdr=$(bl_sign "$f" "${args[@]}" --secret "$BILLING_SECRET_NEW")
    bl_deliver "$hdr" "$f"
    expect_status 200
    expect_json outcome applied
}

test_billing_webhook_duplicates_apply_once_also_concurrently() {
    local f=$IT/bl-dup.json hdr id i ok=0 applied=0 dups=0
    id=$(bl_id evt_dup)
    hdr=$(bl_sign "$f" --type customer.subscription.created --id "$id" --sub sub_dup --customer cus_dup \
        --status active --secret "$BILLING_SECRET_NEW")
    bl_deliver "$hdr" "$f"
    expect_status 200
    expect_json outcome applied
    bl_deliver "$hdr" "$f"
    expect_status 200
    expect_json outcome duplicate
    [ "$(bl_events_with "$id")" = 1 ] || fail "event recorded $(bl_events_with "$id") times"

    # Ten deliveries of one new event at the same moment.
    id=$(bl_id evt_dupc)
    hdr=$(bl_sign "$f" --type customer.subscription.updated --id "$id" --sub sub_dup --customer cus_dup \
        --status past_due --created $(($(date +%s) + 5)) --secret "$BILLING_SECRET_NEW")
    for i in $(seq 1 10); do
        curl -ks -o "$IT/bl-dup.$i" -w '%{http_code}' -X POST -H "Stripe-Signature: $hdr" \
            -H 'Content-Type: application/json' --data-binary @"$f" --max-time 20 \
            "https://127.0.0.1:$EASYSKS_HTTPS_PORT/webhooks/stripe" >"$IT/bl-dup.$i.status" &
    done
    wait
    for i in $(seq 1 10); do
        [ "$(cat "$IT/bl-dup.$i.status")" = 200 ] && ok=$((ok + 1))
        grep -q '"outcome":"applied"' "$IT/bl-dup.$i" && applied=$((applied + 1))
        grep -q '"outcome":"duplicate"' "$IT/bl-dup.$i" && dups=$((dups + 1))
    done
    if [ "$ok" != 10 ] || [ "$applied" != 1 ] || [ "$dups" != 9 ]; then
        fail "10 concurrent deliveries: $ok answered 200, $applied applied, $dups duplicates"
    fi
    [ "$(bl_events_with "$id")" = 1 ] || fail "event recorded $(bl_events_with "$id") times"
    [ "$(psql_owner -c "SELECT status || ' ' || event_id FROM stripe_subscriptions WHERE subscription_id = 'sub_dup'")" = "past_due $id" ] ||
        fail "subscription row: $(psql_owner -c "SELECT * FROM stripe_subscriptions WHERE subscription_id = 'sub_dup'")"
}

test_billing_webhook_out_of_order_never_goes_back() {
    local sub=bl-ooo-learner t T
    t=$(bl_token "$sub")
    bl_me "$t"
    bl_link "$sub" cus_ooo
    T=$(date +%s)
    # The update (active) overtakes the creation (incomplete).
    bl_apply applied --type customer.subscription.updated --id "$(bl_id evt)" --sub sub_ooo --customer cus_ooo \
        --status active --created $((T + 10))
    bl_me "$t"
    expect_json plan premium
    bl_apply stale --type customer.subscription.created --id "$(bl_id evt)" --sub sub_ooo --customer cus_ooo \
        --status incomplete --created "$T"
    bl_apply stale --type customer.subscription.updated --id "$(bl_id evt)" --sub sub_ooo --customer cus_ooo \
        --status past_due --created $((T + 5))
    [ "$(bl_sub_status sub_ooo)" = active ] || fail "an older event changed the state: $(bl_sub_status sub_ooo)"
    bl_me "$t"
    expect_json plan premium
    bl_apply applied --type customer.subscription.deleted --id "$(bl_id evt)" --sub sub_ooo --customer cus_ooo \
        --status canceled --created $((T + 20))
    bl_me "$t"
    expect_json plan free
    # Nothing revives a canceled subscription, not even a newer update.
    bl_apply ignored --type customer.subscription.updated --id "$(bl_id evt)" --sub sub_ooo --customer cus_ooo \
        --status active --created $((T + 30))
    bl_me "$t"
    expect_json plan free
    # The deletion first, then the rest: still canceled.
    bl_apply applied --type customer.subscription.deleted --id "$(bl_id evt)" --sub sub_ooo2 --customer cus_ooo \
        --status canceled --created $((T + 50))
    bl_apply ignored --type customer.subscription.created --id "$(bl_id evt)" --sub sub_ooo2 --customer cus_ooo \
        --status active --created $((T + 40))
    [ "$(bl_sub_status sub_ooo2)" = canceled ] || fail "sub_ooo2: $(bl_sub_status sub_ooo2)"
    # Same second (Stripe's created has one-second resolution): an update
    # outranks the creation whichever arrives first.
    bl_apply applied --type customer.subscription.updated --id "$(bl_id evt)" --sub sub_ooo3 --customer cus_ooo \
        --status active --created $((T + 60))
    bl_apply stale --type customer.subscription.created --id "$(bl_id evt)" --sub sub_ooo3 --customer cus_ooo \
        --status incomplete --created $((T + 60))
    [ "$(bl_sub_status sub_ooo3)" = active ] || fail "sub_ooo3: $(bl_sub_status sub_ooo3)"
    bl_me "$t"
    expect_json plan premium
}

test_billing_webhook_unknown_types_are_acknowledged_and_malformed_events_refused() {
    local id f=$IT/bl-odd.json hdr
    id=$(bl_id evt_unknown)
    bl_apply ignored --type charge.refunded --id "$id" --object '{"id":"ch_1","object":"charge","amount":1000}'
    [ "$(psql_owner -c "SELECT type FROM stripe_events WHERE event_id = '$id'")" = charge.refunded ] ||
        fail "the ignored event was not recorded"
    # An invoice of a subscription we never heard of: nothing to change.
    bl_apply ignored --type invoice.paid --id "$(bl_id evt)" --invoice in_x --customer cus_nobody --subscription sub_nobody
    # Signed by Stripe but unreadable: 400, nothing recorded.
    id=$(bl_id evt_malformed)
    printf '{"id":"%s","object":"event","type":"invoice.paid","data":{"object":{}}}' "$id" >"$f"
    hdr=$(node "$EASYSKS_ROOT/tests/tools/stripe-event.mjs" --body-in "$f" --secret "$BILLING_SECRET_NEW")
    bl_deliver "$hdr" "$f"
    expect_error 400 invalid_event
    [ "$(bl_events_with "$id")" = 0 ] || fail "a malformed event was recorded"
    # A checkout that names nobody we know links nothing.
    bl_apply ignored --type checkout.session.completed --id "$(bl_id evt)" --client-reference-id no-such-learner \
        --customer cus_orphan --subscription sub_orphan
    [ "$(psql_owner -c "SELECT count(*) FROM stripe_customers WHERE customer_id = 'cus_orphan'")" = 0 ] ||
        fail "an unknown learner got a customer"
}

test_billing_webhook_legacy_shape_period_on_the_subscription() {
    local sub=bl-legacy-learner t end
    t=$(bl_token "$sub")
    bl_me "$t"
    bl_link "$sub" cus_legacy
    end=$(($(date +%s) + 12 * 86400))
    bl_apply applied --type customer.subscription.created --id "$(bl_id evt)" --sub sub_legacy \
        --customer cus_legacy --status trialing --period-end "$end" --legacy-shape
    bl_me "$t"
    expect_json plan premium
    expect_json premium_until "$(bl_time "$end")"
}

test_billing_webhook_database_down_then_redelivery() {
    local sub=bl-dbdown-learner t f=$IT/bl-down.json hdr id i
    t=$(bl_token "$sub")
    bl_me "$t"
    bl_link "$sub" cus_down
    id=$(bl_id evt_down)
    hdr=$(bl_sign "$f" --type customer.subscription.created --id "$id" --sub sub_down --customer cus_down \
        --status active --secret "$BILLING_SECRET_NEW")
    pg_stop "$IT/pg" fast
    bl_deliver "$hdr" "$f"
    expect_error 503 db_unavailable
    pg_start "$IT/pg"
    for ((i = 0; i < 100; i++)); do
        req GET /api/health
        [ "$STATUS" = 200 ] && break
        sleep 0.1
    done
    expect_status 200
    [ "$(bl_events_with "$id")" = 0 ] || fail "the failed delivery left its event id behind"
    # Stripe retries the same bytes with the same signature.
    for ((i = 0; i < 30; i++)); do
        bl_deliver "$hdr" "$f"
        [ "$STATUS" = 200 ] && break
        sleep 0.2 # a worker still backing off from the outage
    done
    expect_status 200
    expect_json outcome applied
    bl_deliver "$hdr" "$f"
    expect_status 200
    expect_json outcome duplicate
    bl_me "$t"
    expect_json plan premium
    bl_fresh_workers
}

test_billing_past_due_keeps_premium_for_the_grace_then_invoices_settle_it() {
    local sub=bl-pastdue-learner sub2=bl-lapsed-learner t t2 now
    t=$(bl_token "$sub")
    t2=$(bl_token "$sub2")
    bl_me "$t"
    bl_me "$t2"
    bl_link "$sub" cus_pd
    bl_link "$sub2" cus_pd2
    now=$(date +%s)
    bl_apply applied --type customer.subscription.created --id "$(bl_id evt)" --sub sub_pd --customer cus_pd \
        --status active --created $((now - 1000))
    # The renewal payment failed: past_due, premium during the grace (72 h).
    bl_apply applied --type invoice.payment_failed --id "$(bl_id evt)" --invoice in_pd1 --customer cus_pd \
        --subscription sub_pd --created $((now - 500))
    [ "$(bl_sub_status sub_pd)" = past_due ] || fail "status $(bl_sub_status sub_pd)"
    bl_me "$t"
    expect_json plan premium
    expect_json premium_until "$(bl_time $((now - 500 + 72 * 3600)))"
    # Paid after all: active again.
    bl_apply applied --type invoice.paid --id "$(bl_id evt)" --invoice in_pd2 --customer cus_pd \
        --subscription sub_pd --created $((now - 400))
    [ "$(bl_sub_status sub_pd)" = active ] || fail "status $(bl_sub_status sub_pd)"
    # An old failure arriving late changes nothing.
    bl_apply stale --type invoice.payment_failed --id "$(bl_id evt)" --invoice in_pd1 --customer cus_pd \
        --subscription sub_pd --created $((now - 450))

    # Past due for longer than the grace: free.
    bl_apply applied --type customer.subscription.created --id "$(bl_id evt)" --sub sub_pd2 --customer cus_pd2 \
        --status active --created $((now - 80 * 3600))
    bl_apply applied --type customer.subscription.updated --id "$(bl_id evt)" --sub sub_pd2 --customer cus_pd2 \
        --status past_due --created $((now - 73 * 3600))
    bl_me "$t2"
    expect_json plan free
    bl_apply applied --type invoice.paid --id "$(bl_id evt)" --invoice in_pd3 --customer cus_pd2 \
        --subscription sub_pd2 --created "$now"
    bl_me "$t2"
    expect_json plan premium
}

test_billing_manual_grant_stays_an_override() {
    local sub=bl-manual-learner t now end manual
    t=$(bl_token "$sub")
    bl_me "$t"
    expect_json plan free
    # The operator's grant without an end (easysks-admin writes these columns).
    psql_owner -c "UPDATE users SET plan = 'premium', premium_until = NULL WHERE cognito_sub = '$sub'"
    bl_me "$t"
    expect_json plan premium
    expect_json premium_until null
    bl_link "$sub" cus_manual
    now=$(date +%s)
    end=$((now + 30 * 86400))
    bl_apply applied --type customer.subscription.created --id "$(bl_id evt)" --sub sub_manual --customer cus_manual \
        --status active --period-end "$end"
    bl_me "$t"
    expect_json premium_until null # no end beats any end
    # A grant ending before the subscription: the later end is reported.
    psql_owner -c "UPDATE users SET premium_until = now() + interval '10 days' WHERE cognito_sub = '$sub'"
    bl_me "$t"
    expect_json premium_until "$(bl_time "$end")"
    psql_owner -c "UPDATE users SET premium_until = now() + interval '60 days' WHERE cognito_sub = '$sub'"
    manual=$(psql_owner -c "SELECT to_char(premium_until AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM users WHERE cognito_sub = '$sub'")
    bl_me "$t"
    expect_json premium_until "$manual"
    # The subscription ends; the grant still holds, /_auth agrees at once.
    bl_apply applied --type customer.subscription.deleted --id "$(bl_id evt)" --sub sub_manual --customer cus_manual \
        --status canceled --created $((now + 1))
    bl_me "$t"
    expect_json plan premium
    printf 'GIF89a' >"$EASYSKS_MEDIA_ROOT/premium/billing-manual.gif"
    req GET /media/premium/billing-manual.gif -H "Authorization: Bearer $t"
    expect_status 200
    psql_owner -c "UPDATE users SET premium_until = now() - interval '1 second' WHERE cognito_sub = '$sub'"
    bl_me "$t"
    expect_json plan free
    req GET /media/premium/billing-manual.gif -H "Authorization: Bearer $t"
    expect_status 403
}

test_billing_webhook_only_at_its_own_location() {
    local f=$IT/bl-path.json hdr
    hdr=$(bl_sign "$f" --type customer.created --id "$(bl_id evt_path)" --secret "$BILLING_SECRET_NEW")
    # /api/webhooks/stripe would be PATH_INFO=/webhooks/stripe too: refused.
    req POST /api/webhooks/stripe -H "Stripe-Signature: $hdr" -H 'Content-Type: application/json' --data-binary @"$f"
    expect_error 404 not_found
    req GET /webhooks/stripe
    [ "$STATUS" = 403 ] || fail "GET /webhooks/stripe: $STATUS"
    # nginx's body cap for the webhook: 256 KiB.
    head -c $((257 * 1024)) /dev/zero | tr '\0' ' ' >"$f"
    bl_deliver "$hdr" "$f"
    expect_error 413 payload_too_large
}
