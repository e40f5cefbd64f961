#!/usr/bin/env bash
# Offline checks of the deploy files: shellcheck, systemd units, cloud-init
# shellcheck disable=SC2016 # bash -c snippets are single-quoted on purpose
# user data, the release tarball. TAP lines, then "N passed, M failed".
#
#   tests/deploy/check.sh
#
# systemd-analyze verify needs every Exec*= path to exist: the units are
# copied into a temporary root (with the distribution's own units for
# sysinit.target & co. and executable stubs at the absolute paths they name)
# and verified with --root; any message counts as a failure, because verify
# exits 0 on unknown keys and bad values. Works as root and as a user, no
# running systemd needed. The user data is rendered like Terraform's
# templatefile() would (tests/deploy/render-tftpl.mjs, sample values in
# tests/deploy/user-data.vars.json) and validated with `cloud-init schema`.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root" || exit 1
T=$(mktemp -d "${TMPDIR:-/tmp}/easysks-deploy-check.XXXXXX")
trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3 # Debian's, with PyYAML (cloud-init depends on it)

passed=0
failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() {
    echo "not ok - $1"
    failed=$((failed + 1))
    [ ! -s "${2:-/dev/null}" ] || sed 's/^/#   /' "$2" | head -n 40
}
# t NAME COMMAND...: ok when the command succeeds.
t() {
    local name=$1
    shift
    if "$@" >"$T/out" 2>&1; then ok "$name"; else not_ok "$name" "$T/out"; fi
}

