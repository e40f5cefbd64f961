# shellcheck shell=bash
# shellcheck disable=SC2154 # T, S3, SM, VERSION, ... are staging-local.sh's
# The booted host of `make staging-local`, sourced by deploy/staging-local.sh.
#
# A container booted with the real systemd (systemd-nspawn) on a throwaway
# overlay of this machine's root file system (a tmpfs upper layer: nothing
# it does reaches the machine), sharing the machine's network so it reaches
# the rehearsal's stand-ins on 127.0.0.1. In it, as on an EC2 host:
#
#   cloud-init  the user data rendered from deploy/cloud-init/user-data.yaml.tftpl
#               (seeded as a NoCloud datasource with an instance id) goes
#               through `cloud-init init` (users, write_files), the config
#               stage (runcmd) and the final stage's scripts_user, which runs
#               easysks-install-agents (the agents' .deb files from a local
#               HTTP server: stand-in packages with the real names) and
#               easysks-bootstrap: release from S3, units installed, services
#               started by systemd, readiness, lifecycle hook;
#   migrate     migrate.sh's remote commands, run by /bin/sh (dash) and by
#               bash as SSM would, start easysks-migrate@VERSION under systemd;
#   recovery    the pool started while DATABASE_URL has no value comes back
#               by itself once the value is put;
#   IMDS        the nftables rule, loaded in a private network namespace with
#               a stand-in metadata address, refuses the service users.
#
# What is not the real thing: the AWS APIs. /usr/bin/aws in the container is
# a shim that sends s3 to the S3 stand-in, secretsmanager and ssm to the
# Secrets Manager/SSM stand-in, and records autoscaling calls (lifecycle
# hook) in /var/log/easysks-rehearsal-autoscaling.log. The final stage's
# package installation is not run (no mirror in CI; the package list is
# checked against apt-cache by tests/deploy/check.sh), and the IMDS guard
# unit does not load its rule into the machine's shared network namespace
# (a drop-in makes it check the file instead).
#
# Needs root, systemd-nspawn (systemd-container) and overlayfs; without them
# the host checks are reported as skipped, with the reason.

HOSTROOT=
HOST_NSPAWN_PID=
HOST_INIT_PID=
HOST_HTTP_PID=

host_can_boot() {
    [ "$(id -u)" -eq 0 ] || { echo "not root"; return 1; }
    command -v systemd-nspawn >/dev/null || { echo "no systemd-nspawn (Debian package systemd-container)"; return 1; }
    grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
        { echo "no overlayfs"; return 1; }
    return 0
}

# hx COMMAND...: run in the container (its mount, PID, UTS and IPC namespaces).
hx() {
    nsenter -t "$HOST_INIT_PID" -m -p -u -i -- "$@"
}

# The container's init: the child of nspawn (a subreaper) that runs
# systemd. nspawn's first child is a short-lived setup process.
host_init_pid() {
    local p
    [ -n "$HOST_NSPAWN_PID" ] || return 0
    for p in $(ps -o pid= --ppid "$HOST_NSPAWN_PID"); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] && echo "$p"
    done
}

# A pid that is the init of another PID namespace (never one of ours).
is_container_init() {
    [ -n "$1" ] && [ -e "/proc/$1/ns/pid" ] &&
        [ "$(readlink "/proc/$1/ns/pid")" != "$(readlink /proc/self/ns/pid)" ] &&
        [ "$(cat "/proc/$1/comm" 2>/dev/null)" = systemd ]
}

host_cleanup() {
    set +e
    local init=${HOST_INIT_PID:-$(host_init_pid)}
    if is_container_init "$init"; then
        kill -RTMIN+4 "$init" # systemd: power off
    fi
    if [ -n "$HOST_NSPAWN_PID" ]; then
        for _ in $(seq 1 40); do
            kill -0 "$HOST_NSPAWN_PID" 2>/dev/null || break
            sleep 0.25
        done
        kill -KILL "$HOST_NSPAWN_PID" 2>/dev/null
    fi
    # A killed nspawn leaves its container running (the init is reparented):
    # SIGKILL to the init ends its whole PID namespace.
    if is_container_init "$init"; then
        kill -KILL "$init" 2>/dev/null
    fi
    stop_pid "$HOST_HTTP_PID" TERM 5
    if [ -n "$HOSTROOT" ]; then
        umount "$HOSTROOT/root" 2>/dev/null || umount -l "$HOSTROOT/root" 2>/dev/null
        umount "$HOSTROOT" 2>/dev/null || umount -l "$HOSTROOT" 2>/dev/null
    fi
}

