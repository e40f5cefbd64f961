#!/usr/bin/env bash
# Helpers for the integration tests (sourced by run.sh). A test is a shell
# function named test_*; it runs in a subshell and fails by calling fail.
# shellcheck disable=SC2034

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# req METHOD PATH [curl args...]: sets STATUS, BODY and HEADERS (files) for
# a request to the test stack's nginx over TLS.
req() {
    local method=$1 path=$2
    shift 2
    BODY_FILE=$IT/last.body
    HEADERS_FILE=$IT/last.headers
    STATUS=$(curl -ks -o "$BODY_FILE" -D "$HEADERS_FILE" -w '%{http_code}' -X "$method" \
        --max-time 20 "$@" "https://127.0.0.1:$EASYSKS_HTTPS_PORT$path") || STATUS=000
    BODY=$(cat "$BODY_FILE")
}

header() {
    grep -i "^$1:" "$HEADERS_FILE" | head -n1 | cut -d' ' -f2- | tr -d '\r'
}

# json FIELD: a top-level field of BODY (strings unquoted).
json() {
    node -e 'const b=JSON.parse(require("fs").readFileSync(0,"utf8")); const v=b[process.argv[1]]; console.log(typeof v==="object"?JSON.stringify(v):v)' "$1" <<<"$BODY"
}

expect_status() {
    [ "$STATUS" = "$1" ] || fail "expected HTTP $1, got $STATUS: $BODY"
}

expect_json() {
    local got
    got=$(json "$1") || fail "body is not JSON: $BODY"
    [ "$got" = "$2" ] || fail "expected $1=$2, got $1=$got in $BODY"
}

expect_error() { # STATUS CODE
    expect_status "$1"
    expect_json code "$2"
    [ -n "$(json request_id)" ] || fail "error body without request_id: $BODY"
}

pool_pid() { cat "$IT/run/pool.pid"; }

# Worker pids of the pool, sorted.
worker_pids() { pgrep -P "$(pool_pid)" | sort; }
worker_count() { worker_pids | wc -l; }

psql_owner() { psql "$MIGRATE_DATABASE_URL" -Atq -v ON_ERROR_STOP=1 "$@"; }
