#!/usr/bin/env bash
# cognito-local (npm, test tooling) as a local stand-in for the Cognito user pool.
#
#   deploy/cognito-local.sh start      start on 127.0.0.1:$COGNITO_LOCAL_PORT (default 9229)
#   deploy/cognito-local.sh stop       stop what start started (pidfile)
#   deploy/cognito-local.sh status
#   deploy/cognito-local.sh bootstrap  idempotently create the "easysks-dev" pool, the
#                                      "easysks-web" app client (USER_PASSWORD_AUTH, no
#                                      secret) and, only with EASYSKS_ENV=dev, the demo user
#   deploy/cognito-local.sh env        print AUTH_ISSUER=... lines for `eval`
#
# State (pool data, config, log, pidfile) lives in ${EASYSKS_VAR:-var}/cognito.
# cognito-local keeps its data in ./.cognito of its working directory and reads
# .cognito/config.json; the token issuer is TokenConfig.IssuerDomain + "/" + pool id.
# We set IssuerDomain from COGNITO_ISSUER_DOMAIN (default http://127.0.0.1:PORT).
# The issuer is fixed by that setting, not by the URL a client used, so tokens
# obtained through a proxy (https://localhost:8443/cognito/) carry the same iss.
set -euo pipefail
# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VAR=${EASYSKS_VAR:-$EASYSKS_ROOT/var}
STATE=$VAR/cognito
# The port a running instance was started on is remembered, so `env`,
# `deploy/dev-token` and `stop` find it without the variable being set again.
PORT=${COGNITO_LOCAL_PORT:-$(cat "$STATE/port" 2>/dev/null || echo 9229)}
HOST=127.0.0.1
ENDPOINT=http://$HOST:$PORT
ISSUER_DOMAIN=${COGNITO_ISSUER_DOMAIN:-$ENDPOINT}
PIDFILE=$STATE/cognito-local.pid
LOG=$STATE/cognito-local.log
IDS=$STATE/ids.env
BIN=$EASYSKS_ROOT/node_modules/.bin/cognito-local
AWS=/usr/bin/aws # Debian's awscli v2; an older v1 may come first on PATH

POOL_NAME=easysks-dev
CLIENT_NAME=easysks-web
DEMO_USER=demo@easysks.local
DEMO_PASSWORD='Demo-Passw0rd!'

usage() {
    echo "usage: $0 start|stop|status|bootstrap|env" >&2
    exit 2
}

# The pid from the pidfile if that process is still our cognito-local.
running_pid() {
    local pid
    [ -f "$PIDFILE" ] || return 1
    pid=$(cat "$PIDFILE")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # Guard against a recycled pid: it must still be the cognito-local process.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q cognito-local || return 1
    echo "$pid"
}

healthy() {
    curl -sf --max-time 2 "$ENDPOINT/health" >/dev/null
}

write_config() {
    mkdir -p "$STATE/.cognito"
    # Rewritten on every start so the issuer follows the environment.
    cat >"$STATE/.cognito/config.json" <<EOF
{
  "TokenConfig": { "IssuerDomain": "$ISSUER_DOMAIN" },
  "ServerConfig": { "hostname": "$HOST", "port": $PORT }
}
EOF
}

start() {
    local pid
    [ -x "$BIN" ] || die "cognito-local is not installed ($BIN); run 'make deps'"
    if pid=$(running_pid); then
        echo "cognito-local already running (pid $pid) on $ENDPOINT"
        return 0
    fi
    if healthy; then
        die "something else already answers on $ENDPOINT (set COGNITO_LOCAL_PORT)"
    fi
    mkdir -p "$STATE"
    write_config
    echo "$PORT" >"$STATE/port"
    # setsid: our own session, so a terminal's SIGINT does not reach it and
    # stop can signal exactly this process. HOST/PORT are read by cognito-local
    # itself (the config file sets the same values).
    (
        cd "$STATE"
        HOST=$HOST PORT=$PORT exec setsid "$BIN" </dev/null >>"$LOG" 2>&1
    ) &
    echo $! >"$PIDFILE"
    if ! wait_for 20 "cognito-local on $ENDPOINT" healthy; then
        tail -n 20 "$LOG" >&2 || true
        stop
        die "cognito-local did not start (log: $LOG)"
    fi
    echo "cognito-local running (pid $(cat "$PIDFILE")) on $ENDPOINT, issuer domain $ISSUER_DOMAIN"
}

