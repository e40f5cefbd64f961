#!/usr/bin/env bash
# Bearer tokens through the real stack: cognito-local logins, minted tokens,
# the attack list, JWKS outages and rotation, nginx auth_request for /media/.
# shellcheck disable=SC2154

# mint [mint-token.mjs options...]: a token from test-key-1 for test-client.
mint() {
    node "$EASYSKS_ROOT/tests/tools/mint-token.mjs" --key "$SIGNING/test-key-1.pem" --kid test-key-1 \
        --iss "$AUTH_ISSUER" --client-id test-client "$@"
}

me() { req GET /api/me -H "Authorization: $1"; }

# expect_401 CODE: the refusal shape, and never a 500.
expect_401() {
    expect_error 401 "$1"
    header www-authenticate | grep -q '^Bearer realm="easysks", error="invalid_token"$' ||
        fail "WWW-Authenticate: $(header www-authenticate)"
}

cognito_login() { # USER PASSWORD -> access token
    curl -sf -X POST "$COGNITO_ENDPOINT/" -H 'Content-Type: application/x-amz-json-1.1' \
        -H 'X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth' \
        --data-binary "$(jq -cn --arg c "$COGNITO_CLIENT_ID" --arg u "$1" --arg p "$2" \
            '{AuthFlow:"USER_PASSWORD_AUTH",ClientId:$c,AuthParameters:{USERNAME:$u,PASSWORD:$p}}')" |
        jq -r .AuthenticationResult.AccessToken
}

test_auth_cognito_local_login_reaches_api_me() {
    local token sub
    token=$(cognito_login demo@easysks.local 'Demo-Passw0rd!')
    if [ -z "$token" ] || [ "$token" = null ]; then fail "login failed"; fi
    me "Bearer $token"
    expect_status 200
    sub=$(node -e 'console.log(JSON.parse(Buffer.from(process.argv[1].split(".")[1],"base64url")).sub)' "$token")
    expect_json sub "$sub"
    expect_json plan free
    [ "$(psql_owner -c "SELECT count(*) FROM users WHERE cognito_sub = '$sub'")" = 1 ] || fail "user row"
}

test_auth_minted_token_is_accepted() {
    me "Bearer $(mint --sub minted-user --username minted)"
    expect_status 200
    expect_json sub minted-user
    expect_json username minted
}

test_auth_missing_header_is_token_missing() {
    req GET /api/me
    expect_error 401 token_missing
    [ "$(header www-authenticate)" = 'Bearer realm="easysks"' ] || fail "challenge: $(header www-authenticate)"
}

test_auth_attacks_are_refused_with_401() {
    local good parts pem
    good=$(mint --sub attacker)
    IFS=. read -ra parts <<<"$good"
    pem=$IT/test-key-1.pub.pem
    openssl pkey -in "$SIGNING/test-key-1.pem" -pubout -out "$pem" 2>/dev/null

    me "Basic $(printf 'a:b' | base64)";  expect_401 token_invalid
    me "Bearer";                           expect_error 401 token_missing
    me "Bearer not-a-token";               expect_401 token_invalid
    me "Bearer eyJhbGc.eyJzdWIi.c2ln";     expect_401 token_invalid
    me "Bearer $(mint --alg none)";        expect_401 token_invalid
    me "Bearer $(mint --alg HS256 --hs-secret-file "$pem")"; expect_401 token_invalid
    me "Bearer $(node "$EASYSKS_ROOT/tests/tools/mint-token.mjs" --key "$SIGNING/rogue.pem" \
        --kid test-key-1 --iss "$AUTH_ISSUER" --client-id test-client)"
    expect_401 token_invalid
    me "Bearer $(mint --kid no-such-key)"; expect_401 unknown_key
    me "Bearer $(mint --exp-offset -120)"; expect_401 token_expired
    me "Bearer $(mint --nbf-offset 600)";  expect_401 token_not_yet_valid
    me "Bearer $(mint --iss https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Other)"
    expect_401 issuer_mismatch
    me "Bearer $(mint --client-id someone-else)"; expect_401 client_mismatch
    # An id token for our client (aud = the client id, as Cognito issues it).
    me "Bearer $(mint --token-use id)"
    expect_401 token_use_mismatch
    # Tampered payload: same header and signature, different claims.
    local forged
    forged=$(node -e 'const c=JSON.parse(Buffer.from(process.argv[1],"base64url")); c.sub="admin"; process.stdout.write(Buffer.from(JSON.stringify(c)).toString("base64url"))' "${parts[1]}")
    me "Bearer ${parts[0]}.$forged.${parts[2]}"; expect_401 token_invalid
    # Oversized: refused before decoding.
    me "Bearer $(mint --claims "{\"pad\":\"$(head -c 9000 /dev/zero | tr '\0' x)\"}")"
    expect_401 token_too_large
    # And the genuine token still works.
    me "Bearer $good"; expect_status 200
}