scripts=(deploy/dist.sh deploy/smoke.sh deploy/staging-local.sh deploy/staging-local-host.sh deploy/host/*.sh deploy/aws/*.sh tests/deploy/check.sh)
for s in "${scripts[@]}"; do
    t "shellcheck $s" shellcheck -x "$s"
done
bad=()
for s in "${scripts[@]}"; do
    case $s in deploy/aws/common.sh | deploy/staging-local-host.sh) continue ;; esac # sourced: the caller's mode
    head -n1 "$s" | grep -q '^#!/usr/bin/env bash$' || bad+=("$s: shebang")
    grep -Eq '^set -(eu|u)o pipefail' "$s" || bad+=("$s: set -euo pipefail")
done
if [ ${#bad[@]} -eq 0 ]; then ok "every deploy script has a bash shebang and strict mode"; else
    printf '%s\n' "${bad[@]}" >"$T/out"; not_ok "every deploy script has a bash shebang and strict mode" "$T/out"; fi
t "node --check on the test tools" bash -c 'node --check tests/deploy/render-tftpl.mjs && node --check tests/deploy/aws-stub.mjs'

# --- systemd units -------------------------------------------------------------
vr=$T/root
mkdir -p "$vr/etc/systemd/system" "$vr/usr/lib/systemd"
cp -a /usr/lib/systemd/system "$vr/usr/lib/systemd/" 2>/dev/null || cp -a /lib/systemd/system "$vr/usr/lib/systemd/"
cp deploy/systemd/*.service "$vr/etc/systemd/system/"
# Stubs for every absolute executable the units name (%i -> a sample version).
grep -ho '^Exec[A-Za-z]*=[-+!@:]*/[^ ]*' deploy/systemd/*.service | sed 's/^[^=]*=[-+!@:]*//; s/%i/v1/g' | sort -u |
    while read -r exe; do
        mkdir -p "$vr$(dirname "$exe")"
        printf '#!/bin/sh\n' >"$vr$exe"
        chmod 0755 "$vr$exe"
    done
verify() {
    local out
    out=$(systemd-analyze verify --root="$vr" "$@" 2>&1)
    local rc=$?
    [ -z "$out" ] || echo "$out"
    [ $rc -eq 0 ] && [ -z "$out" ]
}
for u in deploy/systemd/*.service; do
    name=$(basename "$u")
    inst=${name/@.service/@v1.service}
    t "systemd-analyze verify $name" verify "$vr/etc/systemd/system/$inst"
done
sed 's/^KillMode=mixed/KilMode=mixed/' deploy/systemd/easysks-fcgi.service >"$vr/etc/systemd/system/broken.service"
if verify "$vr/etc/systemd/system/broken.service" >/dev/null 2>&1; then
    not_ok "self-test: a unit with an unknown key fails verification"
else
    ok "self-test: a unit with an unknown key fails verification"
fi
t "easysks-fcgi.service: graceful stop outlasts EASYSKS_GRACEFUL_TIMEOUT (30 s)" bash -c \
    '[ "$(sed -n "s/^TimeoutStopSec=//p" deploy/systemd/easysks-fcgi.service)" -gt 30 ]'
t "easysks-fcgi.service: no restart loop on a configuration error (78)" \
    grep -qx 'RestartPreventExitStatus=78' deploy/systemd/easysks-fcgi.service
# Issue 14, blocker 4: a unit that failed while a secret had no value yet must
# come back by itself once the value is put (a start limit would leave it
# failed for good, and `reload` does nothing on an inactive unit).
for u in easysks-fcgi easysks-nginx easysks-jobs; do
    t "$u.service: retried forever (Restart=always, StartLimitIntervalSec=0)" bash -c \
        "grep -qx 'Restart=always' deploy/systemd/$u.service && grep -qx 'StartLimitIntervalSec=0' deploy/systemd/$u.service"
done
# Secrets are fetched as root ("+"), into directories of the service user;
# the service users cannot reach the instance metadata service.
t "secret fetches run as root, the services as their own users" bash -c \
    "grep -q '^ExecStartPre=+/opt/easysks/current/bin/easysks-fetch-secrets --owner easysks ' deploy/systemd/easysks-fcgi.service &&
     grep -q '^ExecStartPre=+.*easysks-fetch-secrets --env-file /etc/easysks/migrate-secrets.env --owner easysks-migrate ' deploy/systemd/easysks-migrate@.service &&
     grep -qx 'User=easysks' deploy/systemd/easysks-fcgi.service && grep -qx 'User=easysks-migrate' deploy/systemd/easysks-migrate@.service"
t "the pool, nginx, the job process and the migrator require the IMDS guard" bash -c \
    'for u in easysks-fcgi easysks-nginx easysks-jobs easysks-migrate@; do grep -q "^Requires=.*easysks-imds-guard.service" deploy/systemd/$u.service || exit 1; done'
# The job process (AI grading): its own runtime directory (a unit's goes away
# when it stops), the secrets it needs fetched as root, the key optional, a
# stop that outlasts a model call in hand, and started by the bootstrap.
t "easysks-jobs.service: secrets fetched as root into its own directory, the key optional" bash -c \
    "grep -qx 'User=easysks' deploy/systemd/easysks-jobs.service &&
     grep -qx 'RuntimeDirectory=easysks-jobs' deploy/systemd/easysks-jobs.service &&
     grep -q '^ExecStartPre=+/opt/easysks/current/bin/easysks-fetch-secrets --owner easysks --dest /run/easysks-jobs/secrets .*--only DATABASE_URL,OPENAI_API_KEY --optional OPENAI_API_KEY$' deploy/systemd/easysks-jobs.service &&
     grep -qx 'RestartPreventExitStatus=78' deploy/systemd/easysks-jobs.service"
t "easysks-jobs.service: graceful stop outlasts a model call in hand (AI_JOB_TIMEOUT_MS 30 s + 5 s)" bash -c \
    '[ "$(sed -n "s/^TimeoutStopSec=//p" deploy/systemd/easysks-jobs.service)" -gt 35 ]'
t "the bootstrap enables and starts easysks-jobs" bash -c \
    "grep -q '^systemctl enable .*easysks-fcgi.service' deploy/host/bootstrap.sh &&
     grep -A1 '^systemctl enable ' deploy/host/bootstrap.sh | grep -q 'easysks-jobs.service' &&
     grep -q '^systemctl start --no-block .*easysks-jobs.service' deploy/host/bootstrap.sh"
t "the IMDS guard blocks easysks, easysks-migrate and www-data" \
    grep -q 'meta skuid { "easysks", "easysks-migrate", "www-data" } ip daddr 169.254.169.254' deploy/systemd/easysks-imds.nft

# --- TLS (issue 14, blocker 3): nothing to fetch, nothing to fail ------------------
tls_fresh() {
    deploy/host/tls.sh "$T/tls" 2>/dev/null &&
        openssl x509 -in "$T/tls/cert.pem" -noout -checkend 86400 >/dev/null &&
        [ "$(stat -c %a "$T/tls/key.pem")" = 400 ] &&
        ! grep -q 'secretsmanager\|fetch-secrets' deploy/host/tls.sh
}
tls_kept() {
    local a
    a=$(sha256sum <"$T/tls/cert.pem")
    deploy/host/tls.sh "$T/tls" 2>/dev/null && [ "$a" = "$(sha256sum <"$T/tls/cert.pem")" ]
}
t "easysks-tls makes the host certificate without any secret" tls_fresh
t "easysks-tls keeps a valid certificate across restarts" tls_kept
t "no TLS secret anywhere (the public certificate is ACM's)" bash -c \
    "! grep -rn 'TLS_CERT_PEM\|TLS_KEY_PEM\|tls-cert-pem' deploy/systemd deploy/host deploy/cloud-init terraform"

# --- migrate.sh's remote commands (issue 14, blocker 2) ----------------------------
# AWS-RunShellScript runs them with /bin/sh (dash): they must parse there and
# hand the script to bash; deploy/staging-local.sh runs them for real under
# sh and bash on a booted host.
remote_commands_posix() {
    local c=$T/migrate-commands.sh
    deploy/aws/migrate.sh --print-commands --version v1.2.3 --timeout 600 >"$c" || return 1
    dash -n "$c" &&
        grep -qx '/bin/bash "$script" v1.2.3 600' "$c" &&
        ! sed "/<<'EASYSKS_REMOTE'/,/^EASYSKS_REMOTE\$/d" "$c" | grep -q pipefail
}
t "migrate.sh --print-commands: POSIX sh (dash -n) that runs the script with /bin/bash" remote_commands_posix

# admin.sh: what an operator types reaches easysks-admin as arguments,
# never as shell: decode the encoded arguments the way the host script does.
admin_commands_safe() {
    local c=$T/admin-commands.sh evil='x"; touch /tmp/pwned-$$; echo "' got
    EASYSKS_OPERATOR=ops deploy/aws/admin.sh --print-commands -- grant-premium --sub abc \
        --until 2027-01-31 --reason "$evil" >"$c" || return 1
    dash -n "$c" || return 1
    got=$(sed -n 's|^/bin/bash "$script" ||p' "$c")
    [[ $got =~ ^[A-Za-z0-9+/=]+$ ]] || return 1
    mapfile -d '' argv < <(printf %s "$got" | base64 -d)
    [ "${argv[0]}" = ops ] && [ "${argv[1]}" = grant-premium ] && [ "${argv[7]}" = "$evil" ] &&
        [ ! -e "/tmp/pwned-$$" ]
}
t "admin.sh --print-commands: POSIX sh; arguments arrive intact, base64-encoded" admin_commands_safe

# --- cloud-init user data -------------------------------------------------------
tpl=deploy/cloud-init/user-data.yaml.tftpl
ud=$T/user-data.yaml
# The scripts Terraform embeds (file() of deploy/host/<name>.sh).
jq --rawfile a deploy/host/install-agents.sh --rawfile b deploy/host/bootstrap.sh \
    --rawfile c deploy/host/install-release.sh \
    '. + {scripts: {"easysks-install-agents": $a, "easysks-bootstrap": $b, "easysks-install-release": $c}}' \
    tests/deploy/user-data.vars.json >"$T/vars.json"
t "user data renders like templatefile() with sample values" \
    bash -c "node tests/deploy/render-tftpl.mjs $tpl $T/vars.json >$ud"
t "cloud-init schema accepts the rendered user data" cloud-init schema --config-file "$ud"
t "gzip-compressed user data (base64gzip) stays under EC2's 16 KiB limit" \
    bash -c "[ \$(gzip -9 -n -c $ud | base64 -w0 | wc -c) -lt 16384 ]"
jq 'del(.log_groups)' "$T/vars.json" >"$T/vars-missing.json"
if node tests/deploy/render-tftpl.mjs "$tpl" "$T/vars-missing.json" >/dev/null 2>&1; then
    not_ok "self-test: rendering without a template variable fails"
else
    ok "self-test: rendering without a template variable fails"
fi
template_vars_match() {
    diff <(sed -n '/user_data = base64gzip(templatefile/,/^  }))/p' terraform/modules/app/main.tf |
        sed -n 's/^    \([a-z_]*\) *= .*/\1/p' | sort) <(jq -r 'keys[]' "$T/vars.json" | sort)
}
t "the sample values have exactly the template variables Terraform passes" template_vars_match
t "user data holds no secret values (only ARNs) and no release version" bash -c \
    "! grep -nE 'whsec_|sk_(live|test)_|BEGIN [A-Z ]*PRIVATE KEY|password=|postgres(ql)?://[^ ]*:[^ ]*@|release_version=' $ud"