# A .deb with the real package name whose contents only stand in.
host_fake_deb() {
    local name=$1 dir=$T/agents/$1
    mkdir -p "$dir/DEBIAN"
    printf 'Package: %s\nVersion: 0.0-rehearsal\nArchitecture: all\nMaintainer: EasySKS rehearsal <ops@easysks.invalid>\nDescription: stand-in for %s\n' \
        "$name" "$name" >"$dir/DEBIAN/control"
    case $name in
    amazon-ssm-agent)
        mkdir -p "$dir/usr/lib/systemd/system"
        printf '[Unit]\nDescription=stand-in SSM agent\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n' \
            >"$dir/usr/lib/systemd/system/amazon-ssm-agent.service"
        ;;
    amazon-cloudwatch-agent)
        mkdir -p "$dir/opt/aws/amazon-cloudwatch-agent/bin"
        printf '#!/bin/sh\necho "$*" >>/var/log/easysks-rehearsal-cwagent.log\n' \
            >"$dir/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"
        chmod 0755 "$dir/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"
        ;;
    esac
    dpkg-deb --root-owner-group -b "$dir" "$T/agents/www/$name.deb" >/dev/null
}

# The deploy lock around roll.sh, with an AWS CLI shim answering the Auto
# Scaling group's description with no instances (a first deploy): roll.sh
# only sets the release parameter, under the lock; a lock held by someone
# else refuses it; deploy.sh --break-lock removes it.
do_lock() {
    local shim=$T/aws-deployer
    cat >"$shim" <<SHIM
#!/bin/sh
for a in "\$@"; do
    case \$a in
    ssm) exec "$AWS" --endpoint-url "$SM" "\$@" ;;
    autoscaling) echo 0; exit 0 ;;
    esac
done
echo "aws-deployer shim: no stand-in for: \$*" >&2
exit 1
SHIM
    chmod 0755 "$shim"
    local out=$T/logs/lock.out
    AWS_CLI=$shim "$here/aws/roll.sh" --env staging --version "$VERSION" --asg easysks-staging-local
    [ "$("$AWS" --endpoint-url "$SM" ssm get-parameter --name /easysks/staging/release_version \
        --query Parameter.Value --output text)" = "$VERSION" ]
    # Released afterwards.
    ! "$AWS" --endpoint-url "$SM" ssm get-parameter --name /easysks/staging/deploy_lock >/dev/null 2>&1
    # Held by another deploy: refused, and the parameter is untouched.
    "$AWS" --endpoint-url "$SM" ssm put-parameter --name /easysks/staging/deploy_lock \
        --value "deploy other by ci@elsewhere" --type String >/dev/null
    if AWS_CLI=$shim "$here/aws/roll.sh" --env staging --version other-1 --asg easysks-staging-local >"$out" 2>&1; then
        echo "roll.sh ran while another deploy held the lock"
        return 1
    fi
    grep -q 'staging is locked: deploy other by ci@elsewhere' "$out"
    [ "$("$AWS" --endpoint-url "$SM" ssm get-parameter --name /easysks/staging/release_version \
        --query Parameter.Value --output text)" = "$VERSION" ]
    AWS_CLI=$shim "$here/aws/deploy.sh" --env staging --break-lock
    ! "$AWS" --endpoint-url "$SM" ssm get-parameter --name /easysks/staging/deploy_lock >/dev/null 2>&1
}