test_auth_token_is_never_logged() {
    local token
    token=$(mint --sub log-check --exp-offset -5)
    me "Bearer $token"
    expect_401 token_expired
    ! grep -qF "${token##*.}" "$IT"/log/*.log || fail "a token signature was found in the logs"
}

test_auth_concurrent_first_requests_create_one_user() {
    local token i
    token=$(mint --sub fresh-user-$$)
    for i in $(seq 1 12); do
        curl -ks -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $token" \
            "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/me" >"$IT/par.$i" &
    done
    wait
    [ "$(cat "$IT"/par.* | sort -u)" = 200 ] || fail "statuses: $(cat "$IT"/par.* | tr '\n' ' ')"
    [ "$(psql_owner -c "SELECT count(*) FROM users WHERE cognito_sub = 'fresh-user-$$'")" = 1 ] || fail "user rows"
}

test_auth_request_guards_media() {
    local token
    printf 'GIF89a' >"$EASYSKS_MEDIA_ROOT/figure.gif"
    printf 'GIF89a' >"$EASYSKS_MEDIA_ROOT/premium/chart.gif"
    token=$(mint --sub media-user)
    req GET /media/figure.gif
    expect_status 401
    [ "$(header www-authenticate)" = 'Bearer realm="easysks"' ] || fail "401 without challenge"
    req GET /media/figure.gif -H "Authorization: Bearer $(mint --exp-offset -100)"
    expect_status 401
    req GET /media/figure.gif -H "Authorization: Bearer $token"
    expect_status 200
    [ "$BODY" = GIF89a ] || fail "image body"
    req GET /media/premium/chart.gif -H "Authorization: Bearer $token"
    expect_status 403
    psql_owner -c "UPDATE users SET plan = 'premium', premium_until = now() + interval '1 day' WHERE cognito_sub = 'media-user'"
    req GET /media/premium/chart.gif -H "Authorization: Bearer $token"
    expect_status 200
    psql_owner -c "UPDATE users SET premium_until = now() - interval '1 second' WHERE cognito_sub = 'media-user'"
    req GET /media/premium/chart.gif -H "Authorization: Bearer $token"
    expect_status 403
}

# A figure needs a valid token, nothing more: no user lookup, no
# last_seen_at write per figure (/media/premium/ still reads the plan).
test_auth_request_for_media_reads_no_user() {
    local token seen calls
    printf 'GIF89a' >"$EASYSKS_MEDIA_ROOT/quiet.gif"
    token=$(mint --sub media-quiet-user)
    req GET /api/me -H "Authorization: Bearer $token"
    expect_status 200
    psql_owner -c "UPDATE users SET last_seen_at = now() - interval '30 days' WHERE cognito_sub = 'media-quiet-user'"
    seen=$(psql_owner -c "SELECT last_seen_at FROM users WHERE cognito_sub = 'media-quiet-user'")
    psql_owner -c "SELECT pg_stat_statements_reset()" >/dev/null
    for _ in 1 2 3 4 5; do
        req GET /media/quiet.gif -H "Authorization: Bearer $token"
        expect_status 200
    done
    calls=$(psql_owner -c "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
                           WHERE r.rolname = 'easysks_web' AND s.query NOT ILIKE 'SELECT pg_stat%'
                           AND s.query NOT ILIKE '%catalogue_meta%' AND s.query NOT ILIKE '%FROM cards WHERE NOT retired%'")
    [ "$calls" = 0 ] || fail "$calls statements for 5 figures"
    [ "$(psql_owner -c "SELECT last_seen_at FROM users WHERE cognito_sub = 'media-quiet-user'")" = "$seen" ] ||
        fail "a figure wrote last_seen_at"
    req GET /media/quiet.gif -H "Authorization: Bearer $(mint --sub media-quiet-user --exp-offset -100)"
    expect_status 401
}

test_auth_check_is_not_reachable_from_outside() {
    req GET /api/_auth -H "Authorization: Bearer $(mint)"
    expect_error 404 not_found
    # nginx's internal location: only auth_request subrequests reach it.
    req GET /_auth -H "Authorization: Bearer $(mint)"
    [ "$STATUS" = 404 ] || fail "/_auth answered $STATUS from outside"
    ! grep -qi '^X-User' "$HEADERS_FILE" || fail "internal headers leaked"
    req GET /_auth_premium -H "Authorization: Bearer $(mint)"
    [ "$STATUS" = 404 ] || fail "/_auth_premium answered $STATUS from outside"
}

# Table statistics reach pg_stat_user_tables when a backend flushes them
# (at most once a second while busy, or when it exits). A reload replaces
# every worker; an old worker's backend flushes as it exits, before it
# leaves pg_stat_activity, so wait until only the new workers' sessions are
# there.
flush_table_stats() {
    local old i n
    n=${EASYSKS_WORKERS:-3}
    old=$(worker_pids)
    kill -HUP "$(pool_pid)"
    wait_pool "$n" "$old"
    for ((i = 0; i < 100; i++)); do
        # The pool's sessions only (easysks-jobs connects as easysks-jobs).
        [ "$(psql_owner -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'easysks_web' AND application_name = 'easysks'")" -le "$n" ] && return 0
        sleep 0.1
    done
    fail "old workers' database sessions did not end"
}

# Authentication is a read: once the user exists, requests with the same
# token neither write nor lock its row nor consume identity values.
test_auth_repeat_requests_do_not_write() {
    local token before after stats_before stats_after i
    token=$(mint --sub read-only-user --username reader)
    me "Bearer $token"
    expect_status 200
    row() {
        psql_owner -c "SELECT xmin, xmax, ctid, (SELECT last_value FROM users_id_seq)
                       FROM users WHERE cognito_sub = 'read-only-user'"
    }
    stats() {
        psql_owner -c "SELECT n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del
                       FROM pg_stat_user_tables WHERE relname = 'users'"
    }
    before=$(row)
    flush_table_stats
    stats_before=$(stats)
    node "$EASYSKS_ROOT/tests/tools/load.mjs" --url "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/me" \
        --concurrency 4 --requests 500 --duration-ms 60000 --header "Authorization: Bearer $token" >"$IT/load.json" ||
        fail "load: $(cat "$IT/load.json")"
    node -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); if (s.total!==500 || s.statuses["200"]!==500) process.exit(1)' "$IT/load.json" ||
        fail "not 500 x 200: $(cat "$IT/load.json")"
    # /media auth_request goes through the same authentication.
    printf 'GIF89a' >"$EASYSKS_MEDIA_ROOT/read-only.gif"
    for i in 1 2 3; do
        req GET /media/read-only.gif -H "Authorization: Bearer $token"
        expect_status 200
    done
    after=$(row)
    [ "$before" = "$after" ] || fail "the user row or its sequence changed: $before -> $after"
    flush_table_stats
    stats_after=$(stats)
    [ "$stats_after" = "$stats_before" ] ||
        fail "pg_stat_user_tables counted writes to users: $stats_before -> $stats_after"
}

test_auth_jwks_outage_keeps_cached_keys() {
    curl -sf "http://127.0.0.1:$JWKS_PORT/control?status=503&delay_ms=0" >/dev/null
    me "Bearer $(mint --sub outage-user)"
    local s1=$STATUS
    me "Bearer $(mint --kid never-seen)"
    local s2=$STATUS c2
    c2=$(json code)
    curl -sf "http://127.0.0.1:$JWKS_PORT/control?status=200&delay_ms=0" >/dev/null
    [ "$s1" = 200 ] || fail "cached key refused during the outage: $s1"
    if [ "$s2" != 401 ] || [ "$c2" != unknown_key ]; then fail "unknown kid during the outage: $s2 $c2"; fi
}

# A worker that starts while the key endpoint is down (recycled after its
# request budget, respawned after a crash, a reload) verifies with the key
# set its predecessors fetched, instead of refusing every token.
test_auth_jwks_outage_new_workers_keep_the_keys() {
    local old i s=""
    me "Bearer $(mint --sub outage-new-worker)" # every worker has fetched the keys at start
    curl -sf "http://127.0.0.1:$JWKS_PORT/control?status=503&delay_ms=0" >/dev/null
    old=$(worker_pids)
    kill -HUP "$(pool_pid)"
    for ((i = 0; i < 150; i++)); do
        local stale=0 p
        for p in $old; do kill -0 "$p" 2>/dev/null && stale=1; done
        [ "$stale" = 0 ] && [ -n "$(worker_pids)" ] && break
        sleep 0.1
    done
    for i in 1 2 3 4 5 6; do
        me "Bearer $(mint --sub outage-new-worker)"
        s="$s $STATUS"
    done
    curl -sf "http://127.0.0.1:$JWKS_PORT/control?status=200&delay_ms=0" >/dev/null
    [ "$s" = " 200 200 200 200 200 200" ] || fail "new workers during the outage answered:$s"
}

test_auth_jwks_stall_does_not_hang_requests() {
    curl -sf "http://127.0.0.1:$JWKS_PORT/control?status=200&delay_ms=8000" >/dev/null
    req GET /api/me -H "Authorization: Bearer $(mint --kid stall-kid)" --max-time 7
    local s=$STATUS
    curl -sf "http://127.0.0.1:$JWKS_PORT/control?status=200&delay_ms=0" >/dev/null
    [ "$s" = 401 ] || fail "stalled JWKS: got $s (000 = hung past 7 s)"
}

# Last (name order): changes the key set.
test_auth_zz_key_rotation_without_restart() {
    local i ok=0
    cp "$SIGNING/test-key-2.pem" "$KEYS/"
    local new
    new=$(node "$EASYSKS_ROOT/tests/tools/mint-token.mjs" --key "$SIGNING/test-key-2.pem" --kid test-key-2 \
        --iss "$AUTH_ISSUER" --client-id test-client --sub rotated)
    # Each worker refreshes at most once per 10 s: poll until the new kid is known.
    for ((i = 0; i < 40; i++)); do
        me "Bearer $new"
        if [ "$STATUS" = 200 ]; then ok=1; break; fi
        [ "$STATUS" = 401 ] || fail "unexpected $STATUS"
        sleep 0.5
    done
    [ "$ok" = 1 ] || fail "new key never accepted"
    # Remove the old key: after a refresh its tokens stop being trusted.
    local old
    old=$(mint --sub old-key-user)
    rm "$KEYS/test-key-1.pem"
    ok=0
    for ((i = 0; i < 60; i++)); do
        me "Bearer $(mint --kid trigger-refresh-$i)" # unknown kid: asks for a refresh
        me "Bearer $old"
        if [ "$STATUS" = 401 ]; then ok=1; break; fi
        sleep 0.5
    done
    [ "$ok" = 1 ] || fail "removed key still trusted"
    expect_json code unknown_key
    # Put the key back for the tests that follow; new workers fetch the
    # JWKS as they start, so nobody waits for the refresh interval.
    cp "$SIGNING/test-key-1.pem" "$KEYS/"
    local old
    old=$(worker_pids)
    kill -HUP "$(pool_pid)"
    wait_pool "${EASYSKS_WORKERS:-3}" "$old"
    me "Bearer $(mint --sub after-rotation)"
    expect_status 200
}

test_auth_web_client_signs_in_in_a_real_browser() {
    node "$EASYSKS_ROOT/tests/e2e/signin.mjs" --base "https://127.0.0.1:$EASYSKS_HTTPS_PORT" \
        --cert "$TLS_CERT" --screenshot "$IT/e2e-signin.png" || fail "browser test failed"
    if [ -n "${EASYSKS_E2E_SCREENSHOT:-}" ]; then
        cp "$IT/e2e-signin.png" "$EASYSKS_E2E_SCREENSHOT"
    fi
}