# The embedded scripts and the runcmd order, as cloud-init will see them.
$PY - "$ud" "$T" <<'PY' >"$T/extract.out" 2>&1
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
for f in doc["write_files"]:
    if f["path"].startswith("/usr/local/sbin/"):
        open(sys.argv[2] + "/" + f["path"].rsplit("/", 1)[1], "w").write(f["content"])
open(sys.argv[2] + "/runcmd", "w").write("\n".join(" ".join(c) for c in doc["runcmd"]) + "\n")
open(sys.argv[2] + "/packages", "w").write("\n".join(doc["packages"]) + "\n")
open(sys.argv[2] + "/users", "w").write("\n".join(u["name"] for u in doc["users"] if isinstance(u, dict)) + "\n")
PY
for s in install-agents bootstrap install-release; do
    t "embedded easysks-$s is deploy/host/$s.sh byte for byte" diff -u "deploy/host/$s.sh" "$T/easysks-$s"
done
# Issue 14, blocker 1: the official Debian image has no SSM agent; without it
# migrate.sh, port forwards and fleet commands cannot reach a host.
agents_first() {
    printf '/usr/local/sbin/easysks-install-agents\n/usr/local/sbin/easysks-bootstrap\n' | cmp -s - "$T/runcmd" &&
        grep -q '^if install_deb amazon-ssm-agent ' "$T/easysks-install-agents" &&
        grep -q '^install_deb amazon-cloudwatch-agent ' "$T/easysks-install-agents" &&
        grep -q '^ *EASYSKS_SSM_AGENT_URL=https://s3.eu-central-1.amazonaws.com/amazon-ssm-eu-central-1/' "$ud"
}
t "runcmd installs the agents (SSM, CloudWatch) before the bootstrap runs" agents_first
t "the bootstrap refuses to admit a host without a running SSM agent" \
    grep -q 'systemctl is-active --quiet amazon-ssm-agent.service' "$T/easysks-bootstrap"