do_boot() {
    local port
    HOSTROOT=$T/hostfs
    mkdir -p "$HOSTROOT" "$T/agents/www"
    mount -t tmpfs -o mode=0755 easysks-rehearsal "$HOSTROOT"
    save HOSTROOT
    mkdir -p "$HOSTROOT/upper" "$HOSTROOT/work" "$HOSTROOT/root"
    mount -t overlay easysks-rehearsal -o "lowerdir=/,upperdir=$HOSTROOT/upper,workdir=$HOSTROOT/work" "$HOSTROOT/root"
    local R=$HOSTROOT/root

    # The agents' packages and the RDS CA bundle, served like AWS serves them.
    host_fake_deb amazon-ssm-agent
    host_fake_deb amazon-cloudwatch-agent
    cp "$T/tls/cert.pem" "$T/agents/www/rds-ca.pem"
    port=$(free_port)
    python3 -m http.server --bind 127.0.0.1 --directory "$T/agents/www" "$port" >"$T/logs/agents-http.log" 2>&1 &
    HOST_HTTP_PID=$!
    AGENTS=http://127.0.0.1:$port
    save HOST_HTTP_PID AGENTS
    wait_for 10 "agent package server" curl -sf "$AGENTS/rds-ca.pem" -o /dev/null

    # The user data, rendered like Terraform would for this rehearsal.
    jq -n --arg version "$VERSION" --arg rb "$RELEASE_BUCKET" --arg fb "$FRONTEND_BUCKET" \
        --arg issuer "$AUTH_ISSUER" --arg jwks "$AUTH_JWKS_URL" --arg client "$CLIENT_ID" \
        --arg agents "$AGENTS" --arg db "$(arn HOST_DATABASE_URL)" --arg master "$(arn DB_MASTER_SECRET)" \
        --arg stripe "$(arn STRIPE_API_KEY)" --arg webhook "$(arn STRIPE_WEBHOOK_SECRETS)" \
        --rawfile a "$here/host/install-agents.sh" --rawfile b "$here/host/bootstrap.sh" \
        --rawfile c "$here/host/install-release.sh" '{
        env: "staging", region: "us-east-1", asg_name: "easysks-staging-local",
        ready_hook: "easysks-ready", ready_timeout: 120, ready_hook_timeout: 300,
        release_bucket: $rb, release_parameter: "/easysks/staging/release_version", frontend_bucket: $fb,
        app_env: {EASYSKS_ENV: "dev", EASYSKS_WORKERS: "2", LOG_LEVEL: "info", AUTH_ISSUER: $issuer,
                  AUTH_JWKS_URL: $jwks, AUTH_CLIENT_IDS: $client, STRIPE_PRICE_ID: "price_staging_local"},
        secret_arns: {DATABASE_URL: $db, STRIPE_API_KEY: $stripe, STRIPE_WEBHOOK_SECRETS: $webhook},
        db_master_secret: $master,
        log_groups: {app: "/easysks/staging/app", nginx_access: "/easysks/staging/nginx-access",
                     nginx_error: "/easysks/staging/nginx-error"},
        metrics_namespace: "EasySKS/Host",
        ssm_agent_url: ($agents + "/amazon-ssm-agent.deb"),
        cloudwatch_agent_url: ($agents + "/amazon-cloudwatch-agent.deb"),
        rds_ca_bundle_url: ($agents + "/rds-ca.pem"),
        scripts: {"easysks-install-agents": $a, "easysks-bootstrap": $b, "easysks-install-release": $c}}' \
        >"$T/host-vars.json"
    node "$EASYSKS_ROOT/tests/deploy/render-tftpl.mjs" "$EASYSKS_ROOT/deploy/cloud-init/user-data.yaml.tftpl" \
        "$T/host-vars.json" >"$T/host-user-data.yaml"
    cloud-init schema --config-file "$T/host-user-data.yaml"

    # A fresh instance: NoCloud seed, cloud-init not started by the boot
    # (its stages are run one by one below), no earlier instance state.
    rm -rf "$R/var/lib/cloud/instance" "$R/var/lib/cloud/instances" "$R/var/lib/cloud/data" \
        "$R/var/lib/cloud/sem" "$R/etc/easysks" "$R/opt/easysks"
    mkdir -p "$R/var/lib/cloud/seed/nocloud" "$R/etc/cloud/cloud.cfg.d"
    printf 'instance-id: i-0rehearsal\nlocal-hostname: easysks-rehearsal\n' >"$R/var/lib/cloud/seed/nocloud/meta-data"
    cp "$T/host-user-data.yaml" "$R/var/lib/cloud/seed/nocloud/user-data"
    printf 'datasource_list: [NoCloud]\n# this machine has no en_US.UTF-8\nlocale: C.UTF-8\n' \
        >"$R/etc/cloud/cloud.cfg.d/99-easysks-rehearsal.cfg"
    touch "$R/etc/cloud/cloud-init.disabled"

    # The AWS CLI shim (see the header).
    mv "$R/usr/bin/aws" "$R/usr/bin/aws.real"
    cat >"$R/usr/bin/aws" <<SHIM
