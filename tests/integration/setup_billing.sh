#!/usr/bin/env bash
# Billing for the test stack (sourced by run.sh before the pool starts): a
# loopback stand-in for the Stripe API (tests/tools/stripe-stub.mjs) and the
# pool's Stripe settings pointing at it. Webhooks are signed by the tests
# themselves with the stripe npm package (tests/tools/stripe-event.mjs).
# shellcheck disable=SC2154

export STRIPE_API_KEY=sk_test_51EasySKSintegrationKEYnotLogged
export STRIPE_PRICE_ID=price_test_premium_monthly
export STRIPE_SUCCESS_URL="https://127.0.0.1:$EASYSKS_HTTPS_PORT/?billing=done&session={CHECKOUT_SESSION_ID}"
export STRIPE_CANCEL_URL="https://127.0.0.1:$EASYSKS_HTTPS_PORT/?billing=cancelled"
export STRIPE_PORTAL_RETURN_URL="https://127.0.0.1:$EASYSKS_HTTPS_PORT/"
# Rotation in progress: the endpoint's old secret and the new one.
export BILLING_SECRET_OLD=whsec_it_old_signing_secret_0a1b
export BILLING_SECRET_NEW=whsec_it_new_signing_secret_9z8y
export STRIPE_WEBHOOK_SECRETS="$BILLING_SECRET_OLD,$BILLING_SECRET_NEW"
# Short, so the timeout test does not wait long; and below 1 s, which
# t_pool's deadline test sets as EASYSKS_REQUEST_TIMEOUT (a longer explicit
# Stripe timeout would make that reload invalid).
export STRIPE_TIMEOUT_MS=900

node "$EASYSKS_ROOT/tests/tools/stripe-stub.mjs" --port 0 --port-file "$IT/stripe.port" \
    --api-key "$STRIPE_API_KEY" --price "$STRIPE_PRICE_ID" --success-url "$STRIPE_SUCCESS_URL" \
    --cancel-url "$STRIPE_CANCEL_URL" --return-url "$STRIPE_PORTAL_RETURN_URL" \
    >"$IT/log/stripe-stub.log" 2>&1 &
echo "kill $!" >"$IT/stripe.cleanup"
wait_for 10 "the Stripe stub" test -s "$IT/stripe.port" || return 1
STRIPE_STUB=http://127.0.0.1:$(cat "$IT/stripe.port")
export STRIPE_STUB
export STRIPE_API_BASE=$STRIPE_STUB