t "user data creates the service users easysks and easysks-migrate" \
    bash -c "grep -qx easysks $T/users && grep -qx easysks-migrate $T/users"
if [ -n "$(find /var/lib/apt/lists -name '*_Packages' -print -quit 2>/dev/null)" ]; then
    packages_exist() {
        local p
        while read -r p; do
            apt-cache show "$p" >/dev/null 2>&1 || { echo "unknown package $p"; return 1; }
        done <"$T/packages"
    }
    t "every package the user data installs exists in Debian (apt-cache)" packages_exist
else
    ok "every package the user data installs exists in Debian # SKIP no apt lists (apt-get update)"
fi
t "cloudwatch-agent.json is JSON with the placeholders the bootstrap fills in" bash -c \
    'jq -e . deploy/cloudwatch-agent.json >/dev/null && for p in LOG_GROUP_APP LOG_GROUP_NGINX_ACCESS LOG_GROUP_NGINX_ERROR METRICS_NAMESPACE ASG_NAME; do grep -q "__${p}__" deploy/cloudwatch-agent.json && grep -q "__${p}__" deploy/host/bootstrap.sh || exit 1; done'

# --- issue 22: the first apply and the first month -------------------------------
AWSENV=(env AWS_ACCESS_KEY_ID=stub AWS_SECRET_ACCESS_KEY=stub AWS_DEFAULT_REGION=us-east-1
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true AWS_PAGER=)
start_stub() { # start_stub SECRETS.json: Secrets Manager + SSM stand-in; sets STUB_URL, STUB_PID
    rm -f "$T/stub.port"
    node tests/deploy/aws-stub.mjs "$1" "$T/stub.port" >"$T/stub.log" 2>&1 &
    STUB_PID=$!
    for _ in $(seq 1 50); do [ -s "$T/stub.port" ] && break; sleep 0.1; done
    STUB_URL=http://127.0.0.1:$(cat "$T/stub.port")
}
a_arn() { echo "arn:aws:secretsmanager:us-east-1:000000000000:secret:easysks/check/$1"; }

