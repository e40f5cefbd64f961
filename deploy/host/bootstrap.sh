#!/usr/bin/env bash
# First boot of a host: install the release, lay out the host, start the
# services, and tell the Auto Scaling group when the host is ready.
#
#   easysks-bootstrap           (cloud-init runs it after easysks-install-agents)
#
# Everything it needs is in /etc/easysks/host.env (written by cloud-init from
# Terraform's values). Its output is in /var/log/cloud-init-output.log, which
# the CloudWatch agent ships.
#
# The release comes from the SSM parameter EASYSKS_RELEASE_PARAMETER and from
# nowhere else: the launch template carries no version, so a release never
# changes it. "none" (a new environment before its first release) fails the
# boot.
#
# Readiness: the launch lifecycle hook EASYSKS_READY_HOOK holds the instance
# in Pending:Wait until this script completes it. CONTINUE once
# https://127.0.0.1/api/health answers 200 (a worker reached the database and
# the schema is current); ABANDON (the instance is terminated, an instance
# refresh does not count it) on any failure or after EASYSKS_READY_TIMEOUT
# seconds, except while a worker answers that the database is not ready
# (schema or login role missing: a first deploy, whose migrations run on a
# host waiting here), which may take up to the hook's own timeout. While it
# works, a heartbeat every third of the hook's timeout keeps the hook from
# timing out under a slow boot (apt, agents, a large release): the limits
# above are this script's own.
set -euo pipefail
# shellcheck source=/dev/null
. "${EASYSKS_HOST_ENV:-/etc/easysks/host.env}"
export AWS_REGION AWS_DEFAULT_REGION AWS_CLI
aws=${AWS_CLI:-/usr/bin/aws}
# Listen settings (host.env may set them; the defaults are the AWS layout).
https_port=${EASYSKS_HTTPS_PORT:-443}
http_port=${EASYSKS_HTTP_PORT:-80}
status_port=${EASYSKS_STATUS_PORT:-8081}

log() { echo "easysks-bootstrap: $*" >&2; }

instance=$(cat /var/lib/cloud/data/instance-id 2>/dev/null || true)

# lifecycle CONTINUE|ABANDON: complete the launch hook (retried; the call is
# what lets the instance into service, or out of it).
lifecycle() {
    local i
    for i in 1 2 3 4 5; do
        if "$aws" autoscaling complete-lifecycle-action --auto-scaling-group-name "$EASYSKS_ASG_NAME" \
            --lifecycle-hook-name "$EASYSKS_READY_HOOK" --instance-id "$instance" \
            --lifecycle-action-result "$1"; then
            log "lifecycle hook $EASYSKS_READY_HOOK: $1"
            return 0
        fi
        sleep $((i * 3))
    done
    log "could not complete the lifecycle hook with $1"
    return 1
}

# heartbeat: record a lifecycle action heartbeat every third of the hook's
# timeout until killed.
heartbeat() {
    while sleep $((EASYSKS_READY_HOOK_TIMEOUT / 3)); do
        "$aws" autoscaling record-lifecycle-action-heartbeat --auto-scaling-group-name "$EASYSKS_ASG_NAME" \
            --lifecycle-hook-name "$EASYSKS_READY_HOOK" --instance-id "$instance" >/dev/null 2>&1 ||
            log "warning: lifecycle heartbeat failed"
    done
}

done_ok=0
hb_pid=
finish() {
    local rc=$?
    [ -z "$hb_pid" ] || kill "$hb_pid" 2>/dev/null || true
    if [ "$done_ok" != 1 ]; then
        log "FAILED (status $rc); abandoning the launch"
        lifecycle ABANDON || true
    fi
}
trap finish EXIT

[ -n "$instance" ] || { log "no instance id from cloud-init"; exit 1; }
log "instance $instance of $EASYSKS_ASG_NAME"
heartbeat &
hb_pid=$!

# Without the SSM agent the deploy cannot reach this host (no SSH).
if [ "${EASYSKS_REQUIRE_SSM_AGENT:-1}" = 1 ] && ! systemctl is-active --quiet amazon-ssm-agent.service; then
    log "amazon-ssm-agent is not running (see easysks-install-agents above)"
    exit 1
fi

version=
for i in 1 2 3 4 5; do
    version=$("$aws" ssm get-parameter --name "$EASYSKS_RELEASE_PARAMETER" \
        --query Parameter.Value --output text) && break
    sleep $((i * 3))