#!/bin/sh
# easysks rehearsal: the AWS APIs are stand-ins on 127.0.0.1.
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 \\
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true AWS_PAGER=
for a in "\$@"; do
    case \$a in
    s3) exec /usr/bin/aws.real --endpoint-url "$S3" "\$@" ;;
    ssm | secretsmanager) exec /usr/bin/aws.real --endpoint-url "$SM" "\$@" ;;
    autoscaling) echo "\$(date +%s.%N) \$*" >>/var/log/easysks-rehearsal-autoscaling.log; exit 0 ;;
    cloudwatch) echo "\$(date +%s.%N) \$*" >>/var/log/easysks-rehearsal-cloudwatch.log; exit 0 ;;
    esac
done
echo "aws shim: no stand-in for: \$*" >&2
exit 1
SHIM
    chmod 0755 "$R/usr/bin/aws"

    # The build machine's own services are not part of a host, and the
    # container shares the machine's network: Debian's PostgreSQL cluster
    # (5432) and nginx (80) would compete with the machine's for ports.
    ln -sf /dev/null "$R/etc/systemd/system/postgresql.service"
    ln -sf /dev/null "$R/etc/systemd/system/postgresql@.service"
    ln -sf /dev/null "$R/etc/systemd/system/nginx.service"

    # The IMDS rule must not reach the machine's network namespace.
    mkdir -p "$R/etc/systemd/system/easysks-imds-guard.service.d"
    printf '[Service]\nExecStart=\nExecStart=/bin/test -s /etc/easysks/imds.nft\nExecReload=\nExecStop=\n' \
        >"$R/etc/systemd/system/easysks-imds-guard.service.d/rehearsal.conf"

    # PostgreSQL's socket for the container, outside /tmp (the units have
    # PrivateTmp=yes; on AWS the database is RDS over TCP), open to the
    # container's service users (it is 0770 postgres).
    chmod o+rw "$(readlink -f "$T/pg")"/run/.s.PGSQL.*
    mkdir -p "$R/srv/easysks-rehearsal-pg"
    set_secret HOST_DATABASE_URL "postgresql://easysks_web@localhost/easysks?host=/srv/easysks-rehearsal-pg&connect_timeout=5"

    systemd-nspawn --quiet -D "$R" --register=no --keep-unit --machine=easysks-rehearsal \
        --bind="$T" --bind="$(readlink -f "$T/pg")/run:/srv/easysks-rehearsal-pg" --console=pipe --boot </dev/null \
        >"$T/logs/nspawn.log" 2>&1 &
    HOST_NSPAWN_PID=$!
    save HOST_NSPAWN_PID
    # nspawn's first child is a short-lived setup process; the container's
    # init is the child (reparented to nspawn, a subreaper) running systemd.
    # Look it up on every round until the system is up: a pid taken too
    # early names the setup process, which is gone a moment later.
    local i state=""
    for ((i = 0; i < 240; i++)); do
        HOST_INIT_PID=$(host_init_pid | head -n1)
        if [ -n "$HOST_INIT_PID" ]; then
            state=$(hx systemctl is-system-running 2>/dev/null || true)
            case $state in running | degraded) break ;; esac
        fi
        kill -0 "$HOST_NSPAWN_PID" 2>/dev/null || break
        sleep 0.25
    done
    save HOST_INIT_PID
    echo "container systemd: ${state:-not reachable} (init pid ${HOST_INIT_PID:-none}, after $((i / 4)) s)"
    case $state in
    running | degraded) ;;
    *)
        [ -z "$HOST_INIT_PID" ] || hx systemctl list-jobs --no-pager 2>&1 | head -n 20
        cat "$T/logs/nspawn.log"
        return 1
        ;;
    esac
    [ "$(hx cat /proc/1/comm)" = systemd ]
}