stop() {
    local pid
    if ! pid=$(running_pid); then
        rm -f "$PIDFILE"
        return 0
    fi
    stop_pid "$pid" TERM 5
    rm -f "$PIDFILE"
    echo "cognito-local stopped"
}

status() {
    local pid
    if pid=$(running_pid); then
        echo "cognito-local running (pid $pid) on $ENDPOINT"
    else
        echo "cognito-local not running"
        return 1
    fi
}

# AWS CLI against cognito-local with dummy credentials; never touches ~/.aws.
idp() {
    AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1 \
        AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER='' \
        AWS_EC2_METADATA_DISABLED=true \
        "$AWS" --endpoint-url "$ENDPOINT" --output text cognito-idp "$@"
}

bootstrap() {
    local pool client
    [ -x "$AWS" ] || die "$AWS not found (apt-get install awscli)"
    running_pid >/dev/null || healthy || die "cognito-local is not running; run '$0 start'"

    pool=$(idp list-user-pools --max-results 60 --query "UserPools[?Name=='$POOL_NAME'].Id | [0]")
    if [ -z "$pool" ] || [ "$pool" = None ]; then
        pool=$(idp create-user-pool --pool-name "$POOL_NAME" \
            --username-attributes email --auto-verified-attributes email \
            --query UserPool.Id)
    fi

    client=$(idp list-user-pool-clients --user-pool-id "$pool" --max-results 60 \
        --query "UserPoolClients[?ClientName=='$CLIENT_NAME'].ClientId | [0]")
    if [ -z "$client" ] || [ "$client" = None ]; then
        client=$(idp create-user-pool-client --user-pool-id "$pool" --client-name "$CLIENT_NAME" \
            --no-generate-secret \
            --explicit-auth-flows ALLOW_USER_PASSWORD_AUTH ALLOW_REFRESH_TOKEN_AUTH \
            --query UserPoolClient.ClientId)
    fi

    printf 'COGNITO_USER_POOL_ID=%s\nCOGNITO_CLIENT_ID=%s\n' "$pool" "$client" >"$IDS"

    if [ "${EASYSKS_ENV:-}" != dev ]; then
        echo "EASYSKS_ENV is not 'dev': demo user not created" >&2
    else
        if ! idp admin-get-user --user-pool-id "$pool" --username "$DEMO_USER" >/dev/null 2>&1; then
            idp admin-create-user --user-pool-id "$pool" --username "$DEMO_USER" \
                --user-attributes Name=email,Value="$DEMO_USER" Name=email_verified,Value=true \
                --message-action SUPPRESS >/dev/null
        fi
        # Permanent password: the user is CONFIRMED and can log in directly.
        idp admin-set-user-password --user-pool-id "$pool" --username "$DEMO_USER" \
            --password "$DEMO_PASSWORD" --permanent >/dev/null
    fi
    echo "pool $pool, client $client"
}

print_env() {
    local COGNITO_USER_POOL_ID COGNITO_CLIENT_ID
    [ -f "$IDS" ] || die "no pool yet; run '$0 bootstrap'"
    # shellcheck disable=SC1090
    . "$IDS"
    echo "AUTH_ISSUER=$ISSUER_DOMAIN/$COGNITO_USER_POOL_ID"
    echo "AUTH_CLIENT_IDS=$COGNITO_CLIENT_ID"
    echo "AUTH_TOKEN_USE=access"
    # Workers fetch the JWKS straight from loopback (plain http: EASYSKS_ENV=dev only),
    # whatever issuer domain browsers see.
    echo "AUTH_JWKS_URL=$ENDPOINT/$COGNITO_USER_POOL_ID/.well-known/jwks.json"
    echo "COGNITO_ENDPOINT=$ENDPOINT"
    echo "COGNITO_LOCAL_UPSTREAM=$HOST:$PORT"
    echo "COGNITO_USER_POOL_ID=$COGNITO_USER_POOL_ID"
    echo "COGNITO_CLIENT_ID=$COGNITO_CLIENT_ID"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
bootstrap) bootstrap ;;
env) print_env ;;
*) usage ;;
esac