done
if ! [[ $version =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || [ "$version" = none ]; then
    log "$EASYSKS_RELEASE_PARAMETER holds no release ('$version'): publish one and run deploy/aws/roll.sh"
    exit 1
fi
log "release $version"
for i in 1 2 3 4 5; do
    /usr/local/sbin/easysks-install-release --bucket "$EASYSKS_RELEASE_BUCKET" \
        --version "$version" --activate && break
    [ "$i" = 5 ] && { log "cannot install $version"; exit 1; }
    sleep $((i * 5))
done
rel=/opt/easysks/current

install -d -m 0755 /var/log/easysks /var/www /etc/easysks/nginx
install -m 0644 "$rel"/systemd/*.service /etc/systemd/system/
install -m 0644 "$rel/systemd/easysks-imds.nft" /etc/easysks/imds.nft
systemctl daemon-reload

# RDS certificate authorities, for DATABASE_URL's sslrootcert=/etc/easysks/rds-ca.pem:
# the release ships them (deploy/dist.sh); a download is the fallback for an
# older release. Without them every connection fails verify-full, so no
# bundle fails the boot now rather than after the hook's timeout.
if [ -s "$rel/rds-ca.pem" ]; then
    install -m 0644 "$rel/rds-ca.pem" /etc/easysks/rds-ca.pem
elif curl -fsS --retry 5 --max-time 30 -o /etc/easysks/rds-ca.pem.new "$EASYSKS_RDS_CA_URL"; then
    mv /etc/easysks/rds-ca.pem.new /etc/easysks/rds-ca.pem
    chmod 0644 /etc/easysks/rds-ca.pem
else
    log "no RDS CA bundle: not in release $version and not downloadable from $EASYSKS_RDS_CA_URL"
    exit 1
fi

"$rel/bin/easysks-sync-frontend" --bucket "$EASYSKS_FRONTEND_BUCKET" --version "$version" \
    --dest /var/www/easysks

# The user pool's Cognito API (browser sign-in; the CSP's connect-src): the
# origin of AUTH_ISSUER, whose region is the pool's (its id says so), not
# necessarily this host's.
app_setting() { sed -n "s/^$1=//p" /etc/easysks/easysks.env | tail -n 1; }
auth_origin=$(app_setting AUTH_ISSUER | sed -E 's#^(https?://[^/]+).*#\1#')
[[ $auth_origin =~ ^https?://[A-Za-z0-9.:-]+$ ]] || { log "AUTH_ISSUER is not a URL"; exit 1; }

# nginx from the release's templates; Debian's own nginx.service stays off.
systemctl disable --now nginx.service 2>/dev/null || true
systemctl mask nginx.service
NGINX_CONF_DIR=/etc/easysks/nginx NGINX_RUN_DIR=/run/easysks-nginx \
    NGINX_LOG_DIR=/var/log/easysks EASYSKS_SOCKET=/run/easysks/easysks.sock \
    EASYSKS_WEB_ROOT=/var/www/easysks EASYSKS_MEDIA_ROOT=$rel/data/sks/images \
    TLS_CERT=/run/easysks-nginx/tls/cert.pem TLS_KEY=/run/easysks-nginx/tls/key.pem \
    EASYSKS_BIND=${EASYSKS_BIND:-0.0.0.0} EASYSKS_HTTPS_PORT=$https_port EASYSKS_HTTP_PORT=$http_port \
    EASYSKS_STATUS_PORT=$status_port \
    NGINX_USER_DIRECTIVE="user www-data;" EASYSKS_ENV=$EASYSKS_DEPLOY_ENV \
    EASYSKS_CSP_CONNECT_SRC="'self' $auth_origin" \
    "$rel/deploy/render-nginx.sh" /etc/easysks/nginx

# The web client's /config.json: the app client the pool accepts, and the
# pool's Cognito API (what the CSP above allows). nginx serves it from
# outside the web root, so a frontend sync never removes it.
EASYSKS_ENV=$(app_setting EASYSKS_ENV) AUTH_CLIENT_IDS=$(app_setting AUTH_CLIENT_IDS) \
    AUTH_CLIENT_ENDPOINT="$auth_origin/" \
    "$rel/deploy/render-web-config.sh" /etc/easysks/nginx/config.json

# CloudWatch agent (installed by easysks-install-agents): the log groups and
# the group name come from here, so it needs no ec2:DescribeTags.
ctl=/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl
if [ -x "$ctl" ]; then
    sed -e "s|__LOG_GROUP_APP__|$EASYSKS_LOG_GROUP_APP|" \
        -e "s|__LOG_GROUP_NGINX_ACCESS__|$EASYSKS_LOG_GROUP_NGINX_ACCESS|" \
        -e "s|__LOG_GROUP_NGINX_ERROR__|$EASYSKS_LOG_GROUP_NGINX_ERROR|" \
        -e "s|__METRICS_NAMESPACE__|$EASYSKS_METRICS_NAMESPACE|" \
        -e "s|__ASG_NAME__|$EASYSKS_ASG_NAME|" \
        "$rel/cloudwatch-agent.json" >/etc/easysks/cloudwatch-agent.json
    "$ctl" -a fetch-config -m ec2 -s -c file:/etc/easysks/cloudwatch-agent.json
else
    log "WARNING: no CloudWatch agent; logs stay on the host (the no-access-log alarm will fire)"
fi

systemctl enable easysks-imds-guard.service easysks-fcgi.service easysks-nginx.service \
    easysks-jobs.service easysks-pool-watch.service
systemctl start easysks-imds-guard.service
# --no-block: a unit still waiting for a secret value keeps retrying on its
# own (no start limit); readiness below is what decides (the job process,
# AI grading, is not part of it: exams are graded heuristically without it).
systemctl start --no-block easysks-fcgi.service easysks-nginx.service easysks-jobs.service \
    easysks-pool-watch.service

start=$(date +%s)
limit=$EASYSKS_READY_TIMEOUT
while :; do
    code=$(curl -sk -o /run/easysks-ready.json -w '%{http_code}' --max-time 5 \
        "https://127.0.0.1:$https_port/api/health" || true)
    if [ "$code" = 200 ]; then
        log "ready: /api/health answered 200 after $(($(date +%s) - start)) s"
        break
    fi
    if grep -Eq '"status": ?"unavailable"' /run/easysks-ready.json 2>/dev/null; then
        # A worker answers, but the database is not there yet: migrations
        # pending, or (first deploy) the login role the migration step
        # creates. Wait for the deploy's migration step (deploy/aws/migrate.sh)
        # up to the hook's own timeout. A pool or nginx that does not answer
        # at all is this host's (or release's) problem: ready_timeout applies.
        limit=$((EASYSKS_READY_HOOK_TIMEOUT - 60))
    fi
    if [ $(($(date +%s) - start)) -ge "$limit" ]; then
        log "not ready after ${limit}s: /api/health answered ${code:-nothing}: $(head -c 300 /run/easysks-ready.json 2>/dev/null)"
        exit 1
    fi
    sleep 5
done
lifecycle CONTINUE
done_ok=1
