#!/usr/bin/env bash
# shellcheck disable=SC2317 # step functions are called indirectly (step NAME FUNCTION)
# `make staging-local`: rehearse the staging deploy on this machine.
#
#   deploy/staging-local.sh [--keep]
#
# Everything runs on loopback, on ports the kernel picks, under one temporary
# directory that is removed on exit (--keep leaves it for inspection, with
# every process still stopped). The steps are the real ones:
#
#   dist       deploy/dist.sh builds the release tarball
#   publish    deploy/aws/publish.sh uploads it and the frontend to S3 (s3rver),
#              through /usr/bin/aws --endpoint-url with dummy credentials
#   host       a directory laid out like a host (opt/easysks, etc/easysks,
#              run/, var/www, var/log); the release is fetched from the S3
#              stand-in, checksum-verified and unpacked by easysks-install-release
#   secrets    values live in a Secrets Manager stand-in; the release's
#              easysks-fetch-secrets writes them as files, the programs read NAME_FILE
#   database   a fresh PostgreSQL cluster; the release's migrator runs through
#              easysks-run-migrations (the RDS master-secret path) as the deploy's
#              migration step; then the application's login role
#   cognito    cognito-local as the user pool, with a smoke-test user
#   pool       the release's easysks-fcgi, configured like the unit does
#              (EASYSKS_CONFIG_FILE, NAME_FILE, socket 0660 group www-data)
#   nginx      rendered from the release's templates ("user www-data;" as root),
#              with the host certificate easysks-tls makes (no secret involved)
#   frontend   synced from the S3 stand-in into the web root
#   smoke      deploy/smoke.sh against it; then a secret rotation + reload
#   lock       roll.sh under the deploy lock (an SSM parameter in the stand-in);
#              a held lock refuses a second deploy
#   boot       a container booted with systemd (systemd-nspawn) on a throwaway
#              overlay of this machine: the user data rendered from the
#              template goes through cloud-init's stages, the agents are
#              installed from .deb files, easysks-bootstrap starts the units
#              under systemd and completes the launch lifecycle hook after
#              /api/health answered 200; migrate.sh's remote commands run
#              under sh (dash) and bash; the pool recovers by itself once a
#              missing secret is put; the IMDS rule refuses the service users
#              (deploy/staging-local-host.sh; skipped, with the reason, where
#              the machine cannot boot a container)
#
# The one deviation from staging: EASYSKS_ENV=dev, because the Cognito stand-in
# is plain http (outside dev the app requires https issuer and JWKS URLs).
# Prints TAP lines and ends with "N passed, M failed"; exit status 1 on failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/lib.sh
. "$here/lib.sh"
# shellcheck source=deploy/staging-local-host.sh
. "$here/staging-local-host.sh"

keep=0
case ${1:-} in
--keep) keep=1 ;;
'') ;;
*) echo "usage: deploy/staging-local.sh [--keep]" >&2; exit 2 ;;
esac

AWS=${AWS_CLI:-/usr/bin/aws}
NODE=${NODE:-node}
S3RVER=$EASYSKS_ROOT/node_modules/.bin/s3rver
[ -x "$AWS" ] || die "$AWS not found (Debian's awscli v2; set AWS_CLI)"
[ -x "$S3RVER" ] || die "$S3RVER not found (make deps)"

T=$(mktemp -d "${TMPDIR:-/tmp}/easysks-staging.XXXXXX")
# Traversable (not listable) so postgres and nginx's www-data workers can
# reach their files below it, as they would on a host.
chmod 0711 "$T"
mkdir -p "$T/logs"
H=$T/host # the host's filesystem root

# Dummy credentials, no config files, no instance metadata: nothing here can
# reach a real AWS account.
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER='' \
    AWS_EC2_METADATA_DISABLED=true AWS_CLI=$AWS
unset AWS_ENDPOINT_URL AWS_PROFILE AWS_SESSION_TOKEN

s3_pid=
sm_pid=
cognito_started=0
COGNITO_PORT=
pg_started=0
passed=0
failed=0
step_no=0