do_cloud_init() {
    hx cloud-init init --local
    hx cloud-init init
    hx cloud-init modules --mode config
    # No stage may report an error (users, write_files, runcmd, ...).
    hx cat /run/cloud-init/status.json | python3 -c '
import json, sys
v1 = json.load(sys.stdin)["v1"]
bad = {k: v["errors"] for k, v in v1.items() if isinstance(v, dict) and v.get("errors")}
print(bad or "no errors")
sys.exit(1 if bad else 0)'
    hx id easysks
    hx id easysks-migrate
    for f in host.env easysks.env secrets.env migrate-secrets.env; do hx test -s "/etc/easysks/$f"; done
    [ "$(hx stat -c %a /etc/easysks/migrate-secrets.env)" = 600 ]
    hx grep -qx "'/usr/local/sbin/easysks-bootstrap'" /var/lib/cloud/instance/scripts/runcmd
    # This machine's ports are shared: nginx listens where the rehearsal says.
    HOST_HTTPS_PORT=$(free_port)
    save HOST_HTTPS_PORT
    hx sh -c "printf 'EASYSKS_BIND=127.0.0.1\nEASYSKS_HTTPS_PORT=%s\nEASYSKS_HTTP_PORT=%s\nEASYSKS_STATUS_PORT=%s\n' \
        $HOST_HTTPS_PORT $(free_port) $(free_port) >>/etc/easysks/host.env"
}

do_scripts_user() {
    hx cloud-init single --name scripts_user --frequency always
}

check_lifecycle() {
    local log
    hx cat /var/log/easysks-rehearsal-autoscaling.log
    # Heartbeats may come first on a slow boot; the hook is completed once.
    log=$(hx grep complete-lifecycle-action /var/log/easysks-rehearsal-autoscaling.log)
    [ "$(wc -l <<<"$log")" = 1 ]
    grep -q 'complete-lifecycle-action --auto-scaling-group-name easysks-staging-local --lifecycle-hook-name easysks-ready --instance-id i-0rehearsal --lifecycle-action-result CONTINUE' <<<"$log"
    # CONTINUE came after readiness answered 200, as the bootstrap logged it.
    hx grep -q 'easysks-bootstrap: ready: /api/health answered 200' /var/log/cloud-init-output.log
}

check_services() {
    local u
    for u in amazon-ssm-agent easysks-imds-guard easysks-fcgi easysks-nginx easysks-jobs; do
        hx systemctl is-active --quiet "$u.service" || { hx systemctl status "$u.service" --no-pager; return 1; }
    done
    [ "$(hx systemctl show -p User --value easysks-fcgi.service)" = easysks ]
    # The job process (AI grading) runs as easysks too, its secrets in its own directory.
    [ "$(hx ps -o user= -p "$(hx systemctl show -p MainPID --value easysks-jobs.service)")" = easysks ]
    [ "$(hx stat -c '%U %a' /run/easysks-jobs/secrets/DATABASE_URL)" = "easysks 400" ]
    [ "$(hx ps -o user= -p "$(hx systemctl show -p MainPID --value easysks-fcgi.service)")" = easysks ]
    [ "$(hx stat -c '%U %G %a' /run/easysks)" = "easysks www-data 750" ]
    [ "$(hx stat -c '%U %a' /run/easysks/secrets)" = "easysks 700" ]
    [ "$(hx stat -c '%U %a' /run/easysks/secrets/DATABASE_URL)" = "easysks 400" ]
    # No master secret where the workers are.
    ! hx test -e /run/easysks/secrets/DB_MASTER_SECRET
    hx grep -q 'fetch-config -m ec2 -s -c file:/etc/easysks/cloudwatch-agent.json' /var/log/easysks-rehearsal-cwagent.log
    ! hx grep -q '__[A-Z_]*__' /etc/easysks/cloudwatch-agent.json
}

check_host_readiness() {
    local body
    body=$(curl -sk --max-time 5 "https://127.0.0.1:$HOST_HTTPS_PORT/api/health")
    echo "$body"
    grep -q '"status":"ok"' <<<"$body"
    # The web client's configuration, rendered by the bootstrap from the same
    # settings the pool reads.
    body=$(curl -sk --max-time 5 "https://127.0.0.1:$HOST_HTTPS_PORT/config.json")
    echo "$body"
    jq -e --arg client "$CLIENT_ID" '.auth.client_id == $client' <<<"$body" >/dev/null
}

# `systemctl reload` (fetch secrets as root, then HUP) keeps the pool
# reachable for nginx, and reload-or-restart starts a stopped one.
check_reload() {
    hx systemctl reload easysks-fcgi.service
    [ "$(hx stat -c '%U %G %a' /run/easysks)" = "easysks www-data 750" ]
    wait_for 10 "/api/health after reload" curl -sfk "https://127.0.0.1:$HOST_HTTPS_PORT/api/health" -o /dev/null
    hx systemctl stop easysks-fcgi.service
    hx systemctl reload-or-restart easysks-fcgi.service
    hx systemctl is-active --quiet easysks-fcgi.service
    wait_for 20 "/api/health after reload-or-restart" curl -sfk "https://127.0.0.1:$HOST_HTTPS_PORT/api/health" -o /dev/null
}