# 3: an optional secret scheduled for deletion is "off", not a dead host; a
# required one still fails.
fetch_deleted_optional() {
    local d=$T/fs rc=0
    mkdir -p "$d"
    jq -n --arg a "$(a_arn A)" --arg o "$(a_arn OPT)" --arg r "$(a_arn REQ)" \
        '{($a): "value-a", ($o): {deleted: true}, ($r): {deleted: true}}' >"$d/secrets.json"
    start_stub "$d/secrets.json"
    printf 'DATABASE_URL=%s\nOPENAI_API_KEY=%s\n' "$(a_arn A)" "$(a_arn OPT)" >"$d/opt.env"
    printf 'DATABASE_URL=%s\nSTRIPE_API_KEY=%s\n' "$(a_arn A)" "$(a_arn REQ)" >"$d/req.env"
    "${AWSENV[@]}" AWS_CLI=/usr/bin/aws deploy/host/fetch-secrets.sh --env-file "$d/opt.env" --dest "$d/out1" \
        --endpoint-url "$STUB_URL" --only DATABASE_URL,OPENAI_API_KEY --optional OPENAI_API_KEY || rc=1
    [ "$rc" = 0 ] && [ "$(cat "$d/out1/DATABASE_URL")" = value-a ] && [ ! -e "$d/out1/OPENAI_API_KEY" ] || rc=1
    if "${AWSENV[@]}" AWS_CLI=/usr/bin/aws deploy/host/fetch-secrets.sh --env-file "$d/req.env" --dest "$d/out2" \
        --endpoint-url "$STUB_URL"; then
        echo "a required secret marked for deletion was accepted"; rc=1
    fi
    kill "$STUB_PID" 2>/dev/null
    return "$rc"
}
t "fetch-secrets: an optional secret marked for deletion is skipped, a required one fails (22.3)" fetch_deleted_optional
t "terraform: ai_enabled = false keeps the OpenAI key's secret from the hosts (22.3)" \
    grep -q 'if var.ai_enabled || name != "OPENAI_API_KEY"' terraform/modules/stack/main.tf