cleanup() {
    local rc=$?
    set +e
    host_cleanup
    nginx_stop "$T/nginx-state" 2>/dev/null
    pool_stop "$T/pool-state" 2>/dev/null
    if [ "$cognito_started" = 1 ]; then
        EASYSKS_VAR=$T/cognito-var COGNITO_LOCAL_PORT=$COGNITO_PORT "$here/cognito-local.sh" stop >/dev/null 2>&1
    fi
    for pid in $s3_pid $sm_pid; do
        stop_pid "$pid" TERM 5
    done
    if [ "$pg_started" = 1 ]; then
        pg_stop "$T/pg" immediate
    fi
    if [ "$keep" = 1 ]; then
        echo "# kept $T" >&2
    else
        # The cluster may live under /var/tmp, linked from $T/pg (lib.sh).
        if [ -L "$T/pg" ]; then rm -rf "$(readlink -f "$T/pg")"; fi
        rm -rf "$T"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

summary() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] || exit 1
    exit 0
}

# Steps run in a subshell with errexit (a failing command inside a function
# called from an `if` would not stop it); what later steps need is passed on
# through save, which appends to $T/state.sh, sourced after every step.
save() {
    local v
    for v in "$@"; do declare -p "$v"; done | sed 's/^declare -[a-z-]* /declare -g /' >>"$T/state.sh"
}
: >"$T/state.sh"

# run_logged LOG COMMAND...: errexit-safe; returns the command's status.
run_logged() {
    local log=$1 rc
    shift
    set +e
    (
        set -e
        "$@"
    ) >"$log" 2>&1
    rc=$?
    set -e
    # shellcheck disable=SC1091
    . "$T/state.sh"
    return "$rc"
}

# run_step NAME TAIL_LINES COMMAND...: run one step with its output in
# $T/logs, print its TAP line (and the log's tail on failure); returns the
# command's status.
run_step() {
    local name=$1 lines=$2 log
    shift 2
    step_no=$((step_no + 1))
    log=$T/logs/$(printf '%02d' "$step_no")-$1.log
    if run_logged "$log" "$@"; then
        echo "ok - $name"
        passed=$((passed + 1))
        return 0
    fi
    echo "not ok - $name"
    failed=$((failed + 1))
    tail -n "$lines" "$log" | sed 's/^/#   /'
    return 1
}

# step NAME COMMAND...: later steps depend on it, so a failure stops the run.
step() {
    run_step "$1" 30 "${@:2}" && return 0
    echo "# (stopping: later steps depend on this one)"
    summary
}

# check NAME COMMAND...: like step, but the run goes on after a failure.
check() {
    run_step "$1" 20 "${@:2}" || true
}

# --- the release ---------------------------------------------------------------

