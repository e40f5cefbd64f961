#!/usr/bin/env bash
# The local stack behind `make run` / `make stop`: PostgreSQL on a unix
# socket, migrations, cognito-local, the worker pool, the job process that
# grades exams with the AI model (easysks-jobs) and nginx with TLS on
# https://localhost:8443, all state under var/ (kept across runs).
# OPENAI_API_KEY and OPENAI_API_BASE (e.g. the loopback stub in
# tests/tools/openai-stub.mjs) switch AI grading on (docs/ai.md).
#
#   deploy/local-stack.sh start|stop|status|env
#
# Every setting can be overridden from the environment; the environment wins
# over the generated local defaults.
set -euo pipefail
# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VAR=${EASYSKS_VAR:-$EASYSKS_ROOT/var}
export EASYSKS_VAR=$VAR

# Defaults for a development machine; anything already set wins.
local_defaults() {
    : "${EASYSKS_ENV:=dev}"
    : "${EASYSKS_HTTPS_PORT:=8443}"
    : "${EASYSKS_HTTP_PORT:=8080}"
    : "${EASYSKS_STATUS_PORT:=8081}"
    : "${EASYSKS_WORKERS:=8}"
    : "${LOG_LEVEL:=info}"
    : "${EASYSKS_LISTEN:=unix:$VAR/run/easysks.sock}"
    : "${DATABASE_URL:=$(pg_url "$VAR/pg" easysks_web)}"
    : "${MIGRATE_DATABASE_URL:=$(pg_url "$VAR/pg" easysks_owner)}"
    : "${EASYSKS_WEB_ROOT:=$EASYSKS_ROOT/app/web}"
    : "${EASYSKS_CATALOGUE_DIR:=$(readlink -f "$EASYSKS_ROOT/../shared/data/sks" 2>/dev/null || echo "$EASYSKS_ROOT/../shared/data/sks")}"
    : "${EASYSKS_MEDIA_ROOT:=$EASYSKS_CATALOGUE_DIR/images}"
    : "${TLS_CERT:=$VAR/tls/cert.pem}"
    : "${TLS_KEY:=$VAR/tls/key.pem}"
    EASYSKS_SOCKET=${EASYSKS_LISTEN#unix:}
    export EASYSKS_ENV EASYSKS_HTTPS_PORT EASYSKS_HTTP_PORT EASYSKS_STATUS_PORT EASYSKS_WORKERS LOG_LEVEL \
        EASYSKS_LISTEN DATABASE_URL MIGRATE_DATABASE_URL EASYSKS_WEB_ROOT EASYSKS_MEDIA_ROOT EASYSKS_CATALOGUE_DIR \
        TLS_CERT TLS_KEY EASYSKS_SOCKET
}

cognito_start() {
    local script=$EASYSKS_ROOT/deploy/cognito-local.sh
    [ -x "$script" ] || return 0
    # An operator pointing AUTH_* at another issuer does not need the stand-in.
    if [ -n "${AUTH_ISSUER:-}" ] && [ -z "${EASYSKS_COGNITO_LOCAL:-}" ]; then
        return 0
    fi
    "$script" start
    "$script" bootstrap >/dev/null
    # shellcheck disable=SC1090
    eval "$("$script" env)"
    export AUTH_ISSUER AUTH_CLIENT_IDS
    [ -n "${AUTH_JWKS_URL:-}" ] && export AUTH_JWKS_URL
    [ -n "${COGNITO_LOCAL_UPSTREAM:-}" ] && export COGNITO_LOCAL_UPSTREAM
    # Browsers reach cognito-local through nginx on this origin.
    export AUTH_CLIENT_ENDPOINT=${AUTH_CLIENT_ENDPOINT:-/cognito/}
    return 0
}

start() {
    mkdir -p "$VAR/run" "$VAR/log"
    pg_prepare_dir "$VAR/pg"
    local_defaults

    echo "==> PostgreSQL (unix socket in $VAR/pg/run)"
    pg_init "$VAR/pg"
    pg_start "$VAR/pg"
    pg_setup_db "$VAR/pg"
    echo "==> migrations"
    "$EASYSKS_ROOT/build/easysks-migrate" --dir "$EASYSKS_ROOT/sql/migrations" up
    pg_setup_app_role "$VAR/pg"
    echo "==> question catalogue ($EASYSKS_CATALOGUE_DIR)"
    "$EASYSKS_ROOT/build/easysks-migrate" --dir "$EASYSKS_ROOT/sql/migrations" seed --data "$EASYSKS_CATALOGUE_DIR"

    echo "==> local Cognito"
    cognito_start

    echo "==> worker pool ($EASYSKS_WORKERS workers)"
    # A rebuilt binary replaces a running pool (HUP only re-reads settings).
    if [ -f "$VAR/run/pool.pid" ] && [ "$EASYSKS_ROOT/build/easysks-fcgi" -nt "$VAR/run/pool.pid" ]; then
        pool_stop "$VAR"
    fi
    pool_start "$VAR"

    # Never echo the key itself: only whether one is set.
    local ai_state="off (no OPENAI_API_KEY)"
    if [ -n "${OPENAI_API_KEY:-}${OPENAI_API_KEY_FILE:-}" ]; then
        ai_state="on, ${OPENAI_API_BASE:-https://api.openai.com/v1}"
    fi
    echo "==> job process (AI grading $ai_state)"
    if [ -f "$VAR/run/jobs.pid" ] && [ "$EASYSKS_ROOT/build/easysks-jobs" -nt "$VAR/run/jobs.pid" ]; then
        jobs_stop "$VAR"
    fi
    jobs_start "$VAR"

    echo "==> nginx"
    # The web client's /config.json, served by nginx from its config dir.
    if [ -n "${AUTH_CLIENT_IDS:-}" ]; then
        "$EASYSKS_ROOT/deploy/render-web-config.sh" "$VAR/nginx/config.json"
    fi
    make_cert "$VAR/tls"
    nginx_start "$VAR"

    local health
    health=$(curl -ks "https://localhost:$EASYSKS_HTTPS_PORT/api/health" || true)
    cat <<MSG

EasySKS is running.
  web:          https://localhost:$EASYSKS_HTTPS_PORT/  (self-signed certificate)
  liveness:     https://localhost:$EASYSKS_HTTPS_PORT/health
  readiness:    https://localhost:$EASYSKS_HTTPS_PORT/api/health -> $health
  http:         http://localhost:$EASYSKS_HTTP_PORT/ (redirects to https)
  pool status:  http://127.0.0.1:$EASYSKS_STATUS_PORT/status
  job process:  $VAR/log/jobs.log (AI grading $ai_state)
  logs:         $VAR/log/
  stop:         make stop
MSG
    if [ -x "$EASYSKS_ROOT/deploy/dev-token" ] && [ -n "${AUTH_ISSUER:-}" ]; then
        cat <<MSG
  demo user:    demo@easysks.local / Demo-Passw0rd!  (dev only)
  try:          curl -k -H "Authorization: Bearer \$(deploy/dev-token)" https://localhost:$EASYSKS_HTTPS_PORT/api/me
MSG
    fi
}

stop() {
    nginx_stop "$VAR"
    jobs_stop "$VAR"
    pool_stop "$VAR"
    if [ -x "$EASYSKS_ROOT/deploy/cognito-local.sh" ]; then
        "$EASYSKS_ROOT/deploy/cognito-local.sh" stop || true
    fi
    pg_stop "$VAR/pg"
    echo "stopped (data kept in $VAR)"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
env)
    local_defaults
    env | grep -E '^(EASYSKS_|DATABASE_URL|MIGRATE_DATABASE_URL|AUTH_|TLS_|AI_|OPENAI_API_BASE|OPENAI_MODEL)' | sort |
        sed "s/'/'\\\\''/g; s/=\\(.*\\)/='\\1'/"
    ;;
*)
    echo "usage: $0 start|stop|env" >&2
    exit 2
    ;;
esac
