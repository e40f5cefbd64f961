#!/usr/bin/env bash
# The HTTP surface: nginx's own routes, the API error contract, TLS policy.
# shellcheck disable=SC2154 # STATUS, BODY, IT come from lib.sh/run.sh

test_nginx_health_is_static() {
    req GET /health
    expect_status 200
    expect_json status ok
    [ -n "$(header strict-transport-security)" ] || fail "no HSTS header"
}

test_api_health_reads_the_database() {
    req GET /api/health
    expect_status 200
    expect_json status ok
    expect_json database ok
    [ "$(json schema_version)" = "$(json schema_expected)" ] || fail "schema version mismatch: $BODY"
    [ "$(header content-type)" = application/json ] || fail "content-type: $(header content-type)"
}

test_http_redirects_to_https() {
    local code loc
    code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$EASYSKS_HTTP_PORT/api/health?x=1")
    loc=${code#* }
    [ "${code%% *}" = 308 ] || fail "expected 308, got $code"
    [ "$loc" = "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/health?x=1" ] || fail "redirect to $loc"
}

test_tls_policy_refuses_tls11_and_accepts_tls12_13() {
    echo | openssl s_client -connect "127.0.0.1:$EASYSKS_HTTPS_PORT" -tls1_1 >/dev/null 2>&1 &&
        fail "TLS 1.1 handshake succeeded"
    echo | openssl s_client -connect "127.0.0.1:$EASYSKS_HTTPS_PORT" -tls1_2 2>/dev/null |
        grep -q 'Protocol *: TLSv1.2' || fail "TLS 1.2 handshake failed"
    echo | openssl s_client -connect "127.0.0.1:$EASYSKS_HTTPS_PORT" -tls1_3 2>/dev/null |
        grep -q 'TLSv1.3' || fail "TLS 1.3 handshake failed"
}

test_unknown_route_is_404_json() {
    req GET /api/no/such/thing
    expect_error 404 not_found
}

test_wrong_method_is_405_with_allow() {
    req DELETE /api/health
    expect_error 405 method_not_allowed
    [ "$(header allow)" = "GET, HEAD" ] || fail "Allow: $(header allow)"
}

test_body_over_the_app_limit_is_413_from_the_pool() {
    # nginx lets 1 MiB through to the API; the pool's own cap is lower here.
    head -c 300000 /dev/zero | tr '\0' 'a' >"$IT/body300k"
    req POST /api/health --data-binary "@$IT/body300k" -H 'Content-Type: application/json'
    expect_error 413 payload_too_large
}

test_body_over_the_nginx_limit_is_413_json() {
    head -c 2000000 /dev/zero >"$IT/body2m"
    req POST /api/health --data-binary "@$IT/body2m" -H 'Content-Type: application/json'
    expect_error 413 payload_too_large
}

test_request_id_is_echoed_and_logged() {
    req GET /api/definitely-missing
    local hdr body_id
    hdr=$(header x-request-id)
    body_id=$(json request_id)
    [[ $hdr =~ ^[0-9a-f]{32}$ ]] || fail "X-Request-ID '$hdr'"
    [ "$hdr" = "$body_id" ] || fail "header $hdr != body $body_id"
    grep -q "\"request_id\":\"$hdr\"" "$IT/log/access.log" || fail "request id not in the access log"
}

test_static_root_and_security_headers() {
    req GET /
    expect_status 200
    grep -q EasySKS <<<"$BODY" || fail "index page not served"
    [ "$(header x-content-type-options)" = nosniff ] || fail "nosniff missing"
    [ -n "$(header content-security-policy)" ] || fail "CSP missing"
}

test_access_log_is_json() {
    req GET /api/health
    tail -n 1 "$IT/log/access.log" | node -e 'const l=JSON.parse(require("fs").readFileSync(0,"utf8")); if(!l.request_id||!l.status) process.exit(1)' ||
        fail "access log line is not the JSON shape: $(tail -n1 "$IT/log/access.log")"
}

test_rate_limit_answers_429_json() {
    local codes
    # Re-render with a tight limit and reload nginx (no dropped connections).
    EASYSKS_RATE_LIMIT=2r/s EASYSKS_RATE_BURST=3 nginx_start "$IT" >/dev/null
    sleep 0.3
    codes=$(for _ in $(seq 1 12); do
        curl -ks -o "$IT/rl.body" -w '%{http_code}\n' "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/health"
    done)
    EASYSKS_RATE_LIMIT=100000r/s EASYSKS_RATE_BURST=100000 nginx_start "$IT" >/dev/null
    # The reload is asynchronous: until the old nginx workers are gone, the
    # tight limit still answers (and would refuse the next tests' requests).
    local i
    for ((i = 0; i < 50; i++)); do
        [ "$(curl -ks -o /dev/null -w '%{http_code}' "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/health")" != 429 ] &&
            [ "$(curl -ks -o /dev/null -w '%{http_code}' "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/health")" != 429 ] && break
        sleep 0.2
    done
    grep -q '^200$' <<<"$codes" || fail "nothing allowed: $codes"
    grep -q '^429$' <<<"$codes" || fail "nothing limited: $codes"
    BODY=$(cat "$IT/rl.body")
    expect_json code rate_limited
}

test_nginx_own_400s_are_json() {
    local big
    # A header over large_client_header_buffers (16k): nginx refuses it itself.
    big=$(head -c 20000 /dev/zero | tr '\0' 'a')
    req GET /api/me -H "X-Big: $big" --http1.1
    expect_error 400 request_header_too_large
    [ "$(header content-type)" = application/json ] || fail "content-type: $(header content-type)"
    # A request line nginx cannot parse.
    local raw
    raw=$(printf 'GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n' |
        timeout 5 openssl s_client -quiet -connect "127.0.0.1:$EASYSKS_HTTPS_PORT" 2>/dev/null)
    grep -q '^HTTP/1.1 400' <<<"$raw" || fail "status: $raw"
    grep -q '"code":"bad_request"' <<<"$raw" || fail "body: $raw"
}