VERSION=${EASYSKS_VERSION:-$(git -C "$EASYSKS_ROOT" describe --always --dirty 2>/dev/null || echo staging-local)}
VERSION=${VERSION//[^A-Za-z0-9._-]/-}
RELEASE_BUCKET=easysks-staging-local-releases
FRONTEND_BUCKET=easysks-staging-local-frontend

do_dist() {
    # The RDS CA bundle a release ships: a throwaway CA here (the rehearsal's
    # database is local), the real bundle for AWS (docs/runbook.md).
    mkdir -p "$T/rds-ca"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=easysks-rehearsal-rds-ca -keyout "$T/rds-ca/key.pem" -out "$T/rds-ca/ca.pem" 2>/dev/null
    EASYSKS_VERSION=$VERSION DIST_DIR=$T/dist EASYSKS_RDS_CA_BUNDLE=$T/rds-ca/ca.pem "$here/dist.sh"
    tar -tzf "$T/dist/easysks-$VERSION.tar.gz" >"$T/dist/contents"
    grep -qx './bin/easysks-fcgi' "$T/dist/contents" && grep -qx './bin/easysks-jobs' "$T/dist/contents" &&
        grep -qx './rds-ca.pem' "$T/dist/contents" && grep -qx './bin/easysks-pool-watch' "$T/dist/contents"
}

start_s3() {
    local port
    port=$(free_port)
    mkdir -p "$T/s3"
    "$S3RVER" -d "$T/s3" -a 127.0.0.1 -p "$port" --silent >"$T/logs/s3rver.log" 2>&1 &
    s3_pid=$!
    S3=http://127.0.0.1:$port
    save s3_pid S3
    wait_for 20 "s3rver" curl -sf "$S3/"
    "$AWS" --endpoint-url "$S3" s3 mb "s3://$RELEASE_BUCKET"
    "$AWS" --endpoint-url "$S3" s3 mb "s3://$FRONTEND_BUCKET"
}

do_publish() {
    "$here/aws/publish.sh" --release-bucket "$RELEASE_BUCKET" --frontend-bucket "$FRONTEND_BUCKET" \
        --version "$VERSION" --dist-dir "$T/dist" --endpoint-url "$S3"
    # Publishing the same release again is a no-op (immutable releases).
    "$here/aws/publish.sh" --release-bucket "$RELEASE_BUCKET" --frontend-bucket "$FRONTEND_BUCKET" \
        --version "$VERSION" --dist-dir "$T/dist" --endpoint-url "$S3"
}

# --- the host ------------------------------------------------------------------

do_install() {
    mkdir -p "$H/opt/easysks" "$H/etc/easysks" "$H/var/www" "$H/var/log/easysks" "$H/run"
    chmod 0755 "$H" "$H/opt" "$H/opt/easysks" "$H/var" "$H/var/www" "$H/run" "$H/etc"
    # cloud-init runs an embedded copy of this script (kept identical by tests/deploy/check.sh).
    "$here/host/install-release.sh" --bucket "$RELEASE_BUCKET" --version "$VERSION" \
        --prefix "$H/opt/easysks" --activate --endpoint-url "$S3"
    REL=$H/opt/easysks/current
    save REL
    [ "$(cat "$REL/VERSION")" = "$VERSION" ]
    # A second install of the same version re-verifies instead of downloading.
    "$here/host/install-release.sh" --bucket "$RELEASE_BUCKET" --version "$VERSION" \
        --prefix "$H/opt/easysks" --endpoint-url "$S3"
}

# A tampered release must be refused.
check_tamper() {
    local bad=$T/tamper
    mkdir -p "$bad/releases"
    cp -a "$(readlink -f "$H/opt/easysks/current")" "$bad/releases/$VERSION"
    echo "# tampered" >>"$bad/releases/$VERSION/nginx/nginx.conf.tmpl"
    if "$here/host/install-release.sh" --bucket "$RELEASE_BUCKET" --version "$VERSION" \
        --prefix "$bad" --endpoint-url "$S3"; then
        return 1
    fi
}

start_secrets() {
    local i
    echo '{}' >"$T/secrets.json"
    chmod 0600 "$T/secrets.json"
    "$NODE" "$EASYSKS_ROOT/tests/deploy/aws-stub.mjs" "$T/secrets.json" "$T/sm.port" \
        >"$T/logs/secretsmanager.log" 2>&1 &
    sm_pid=$!
    save sm_pid
    for ((i = 0; i < 100; i++)); do
        [ -s "$T/sm.port" ] && break
        sleep 0.1
    done
    [ -s "$T/sm.port" ]
    SM=http://127.0.0.1:$(cat "$T/sm.port")
    save SM
}

arn() { echo "arn:aws:secretsmanager:us-east-1:000000000000:secret:easysks/staging-local/$1"; }

# set_secret NAME VALUE: the stand-in's value for NAME's ARN (no value: null).
set_secret() {
    python3 - "$T/secrets.json" "$(arn "$1")" "$2" <<'PY'
import json, sys
path, key, value = sys.argv[1:]
data = json.load(open(path))
data[key] = None if value == "__no_value__" else value
json.dump(data, open(path, "w"))
PY
}

do_database() {
    pg_init "$T/pg" fast
    pg_started=1
    save pg_started
    pg_start "$T/pg"
    pg_setup_db "$T/pg"
}

do_host_config() {
    local run
    run=$(readlink -f "$T/pg")/run
    # The secrets the hosts know by ARN, as cloud-init writes them: the pool's
    # (terraform's secret_arns) and the migration unit's.
    for n in DATABASE_URL STRIPE_API_KEY STRIPE_WEBHOOK_SECRETS; do
        echo "$n=$(arn "$n")"
    done >"$H/etc/easysks/secrets.env"
    printf 'DB_MASTER_SECRET=%s\nDATABASE_URL=%s\n' "$(arn DB_MASTER_SECRET)" "$(arn DATABASE_URL)" \
        >"$H/etc/easysks/migrate-secrets.env"
    # The same URI shape as on AWS (user@host/db), here with the socket
    # directory as host= so the migrator's owner URI can be composed from it.
    set_secret DATABASE_URL "postgresql://easysks_web@localhost/easysks?host=$run&connect_timeout=5"
    set_secret DB_MASTER_SECRET '{"username":"easysks_owner","password":"unused-locally"}'
    set_secret STRIPE_API_KEY __no_value__ # declared, no value yet: optional, skipped
    set_secret STRIPE_WEBHOOK_SECRETS "whsec_staging_local_one"
    make_cert "$T/tls" # stands in for the RDS CA bundle on the booted host
}

do_migrate() {
    local sec=$H/run/easysks-migrate/secrets
    AWS_ENDPOINT_URL=$SM "$REL/bin/easysks-fetch-secrets" --env-file "$H/etc/easysks/migrate-secrets.env" \
        --dest "$sec" --only MIGRATE_DATABASE_URL,DB_MASTER_SECRET,DATABASE_URL \
        --optional MIGRATE_DATABASE_URL,DB_MASTER_SECRET
    # Schema, then the application's login role from DATABASE_URL.
    "$REL/bin/easysks-run-migrations" --release "$REL" --secrets "$sec"
    psql "$(pg_url "$T/pg" easysks_owner)" -tAc \
        "SELECT pg_has_role('easysks_web', 'easysks_app', 'member') AND rolcanlogin FROM pg_roles WHERE rolname = 'easysks_web'" | grep -qx t
    # Again: nothing to do, and the advisory lock is released.
    "$REL/bin/easysks-run-migrations" --release "$REL" --secrets "$sec"
}

do_cognito() {
    local env_out
    COGNITO_PORT=$(free_port)
    export EASYSKS_VAR=$T/cognito-var COGNITO_LOCAL_PORT=$COGNITO_PORT
    mkdir -p "$EASYSKS_VAR"
    cognito_started=1
    save cognito_started COGNITO_PORT
    EASYSKS_ENV=staging "$here/cognito-local.sh" start
    EASYSKS_ENV=staging "$here/cognito-local.sh" bootstrap
    env_out=$("$here/cognito-local.sh" env)
    echo "$env_out"
    AUTH_ISSUER=$(sed -n 's/^AUTH_ISSUER=//p' <<<"$env_out")
    AUTH_JWKS_URL=$(sed -n 's/^AUTH_JWKS_URL=//p' <<<"$env_out")
    POOL_ID=$(sed -n 's/^COGNITO_USER_POOL_ID=//p' <<<"$env_out")
    CLIENT_ID=$(sed -n 's/^COGNITO_CLIENT_ID=//p' <<<"$env_out")
    if [ -z "$AUTH_ISSUER" ] || [ -z "$CLIENT_ID" ] || [ -z "$POOL_ID" ]; then
        echo "cognito-local.sh env gave no issuer, pool or client"
        return 1
    fi
    # The smoke-test user, as the runbook creates it in a real pool.
    SMOKE_USER=smoke@easysks.test
    SMOKE_PASS="Smoke-$(openssl rand -hex 8)-Aa1!"
    local idp=("$AWS" --endpoint-url "http://127.0.0.1:$COGNITO_PORT" cognito-idp)
    "${idp[@]}" admin-create-user --user-pool-id "$POOL_ID" --username "$SMOKE_USER" \
        --user-attributes Name=email,Value="$SMOKE_USER" Name=email_verified,Value=true \
        --message-action SUPPRESS >/dev/null
    "${idp[@]}" admin-set-user-password --user-pool-id "$POOL_ID" --username "$SMOKE_USER" \
        --password "$SMOKE_PASS" --permanent >/dev/null
    save AUTH_ISSUER AUTH_JWKS_URL POOL_ID CLIENT_ID SMOKE_USER SMOKE_PASS
}

do_pool() {
    # /etc/easysks/easysks.env as cloud-init writes it from terraform's app_env.
    cat >"$H/etc/easysks/easysks.env" <<ENV
EASYSKS_ENV=dev
EASYSKS_WORKERS=2
LOG_LEVEL=info
AUTH_ISSUER=$AUTH_ISSUER
AUTH_JWKS_URL=$AUTH_JWKS_URL
AUTH_CLIENT_IDS=$CLIENT_ID
STRIPE_PRICE_ID=price_staging_local
ENV
    # /run/easysks as the unit makes it: 0750, group www-data (nginx's).
    mkdir -p "$H/run/easysks"
    chmod 0750 "$H/run/easysks"
    if [ "$(id -u)" -eq 0 ]; then chgrp www-data "$H/run/easysks"; fi
    fetch_app_secrets
    grep -q '^DATABASE_URL_FILE=' "$H/run/easysks/secret-files.env"
    if grep -q '^STRIPE_API_KEY_FILE=' "$H/run/easysks/secret-files.env"; then return 1; fi
    [ "$(stat -c %a "$H/run/easysks/secrets/DATABASE_URL")" = 400 ]
    (
        set -a
        # shellcheck disable=SC1091
        . "$H/run/easysks/secret-files.env"
        set +a
        export EASYSKS_CONFIG_FILE=$H/etc/easysks/easysks.env
        export EASYSKS_LISTEN=unix:$H/run/easysks/easysks.sock EASYSKS_SOCKET_MODE=0660
        if [ "$(id -u)" -eq 0 ]; then export EASYSKS_SOCKET_GROUP=www-data; fi
        export EASYSKS_BIN_DIR=$REL/bin
        pool_start "$T/pool-state"
    )
    if [ "$(id -u)" -eq 0 ]; then
        [ "$(stat -c '%a %G' "$H/run/easysks/easysks.sock")" = "660 www-data" ]
    fi
}

# What ExecStartPre / ExecReload of easysks-fcgi.service run.
fetch_app_secrets() {
    AWS_ENDPOINT_URL=$SM "$REL/bin/easysks-fetch-secrets" --env-file "$H/etc/easysks/secrets.env" \
        --dest "$H/run/easysks/secrets" --env-out "$H/run/easysks/secret-files.env" \
        --optional STRIPE_API_KEY,STRIPE_WEBHOOK_SECRETS,OPENAI_API_KEY
}

# No secret value may appear in any log or output of the rehearsal.
check_no_leaks() {
    local v
    for v in whsec_staging_local_one whsec_staging_local_two unused-locally "BEGIN PRIVATE KEY"; do
        if grep -rlF -- "$v" "$T/logs" "$T/pool-state/log" "$T/nginx-state/log" 2>/dev/null; then
            echo "secret value '$v' found in the files above"
            return 1
        fi
    done
}

do_frontend() {
    "$REL/bin/easysks-sync-frontend" --bucket "$FRONTEND_BUCKET" --version "$VERSION" \
        --dest "$H/var/www/easysks" --endpoint-url "$S3"
    cmp "$H/var/www/easysks/index.html" "$REL/web/index.html"
}

do_nginx() {
    local state=$T/nginx-state
    HTTPS_PORT=$(free_port)
    HTTP_PORT=$(free_port)
    save HTTPS_PORT HTTP_PORT
    mkdir -p "$state/log" "$H/run/easysks-nginx"
    "$REL/bin/easysks-tls" "$H/run/easysks-nginx/tls"
    local status_port
    status_port=$(free_port)
    (
        export NGINX_CONF_DIR=$H/etc/easysks/nginx NGINX_RUN_DIR=$H/run/easysks-nginx \
            NGINX_LOG_DIR=$state/log EASYSKS_SOCKET=$H/run/easysks/easysks.sock \
            EASYSKS_WEB_ROOT=$H/var/www/easysks EASYSKS_MEDIA_ROOT=$REL/data/sks/images \
            TLS_CERT=$H/run/easysks-nginx/tls/cert.pem TLS_KEY=$H/run/easysks-nginx/tls/key.pem \
            EASYSKS_BIND=127.0.0.1 EASYSKS_HTTPS_PORT=$HTTPS_PORT EASYSKS_HTTP_PORT=$HTTP_PORT EASYSKS_STATUS_PORT=$status_port \
            EASYSKS_ENV=staging
        if [ "$(id -u)" -eq 0 ]; then export NGINX_USER_DIRECTIVE="user www-data;"; fi
        "$REL/deploy/render-nginx.sh" "$H/etc/easysks/nginx"
    )
    mkdir -p "$state/nginx/run"
    "$NGINX_BIN" -t -q -p "$H/etc/easysks/nginx" -c "$H/etc/easysks/nginx/nginx.conf" -e "$state/log/error.log"
    "$NGINX_BIN" -p "$H/etc/easysks/nginx" -c "$H/etc/easysks/nginx/nginx.conf" -e "$state/log/error.log"
    # lib.sh's nginx_stop looks for the pid here.
    wait_for 10 "nginx pid" test -s "$H/run/easysks-nginx/nginx.pid"
    ln -sf "$H/run/easysks-nginx/nginx.pid" "$state/nginx/run/nginx.pid"
    wait_for 10 "nginx" curl -sf --cacert "$H/run/easysks-nginx/tls/cert.pem" "https://localhost:$HTTPS_PORT/health"
}

# The web client's files leave compressed, with Vary: Accept-Encoding
# (issue 22: nginx compressed nothing).
check_gzip() {
    local f h
    for f in app.js style.css manifest.json; do
        h=$(curl -sf --cacert "$H/run/easysks-nginx/tls/cert.pem" -H 'Accept-Encoding: gzip' -D - -o "$T/gz.body" \
            "https://localhost:$HTTPS_PORT/$f") || return 1
        grep -qi '^content-encoding: gzip' <<<"$h" || { echo "$f: not compressed"; return 1; }
        grep -qi '^vary: accept-encoding' <<<"$h" || { echo "$f: no Vary: Accept-Encoding"; return 1; }
        gzip -t "$T/gz.body" || return 1
    done
}

run_smoke() {
    SMOKE_CA_FILE=$H/run/easysks-nginx/tls/cert.pem SMOKE_HTTP_URL=http://localhost:$HTTP_PORT \
        SMOKE_COGNITO_ENDPOINT=http://127.0.0.1:$COGNITO_PORT/ SMOKE_CLIENT_ID=$CLIENT_ID \
        SMOKE_USERNAME=$SMOKE_USER SMOKE_PASSWORD=$SMOKE_PASS SMOKE_CERT_MIN_DAYS=14 \
        "$here/smoke.sh" "https://localhost:$HTTPS_PORT"
}

# Rotate the webhook secret (add the new one first), then reload as
# `systemctl reload easysks-fcgi` does: fetch secrets, HUP. The pool must keep
# serving and pick the file up.
do_rotate_reload() {
    local pid i
    set_secret STRIPE_WEBHOOK_SECRETS "whsec_staging_local_two,whsec_staging_local_one"
    fetch_app_secrets
    grep -q whsec_staging_local_two "$H/run/easysks/secrets/STRIPE_WEBHOOK_SECRETS"
    pid=$(cat "$T/pool-state/run/pool.pid")
    kill -HUP "$pid"
    for ((i = 0; i < 20; i++)); do
        curl -sf --cacert "$H/run/easysks-nginx/tls/cert.pem" "https://localhost:$HTTPS_PORT/api/health" >/dev/null
        sleep 0.1
    done
    kill -0 "$pid"
    grep -q reload "$T/pool-state/log/pool.log"
}

echo "# staging rehearsal of $VERSION in $T"
step "dist: release tarball built" do_dist
step "s3: stand-in started with release and frontend buckets" start_s3
step "publish: release and frontend uploaded (re-publish is a no-op)" do_publish
step "host: release fetched from S3, checksum and MANIFEST verified, activated" do_install
check "host: a tampered release directory is refused" check_tamper
step "secrets: Secrets Manager stand-in started" start_secrets
step "database: fresh PostgreSQL cluster" do_database
step "host: secrets.env (ARNs only) and secret values in place" do_host_config
step "migrate: release migrations applied with the master secret (twice: idempotent)" do_migrate
step "cognito: cognito-local pool, client and smoke user" do_cognito
step "pool: release binary running with NAME_FILE secrets, socket 0660 www-data" do_pool
step "frontend: synced from S3 into the web root" do_frontend
step "nginx: rendered from the release, host certificate made by easysks-tls, started" do_nginx
check "nginx: JS, CSS and the manifest are sent gzip-compressed with Vary: Accept-Encoding" check_gzip

smoke_out=$T/logs/smoke.out
run_smoke >"$smoke_out" 2>&1 || true
while IFS= read -r line; do
    case $line in
    'ok - '*) echo "ok - smoke: ${line#ok - }"; passed=$((passed + 1)) ;;
    'not ok - '*) echo "not ok - smoke: ${line#not ok - }"; failed=$((failed + 1)) ;;
    *) echo "# smoke: $line" ;;
    esac