# migrate.sh's remote commands as SSM runs them: by /bin/sh, then by bash.
check_migrate_sh() {
    local shell=$1
    "$here/aws/migrate.sh" --print-commands --version "$VERSION" --timeout 300 >"$T/migrate-commands.sh"
    hx "$shell" "$T/migrate-commands.sh"
    hx systemctl show -p Result --value "easysks-migrate@$VERSION.service" | grep -qx success
    [ "$(hx systemctl show -p User --value "easysks-migrate@$VERSION.service")" = easysks-migrate ]
}

# Blocker 4 of issue 14: started while a secret has no value, the pool must
# come back by itself once the value is put (no start limit).
check_recovery() {
    local url i
    url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$T/secrets.json" "$(arn HOST_DATABASE_URL)")
    hx systemctl stop easysks-fcgi.service
    set_secret HOST_DATABASE_URL __no_value__
    hx systemctl start --no-block easysks-fcgi.service
    sleep 3
    if hx systemctl is-active --quiet easysks-fcgi.service; then
        echo "the pool started without DATABASE_URL"
        set_secret HOST_DATABASE_URL "$url"
        return 1
    fi
    set_secret HOST_DATABASE_URL "$url"
    for ((i = 0; i < 60; i++)); do
        hx systemctl is-active --quiet easysks-fcgi.service && break
        sleep 0.5
    done
    hx systemctl is-active --quiet easysks-fcgi.service
    echo "restarts: $(hx systemctl show -p NRestarts --value easysks-fcgi.service)"
    [ "$(hx systemctl show -p NRestarts --value easysks-fcgi.service)" -ge 1 ]
    wait_for 20 "/api/health after recovery" curl -sfk "https://127.0.0.1:$HOST_HTTPS_PORT/api/health" -o /dev/null
}

# easysks-pool-watch publishes the pool's busy share for target tracking.
check_pool_watch() {
    hx systemctl is-active --quiet easysks-pool-watch.service
    wait_for 30 "BusyWorkersPercent" hx grep -q 'put-metric-data --namespace EasySKS/Host --metric-name BusyWorkersPercent --unit Percent --value [0-9.]* --dimensions AutoScalingGroupName=easysks-staging-local' /var/log/easysks-rehearsal-cloudwatch.log
    hx cat /var/log/easysks-rehearsal-cloudwatch.log | tail -n 2
}

# A host whose release parameter holds no release must leave its launch.
check_abandon() {
    local rc=0
    "$AWS" --endpoint-url "$SM" ssm put-parameter --name /easysks/staging/release_version \
        --value none --type String --overwrite >/dev/null
    hx /usr/local/sbin/easysks-bootstrap || rc=$?
    "$AWS" --endpoint-url "$SM" ssm put-parameter --name /easysks/staging/release_version \
        --value "$VERSION" --type String --overwrite >/dev/null
    [ "$rc" -ne 0 ]
    hx tail -n1 /var/log/easysks-rehearsal-autoscaling.log | grep -q 'lifecycle-action-result ABANDON'
}

# The IMDS rule in a private network namespace of the container, with a
# stand-in metadata service on 169.254.169.254: root reaches it, the
# service users do not.
# shellcheck disable=SC2016 # the script runs in the container's shell
check_imds() {
    hx unshare --net sh -ec '
        ip link set lo up
        ip addr add 169.254.169.254/32 dev lo
        nft -f /etc/easysks/imds.nft
        cd /tmp && python3 -m http.server --bind 169.254.169.254 80 >/dev/null 2>&1 &
        server=$!
        trap "kill $server" EXIT
        for i in $(seq 1 50); do curl -s -o /dev/null http://169.254.169.254/ && break; sleep 0.1; done
        curl -sf -o /dev/null --max-time 3 http://169.254.169.254/ || { echo "root cannot reach it"; exit 1; }
        for u in easysks easysks-migrate www-data; do
            if setpriv --reuid "$u" --regid nogroup --clear-groups curl -s -o /dev/null --max-time 3 http://169.254.169.254/; then
                echo "$u reaches the metadata service"; exit 1
            fi
        done
        nft list table inet easysks_imds | grep -c reject'
}