# 4 and 14: the pool watch publishes the busy share and marks a host whose
# pool stops answering Unhealthy, but only once the pool had answered.
pool_watch() {
    local d=$T/pw port srv n
    mkdir -p "$d/www"
    printf '#!/bin/sh\necho "$*" >>%s/aws.log\n' "$d" >"$d/aws"
    chmod +x "$d/aws"
    echo i-0check >"$d/instance-id"
    printf 'EASYSKS_METRICS_NAMESPACE=EasySKS/Host\nEASYSKS_ASG_NAME=easysks-check\nAWS_CLI=%s/aws\n' "$d" >"$d/host.env"
    echo '{"workers_target":8,"workers":{"starting":0,"idle":2,"busy":6,"exiting":0}}' >"$d/www/status"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    python3 -m http.server --bind 127.0.0.1 --directory "$d/www" "$port" >/dev/null 2>&1 &
    srv=$!
    for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/status" && break; sleep 0.1; done
    run() { EASYSKS_HOST_ENV=$d/host.env EASYSKS_INSTANCE_ID_FILE=$d/instance-id EASYSKS_WATCH_FAILURES=3 \
        EASYSKS_STATUS_URL=http://127.0.0.1:$port/status deploy/host/pool-watch.sh --once --state "$1" 2>/dev/null; }
    # Never answered: no replacement however long.
    kill "$srv"; wait "$srv" 2>/dev/null
    for _ in 1 2 3 4 5; do run "$d/fresh.state"; done
    if grep -q set-instance-health "$d/aws.log" 2>/dev/null; then echo "replaced a host that never answered"; return 1; fi
    python3 -m http.server --bind 127.0.0.1 --directory "$d/www" "$port" >/dev/null 2>&1 &
    srv=$!
    for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/status" && break; sleep 0.1; done
    run "$d/s.state"
    kill "$srv"; wait "$srv" 2>/dev/null
    grep -qx 'cloudwatch put-metric-data --namespace EasySKS/Host --metric-name BusyWorkersPercent --unit Percent --value 75.0 --dimensions AutoScalingGroupName=easysks-check' "$d/aws.log" ||
        { cat "$d/aws.log"; return 1; }
    run "$d/s.state"; run "$d/s.state"
    if grep -q set-instance-health "$d/aws.log"; then echo "marked after 2 failures"; return 1; fi
    run "$d/s.state"; run "$d/s.state"
    n=$(grep -c 'autoscaling set-instance-health --instance-id i-0check --health-status Unhealthy' "$d/aws.log")
    [ "$n" = 1 ] || { echo "set-instance-health $n times"; return 1; }
}
t "pool watch: BusyWorkersPercent from the scoreboard; a hung pool marks the host Unhealthy once (22.4, 22.14)" pool_watch
t "the bootstrap enables and starts easysks-pool-watch; its unit verifies (22.4)" bash -c \
    "grep -A1 '^systemctl enable ' deploy/host/bootstrap.sh | grep -q easysks-pool-watch.service &&
     grep -A1 '^systemctl start --no-block ' deploy/host/bootstrap.sh | grep -q easysks-pool-watch.service &&
     grep -qx 'ExecStart=/opt/easysks/current/bin/easysks-pool-watch' deploy/systemd/easysks-pool-watch.service"

# 5: a release that fails smoke goes back to the one before, under the lock.
deploy_smoke_rollback() {
    local d=$T/dr rc=0 s
    mkdir -p "$d/aws"
    cp deploy/aws/deploy.sh deploy/aws/common.sh "$d/aws/"
    for s in publish migrate roll rollback; do
        printf '#!/bin/sh\necho "%s $*" >>%s/steps.log\n' "$s" "$d" >"$d/aws/$s.sh"
        chmod +x "$d/aws/$s.sh"
    done
    printf '#!/bin/sh\necho "smoke $*" >>%s/steps.log\nexit "${SMOKE_RC:-1}"\n' "$d" >"$d/smoke.sh"
    chmod +x "$d/smoke.sh"
    echo '{}' >"$d/secrets.json"
    echo '{"/easysks/staging/release_version":{"value":"v1","version":1}}' >"$d/secrets.json.params"
    start_stub "$d/secrets.json"
    if "${AWSENV[@]}" AWS_CLI=/usr/bin/aws "$d/aws/deploy.sh" --env staging --version v2 --url https://x.test \
        --release-bucket rb --frontend-bucket fb --endpoint-url "$STUB_URL" >"$d/out" 2>&1; then
        echo "deploy.sh exited 0 after a failed smoke"; rc=1
    fi
    grep -q "^rollback --env staging --to v1 --endpoint-url $STUB_URL\$" "$d/steps.log" || rc=1
    grep -q '"/easysks/staging/deploy_lock"' "$d/secrets.json.params" && { echo "lock left behind"; rc=1; }
    : >"$d/steps.log"
    SMOKE_RC=0 "${AWSENV[@]}" AWS_CLI=/usr/bin/aws "$d/aws/deploy.sh" --env staging --version v2 --url https://x.test \
        --release-bucket rb --frontend-bucket fb --endpoint-url "$STUB_URL" >>"$d/out" 2>&1 || rc=1
    grep -q '^rollback' "$d/steps.log" && { echo "rolled back after a passing smoke"; rc=1; }
    kill "$STUB_PID" 2>/dev/null
    [ "$rc" = 0 ] || { cat "$d/steps.log" "$d/out"; }
    return "$rc"
}
t "deploy.sh: a failed smoke rolls back to the previous release under the same lock and exits 1 (22.5)" deploy_smoke_rollback

# 6: the browser's Cognito API and the CSP follow the pool's region (its issuer).
t "bootstrap: CSP and /config.json from AUTH_ISSUER, not the host's region (22.6)" bash -c \
    "! grep -q 'cognito-idp\.\$AWS_REGION' deploy/host/bootstrap.sh &&
     grep -q \"EASYSKS_CSP_CONNECT_SRC=\\\"'self' \\\$auth_origin\\\"\" deploy/host/bootstrap.sh &&
     grep -q 'AUTH_CLIENT_ENDPOINT=\"\$auth_origin/\"' deploy/host/bootstrap.sh"

# 8 and 9: releases come from a Debian 12 amd64 machine and carry the RDS CA.
printf 'ID=ubuntu\nVERSION_ID="22.04"\n' >"$T/os-release-ubuntu"
t "dist.sh refuses a build machine other than Debian 12 amd64 (22.8)" bash -c \
    "! EASYSKS_OS_RELEASE=$T/os-release-ubuntu deploy/dist.sh 2>$T/dist-os.err && grep -q 'Debian 12 amd64' $T/dist-os.err &&
     ! EASYSKS_DIST_ARCH=arm64 deploy/dist.sh 2>/dev/null"
t "dist.sh refuses to build without the RDS CA bundle (22.9)" bash -c \
    "! EASYSKS_RDS_CA_BUNDLE=$T/no-such-bundle.pem deploy/dist.sh 2>$T/dist-ca.err && grep -q 'no RDS CA bundle' $T/dist-ca.err"
t "bootstrap: the release's RDS CA first, a failed boot without any (22.9)" bash -c \
    "grep -q 'if \[ -s \"\$rel/rds-ca.pem\" \]' deploy/host/bootstrap.sh &&
     grep -A1 'no RDS CA bundle' deploy/host/bootstrap.sh | grep -q 'exit 1'"

# 12 and 20: envsubst and the clock on the host.
t "user data installs gettext-base, the package of the envsubst render-nginx.sh runs (22.12)" bash -c \
    "grep -qx gettext-base $T/packages && grep -q '^envsubst ' deploy/render-nginx.sh &&
     dpkg -S \"\$(command -v envsubst)\" | grep -q '^gettext-base:'"
t "user data: chrony on the Amazon Time Sync Service 169.254.169.123 (22.20)" bash -c \
    "grep -qx chrony $T/packages && $PY -c '
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
f = [w for w in doc[\"write_files\"] if w[\"path\"] == \"/etc/chrony/sources.d/aws.sources\"]
sys.exit(0 if f and \"server 169.254.169.123 prefer iburst\" in f[0][\"content\"] else 1)' $ud"

# 15: heartbeats keep a slow boot inside the hook's timeout.
t "bootstrap: lifecycle heartbeats while it works, stopped when it ends (22.15)" bash -c \
    "grep -q 'autoscaling record-lifecycle-action-heartbeat' $T/easysks-bootstrap &&
     grep -q '^heartbeat &' $T/easysks-bootstrap && grep -q 'kill \"\$hb_pid\"' $T/easysks-bootstrap"

# 17: compression (the real nginx is checked by make staging-local).
t "nginx: gzip for JS, CSS, JSON and the manifest with Vary (22.17)" bash -c \
    "grep -qx '    gzip on;' nginx/nginx.conf.tmpl && grep -qx '    gzip_vary on;' nginx/nginx.conf.tmpl &&
     for m in text/css application/javascript application/json application/manifest+json; do
         grep '^    gzip_types ' nginx/nginx.conf.tmpl | grep -qw \"\$m\" || exit 1; done"

# 19: what the deploy scripts call, the deployer policy allows; plans and
# values stay out of git.
deployer_covers_scripts() {
    $PY - <<'PY'
import re, glob, sys
calls = set()
for f in glob.glob("deploy/aws/*.sh"):
    calls |= set(re.findall(r"\bawsc +([a-z0-9-]+) +([a-z0-9-]+)", open(f).read()))
skip = {("sts", "get-caller-identity"), ("rds", "wait"), ("s3", "cp"), ("s3", "sync")}
text = open("terraform/modules/app/main.tf").read()
doc = text[text.index('data "aws_iam_policy_document" "deployer"'):text.index('resource "aws_iam_policy" "deployer"')]
missing = []
for svc, op in sorted(calls - skip):
    action = svc + ":" + "".join(w.capitalize() for w in op.split("-"))
    action = action.replace("Db", "DB")
    if '"%s"' % action not in doc:
        missing.append(action)
print("\n".join(missing))
sys.exit(1 if missing else 0)
PY
}
t "the deployer policy allows every AWS call of deploy/aws/*.sh (admin.sh: cognito-idp:ListUsers) (22.19)" deployer_covers_scripts
t ".gitignore keeps tfplan and terraform.tfvars out (22.19)" bash -c \
    "[ \"\$(git check-ignore terraform/envs/prod/tfplan terraform/envs/staging/terraform.tfvars | wc -l)\" = 2 ]"

# 21: names come from Terraform's outputs, not from a copy of its naming.
tf_outputs_names() {
    echo '{"asg_name":"easysks-x-asg","db_identifier":"easysks-x-db","release_bucket":"rb-x"}' >"$T/outputs.json"
    [ "$(EASYSKS_TF_OUTPUTS=$T/outputs.json bash -c '. deploy/aws/common.sh; asg_default staging')" = easysks-x-asg ] &&
        [ "$(EASYSKS_TF_OUTPUTS=$T/outputs.json bash -c '. deploy/aws/common.sh; db_default staging')" = easysks-x-db ] &&
        ! EASYSKS_TF_OUTPUTS=$T/outputs.json bash -c '. deploy/aws/common.sh; tf_output staging frontend_bucket' 2>/dev/null &&
        ! grep -nE 'easysks-\$\{?env|easysks-\$1' deploy/aws/*.sh
}
t "deploy scripts read resource names from the Terraform outputs (22.21)" tf_outputs_names

# --- the release tarball -----------------------------------------------------------
if [ -x build/easysks-fcgi ] && [ -x build/easysks-migrate ] && [ -x build/easysks-jobs ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=check-rds-ca \
        -keyout "$T/rds-ca.key" -out "$T/rds-ca.pem" 2>/dev/null
    export EASYSKS_RDS_CA_BUNDLE=$T/rds-ca.pem
    t "dist.sh builds a release" env EASYSKS_VERSION=check-1 DIST_DIR="$T/d1" deploy/dist.sh
    tb=$T/d1/easysks-check-1.tar.gz
    tar -tzvf "$tb" >"$T/listing" 2>/dev/null
    sed 's/.* \.\//.\//' "$T/listing" >"$T/names"
    missing=()
    for f in ./VERSION ./MANIFEST ./bin/easysks-fcgi ./bin/easysks-migrate ./bin/easysks-jobs \
        ./systemd/easysks-jobs.service ./bin/easysks-fetch-secrets \
        ./bin/easysks-install-release ./bin/easysks-run-migrations ./bin/easysks-sync-frontend \
        ./bin/easysks-tls ./deploy/render-nginx.sh ./nginx/nginx.conf.tmpl ./web/index.html \
        ./systemd/easysks-fcgi.service ./systemd/easysks-nginx.service ./systemd/easysks-migrate@.service \
        ./systemd/easysks-imds-guard.service ./systemd/easysks-imds.nft ./bin/easysks-bootstrap \
        ./cloudwatch-agent.json ./sql/migrations/0001_roles.sql ./data/sks/sks_catalog.json \
        ./rds-ca.pem ./bin/easysks-pool-watch ./systemd/easysks-pool-watch.service; do
        grep -qx -- "$f" "$T/names" || missing+=("$f")
    done
    if [ ${#missing[@]} -eq 0 ]; then ok "tarball holds the release layout"; else echo "missing: ${missing[*]}" >"$T/out"; not_ok "tarball holds the release layout" "$T/out"; fi
    t "tarball entries are owned by 0/0" bash -c "! awk '{print \$2}' $T/listing | grep -v '^0/0$'"
    t "tarball has no top-level directory and no absolute or .. paths" bash -c "! grep -vE '^\./' $T/names && ! grep -q '\.\./' $T/names"
    t ".sha256 matches the tarball" bash -c "cd $T/d1 && sha256sum -c --quiet easysks-check-1.tar.gz.sha256"
    mkdir -p "$T/x"
    t "MANIFEST lists and verifies every file" bash -c "tar -xzf $tb -C $T/x && cd $T/x && sha256sum -c --quiet --strict MANIFEST && [ \$(find . -type f ! -name MANIFEST | wc -l) -eq \$(wc -l <MANIFEST) ] && [ \"\$(cat VERSION)\" = check-1 ]"
    t "the release is reproducible (two builds are byte-identical)" bash -c \
        "EASYSKS_VERSION=check-1 DIST_DIR=$T/d2 deploy/dist.sh >/dev/null && cmp $tb $T/d2/easysks-check-1.tar.gz"
    t "dist.sh refuses a version with unsafe characters" bash -c "! EASYSKS_VERSION='a/b' DIST_DIR=$T/d3 deploy/dist.sh 2>/dev/null"
else
    ok "tarball checks # SKIP build/ has no binaries (run make all)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
