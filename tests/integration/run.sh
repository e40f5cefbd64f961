#!/usr/bin/env bash
# Integration tests: a throwaway PostgreSQL, worker pool and nginx on free
# loopback ports, started from the same templates and scripts as `make run`
# and the hosts, exercised through real HTTPS requests.
#
#   tests/integration/run.sh [NAME_FILTER]
#
# Prints TAP-style lines and ends with "N passed, M failed". Everything it
# starts is stopped on exit, also on failure or interruption.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/lib.sh
. "$here/../../deploy/lib.sh"
# shellcheck source=tests/integration/lib.sh
. "$here/lib.sh"

filter=${1:-}
IT=$(mktemp -d /tmp/easysks-it.XXXXXX)
chmod 0755 "$IT"
export IT

cleanup() {
    local f
    for f in "$IT"/*.cleanup; do
        [ -e "$f" ] && bash "$f" >/dev/null 2>&1
    done
    nginx_stop "$IT" >/dev/null 2>&1
    pool_stop "$IT" >/dev/null 2>&1
    pg_stop "$IT/pg" immediate >/dev/null 2>&1
    local real
    real=$(readlink -f "$IT/pg" 2>/dev/null || true)
    [ -n "$real" ] && [ "$real" != "$IT/pg" ] && rm -rf "$real"
    rm -rf "$IT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export EASYSKS_ENV=dev LOG_LEVEL=info EASYSKS_WORKERS=3
EASYSKS_HTTPS_PORT=$(free_port)
EASYSKS_HTTP_PORT=$(free_port)
export EASYSKS_HTTPS_PORT EASYSKS_HTTP_PORT
export EASYSKS_LISTEN=unix:$IT/run/easysks.sock EASYSKS_SOCKET=$IT/run/easysks.sock
export EASYSKS_CONFIG_FILE=$IT/pool.env
export EASYSKS_WEB_ROOT=$EASYSKS_ROOT/app/web
export EASYSKS_MEDIA_ROOT=$IT/media
export TLS_CERT=$IT/tls/cert.pem TLS_KEY=$IT/tls/key.pem
export EASYSKS_RATE_LIMIT=100000r/s EASYSKS_RATE_BURST=100000
export EASYSKS_GRACEFUL_TIMEOUT=20
: >"$EASYSKS_CONFIG_FILE"
mkdir -p "$IT/run" "$IT/log" "$EASYSKS_MEDIA_ROOT/premium"

setup() {
    pg_init "$IT/pg" fast && pg_start "$IT/pg" && pg_setup_db "$IT/pg" || return 1
    export DATABASE_URL MIGRATE_DATABASE_URL
    DATABASE_URL=$(pg_url "$IT/pg" easysks_web)
    MIGRATE_DATABASE_URL=$(pg_url "$IT/pg" easysks_owner)
    "$EASYSKS_ROOT/build/easysks-migrate" --dir "$EASYSKS_ROOT/sql/migrations" up >/dev/null || return 1
    pg_setup_app_role "$IT/pg" || return 1
    for f in "$here"/setup_*.sh; do
        [ -e "$f" ] || continue
        # shellcheck disable=SC1090
        . "$f" || return 1
    done
    pool_start "$IT" || return 1
    make_cert "$IT/tls" && nginx_start "$IT"
}

if ! setup >"$IT/setup.log" 2>&1; then
    echo "not ok 1 - integration stack setup"
    cat "$IT/setup.log" "$IT"/log/*.log 2>/dev/null | tail -n 60 | sed 's/^/#   /'
    echo "0 passed, 1 failed"
    exit 1
fi

for f in "$here"/t_*.sh; do
    # shellcheck disable=SC1090
    . "$f"
done

passed=0 failed=0 n=0
for t in $(declare -F | awk '{print $3}' | grep '^test_' ); do
    [ -n "$filter" ] && [[ $t != *$filter* ]] && continue
    n=$((n + 1))
    : >"$IT/log/marker"
    start_lines=$(wc -l <"$IT/log/pool.log" 2>/dev/null || echo 0)
    if (set -u; "$t") >"$IT/test.out" 2>&1; then
        passed=$((passed + 1))
        echo "ok $n - ${t#test_}"
    else
        failed=$((failed + 1))
        echo "not ok $n - ${t#test_}"
        sed 's/^/#   /' "$IT/test.out" | tail -n 30
        echo "#   --- pool log (during the test) ---"
        tail -n +"$((start_lines + 1))" "$IT/log/pool.log" | tail -n 25 | sed 's/^/#   /'
        echo "#   --- nginx error log ---"
        tail -n 10 "$IT/log/error.log" 2>/dev/null | sed 's/^/#   /'
    fi
done
echo "1..$n"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
