#!/usr/bin/env bash
# A throwaway stack for the integration tests and the benchmark: PostgreSQL,
# migrations, cognito-local plus a test JWKS, the worker pool, the job
# process (easysks-jobs) and nginx, on
# free loopback ports under a temp dir, from the same scripts and templates
# as `make run` and the hosts. Source it, then call stack_setup; the EXIT
# trap it installs stops everything, also on failure or interruption.
# shellcheck disable=SC2034

stack_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/lib.sh
. "$stack_here/../../deploy/lib.sh"

IT=$(mktemp -d /tmp/easysks-it.XXXXXX)
chmod 0755 "$IT"
export IT

cleanup() {
    local f
    for f in "$IT"/*.cleanup; do
        [ -e "$f" ] && bash "$f" >/dev/null 2>&1
    done
    nginx_stop "$IT" >/dev/null 2>&1
    jobs_stop "$IT" >/dev/null 2>&1
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
# The binaries under test: build/, or build-san/ for the sanitized pass
# (tests/run-all.sh). Sanitizer reports go to files under $IT/log/ that
# run.sh checks after every test; a sanitized build aborts on its first
# report (Makefile), leaks included for the short-lived CLIs.
export EASYSKS_BIN_DIR=${EASYSKS_BIN_DIR:-$EASYSKS_ROOT/build}
export ASAN_OPTIONS="detect_leaks=1:log_path=$IT/log/asan:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$IT/log/ubsan:${UBSAN_OPTIONS:-}"
EASYSKS_HTTPS_PORT=$(free_port)
EASYSKS_HTTP_PORT=$(free_port)
EASYSKS_STATUS_PORT=$(free_port)
export EASYSKS_HTTPS_PORT EASYSKS_HTTP_PORT EASYSKS_STATUS_PORT
export EASYSKS_LISTEN=unix:$IT/run/easysks.sock EASYSKS_SOCKET=$IT/run/easysks.sock
export EASYSKS_CONFIG_FILE=$IT/pool.env
export EASYSKS_WEB_ROOT=$EASYSKS_ROOT/app/web
export EASYSKS_MEDIA_ROOT=$IT/media
export TLS_CERT=$IT/tls/cert.pem TLS_KEY=$IT/tls/key.pem
export EASYSKS_RATE_LIMIT=100000r/s EASYSKS_RATE_BURST=100000
export EASYSKS_GRACEFUL_TIMEOUT=20
export EASYSKS_SKS_DATA=${EASYSKS_SKS_DATA:-$EASYSKS_ROOT/../shared/data/sks}
: >"$EASYSKS_CONFIG_FILE"
mkdir -p "$IT/run" "$IT/log" "$EASYSKS_MEDIA_ROOT/premium"

stack_start_all() {
    # fast: fsync and synchronous_commit off (a crash loses the last
    # commits); STACK_PG_MODE=durable keeps PostgreSQL's defaults (make chaos).
    pg_init "$IT/pg" "${STACK_PG_MODE:-fast}" && pg_start "$IT/pg" && pg_setup_db "$IT/pg" || return 1
    export DATABASE_URL MIGRATE_DATABASE_URL
    DATABASE_URL=$(pg_url "$IT/pg" easysks_web)
    MIGRATE_DATABASE_URL=$(pg_url "$IT/pg" easysks_owner)
    "$EASYSKS_BIN_DIR/easysks-migrate" --dir "$EASYSKS_ROOT/sql/migrations" up >/dev/null || return 1
    pg_setup_app_role "$IT/pg" || return 1
    "$EASYSKS_BIN_DIR/easysks-migrate" --dir "$EASYSKS_ROOT/sql/migrations" seed \
        --data "$EASYSKS_SKS_DATA" >/dev/null || return 1
    # Statement counts per request (tests) and where the time goes (bench).
    psql "$MIGRATE_DATABASE_URL" -qc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null || return 1
    for f in "$stack_here"/setup_*.sh; do
        [ -e "$f" ] || continue
        # shellcheck disable=SC1090
        . "$f" || return 1
    done
    pool_start "$IT" || return 1
    jobs_start "$IT" || return 1
    "$EASYSKS_ROOT/deploy/render-web-config.sh" "$IT/nginx/config.json" || return 1
    make_cert "$IT/tls" && nginx_start "$IT"
}


# stack_setup: bring everything up; on failure print the logs and return 1.
stack_setup() {
    if ! stack_start_all >"$IT/setup.log" 2>&1; then
        cat "$IT/setup.log" "$IT"/log/*.log 2>/dev/null | tail -n 60 | sed 's/^/#   /'
        return 1
    fi
}