done <"$smoke_out"
if ! grep -q '^ok - \|^not ok - ' "$smoke_out"; then
    echo "not ok - smoke: deploy/smoke.sh produced no checks"
    failed=$((failed + 1))
fi

check "reload: webhook secret rotated, pool reloaded (HUP) and still serving" do_rotate_reload
check "lock: roll.sh sets the release of an empty group under the deploy lock; a held lock refuses it; --break-lock" do_lock

if why=$(host_can_boot); then
    if run_step "boot: container booted with systemd (nspawn on an overlay of this machine)" 30 do_boot &&
        run_step "cloud-init: template-rendered user data through init and config stages without errors (users, files, runcmd)" 30 do_cloud_init &&
        run_step "bootstrap: runcmd via scripts_user: agents installed from .deb, release from S3, units started" 40 do_scripts_user; then
        check "bootstrap: lifecycle hook completed once, with CONTINUE, after /api/health answered 200" check_lifecycle
        check "systemd: SSM agent, IMDS guard, pool, job process and nginx active; pool and jobs as easysks with 0400 secrets, no master secret" check_services
        check "host: /api/health answers 200 and /config.json names the app client, through the booted host's nginx" check_host_readiness
        check "pool watch: BusyWorkersPercent published for the group's target tracking" check_pool_watch
        check "reload: systemctl reload keeps the socket reachable; reload-or-restart starts a stopped pool" check_reload
        check "migrate: migrate.sh's remote commands under sh (dash) start easysks-migrate@VERSION as easysks-migrate" check_migrate_sh sh
        check "migrate: the same commands under bash" check_migrate_sh bash
        check "recovery: the pool started without DATABASE_URL comes back by itself once it has a value" check_recovery
        check "bootstrap: a host whose release parameter holds no release abandons its launch" check_abandon
        check "imds: the service users cannot reach 169.254.169.254, root can (rule in a private netns)" check_imds
    else
        tail -n 40 "$T/logs/nspawn.log" 2>/dev/null | sed 's/^/#   nspawn: /'
        hx tail -n 25 /var/log/cloud-init-output.log 2>/dev/null | sed 's/^/#   cloud-init-output: /'
        hx journalctl -u easysks-fcgi -u easysks-nginx -u easysks-imds-guard --no-pager -n 30 2>/dev/null | sed 's/^/#   journal: /'
        hx tail -n 10 /var/log/easysks/app.log 2>/dev/null | sed 's/^/#   app.log: /'
        hx tail -n 3 /var/log/easysks/error.log 2>/dev/null | sed 's/^/#   nginx error.log: /'
        hx ls -la /run/easysks 2>/dev/null | sed 's/^/#   \/run\/easysks: /'
    fi
else
    echo "ok - boot: container booted with systemd # SKIP $why"
    passed=$((passed + 1))
fi
check "logs: no secret value in any log or output" check_no_leaks
if [ "$failed" -gt 0 ]; then
    for f in "$T/pool-state/log/pool.log" "$T/nginx-state/log/error.log"; do
        [ -s "$f" ] || continue
        echo "# --- tail of $f"
        tail -n 15 "$f" | sed 's/^/#   /'
    done
fi
summary
