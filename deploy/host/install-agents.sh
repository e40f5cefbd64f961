#!/usr/bin/env bash
# Install the AWS agents a host needs and the official Debian 12 image lacks.
#
#   easysks-install-agents        (cloud-init runs it before easysks-bootstrap)
#
# amazon-ssm-agent: Run Command (deploy/aws/migrate.sh), Session Manager
#   shells and port forwarding. There is no SSH; without it a host cannot be
#   reached at all, so failing to install it fails this script (and the
#   bootstrap then abandons the launch).
# amazon-cloudwatch-agent: ships the app and nginx logs (and memory/disk
#   metrics) to CloudWatch; the 5xx, latency and request metrics are made
#   from those logs. A failure here is reported; the bootstrap starts the
#   services anyway and the "no access log" alarm fires.
#
# Both come as .deb from the regional S3 buckets AWS publishes them in
# (EASYSKS_SSM_AGENT_URL, EASYSKS_CLOUDWATCH_AGENT_URL in
# /etc/easysks/host.env, set by Terraform), over HTTPS, reached through the
# VPC's S3 gateway endpoint. An image with the agents baked in skips the
# download (already installed).
set -euo pipefail
# shellcheck source=/dev/null
. "${EASYSKS_HOST_ENV:-/etc/easysks/host.env}"

log() { echo "easysks-install-agents: $*" >&2; }

# install NAME URL: download with retries and install, unless installed.
install_deb() {
    local name=$1 url=$2 deb i
    if dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q 'install ok installed'; then
        log "$name already installed"
        return 0
    fi
    deb=$(mktemp --suffix=.deb)
    for i in 1 2 3 4 5 6; do
        if curl -fsS --retry 3 --max-time 120 -o "$deb" "$url"; then
            if dpkg -i "$deb" >/dev/null; then
                rm -f "$deb"
                log "installed $name from $url"
                return 0
            fi
        fi
        log "attempt $i to install $name failed; retrying"
        sleep $((i * 5))
    done
    rm -f "$deb"
    return 1
}

rc=0
if install_deb amazon-ssm-agent "$EASYSKS_SSM_AGENT_URL"; then
    systemctl enable --now amazon-ssm-agent.service || { log "amazon-ssm-agent does not start"; rc=1; }
else
    log "ERROR: cannot install amazon-ssm-agent: the host will be unreachable for deploys"
    rc=1
fi
install_deb amazon-cloudwatch-agent "$EASYSKS_CLOUDWATCH_AGENT_URL" ||
    log "WARNING: cannot install amazon-cloudwatch-agent: logs stay on the host"
exit "$rc"
