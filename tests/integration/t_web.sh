#!/usr/bin/env bash
# The web client in headless Chromium (tests/e2e/app.mjs): a learner's whole
# journey through nginx, cognito-local and the pool. Screenshots go to
# $IT/e2e-app and, when EASYSKS_E2E_SCREENSHOTS names a directory, are
# copied there (test artefacts, never committed).
# shellcheck disable=SC2154

test_web_learner_journey_in_a_real_browser() {
    local out=$IT/e2e-app rc=0
    node "$EASYSKS_ROOT/tests/e2e/app.mjs" --base "https://127.0.0.1:$EASYSKS_HTTPS_PORT" \
        --cert "$TLS_CERT" --cognito-state "$IT/cognito" --db "$MIGRATE_DATABASE_URL" \
        --access-log "$IT/log/access.log" --out "$out" --stripe-secret "$BILLING_SECRET_NEW" \
        ${OPENAI_STUB:+--openai-stub "$OPENAI_STUB"} 2>"$IT/e2e-app.err" || rc=$?
    if [ -n "${EASYSKS_E2E_SCREENSHOTS:-}" ]; then
        mkdir -p "$EASYSKS_E2E_SCREENSHOTS" && cp "$out"/*.png "$EASYSKS_E2E_SCREENSHOTS"/ 2>/dev/null
    fi
    [ "$rc" -eq 0 ] || { grep -v NODE_TLS_REJECT "$IT/e2e-app.err" | tail -n 5; fail "browser journey failed"; }
}
