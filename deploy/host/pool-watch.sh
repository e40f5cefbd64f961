#!/usr/bin/env bash
# Watch this host's worker pool: publish how busy it is, and have the host
# replaced when the pool hangs.
#
#   easysks-pool-watch [--once] [--interval SECONDS] [--state FILE]
#
# Every interval (default 60 s) it reads the pool's scoreboard from nginx's
# loopback status server (GET /status, docs/operations.md), then
#  - puts BusyWorkersPercent (100 x busy / workers_target) into
#    EASYSKS_METRICS_NAMESPACE with the dimension AutoScalingGroupName: the
#    Auto Scaling group target-tracks its average (terraform/modules/app);
#  - counts status requests without an answer. A worker answers /status
#    without the database (a database outage or failover leaves it
#    answering), so no answer means this host's pool or nginx is stuck.
#    After EASYSKS_WATCH_FAILURES (default 5) in a row, once the pool has
#    answered at least once since this host started (a host that never gets
#    ready is the launch hook's business), it marks the instance Unhealthy
#    and the group replaces it.
#
# --once runs one round (the counters live in --state, default
# /run/easysks-pool-watch.state). Settings: /etc/easysks/host.env
# (EASYSKS_HOST_ENV), EASYSKS_STATUS_URL (default
# http://127.0.0.1:$EASYSKS_STATUS_PORT/status), AWS_CLI.
set -euo pipefail
# shellcheck source=/dev/null
. "${EASYSKS_HOST_ENV:-/etc/easysks/host.env}"
aws=${AWS_CLI:-/usr/bin/aws}
status_url=${EASYSKS_STATUS_URL:-http://127.0.0.1:${EASYSKS_STATUS_PORT:-8081}/status}
limit=${EASYSKS_WATCH_FAILURES:-5}
interval=60
state=/run/easysks-pool-watch.state
once=0
while [ $# -gt 0 ]; do
    case $1 in
    --once) once=1; shift ;;
    --interval) interval=${2:?}; shift 2 ;;
    --state) state=${2:?}; shift 2 ;;
    *) echo "usage: easysks-pool-watch [--once] [--interval SECONDS] [--state FILE]" >&2; exit 2 ;;
    esac
done

log() { echo "easysks-pool-watch: $*" >&2; }

instance=$(cat "${EASYSKS_INSTANCE_ID_FILE:-/var/lib/cloud/data/instance-id}" 2>/dev/null || true)
seen_ok=0
failures=0
marked=0
# shellcheck source=/dev/null
[ ! -r "$state" ] || . "$state"

# busy_percent: 100 x busy / workers_target from the scoreboard on stdin.
busy_percent() {
    python3 -c '
import json, sys
s = json.load(sys.stdin)
target = s.get("workers_target") or sum(s.get("workers", {}).values())
busy = s.get("workers", {}).get("busy", 0)
print(round(100.0 * busy / target, 1) if target else 0)'
}

round() {
    local body pct
    if body=$(curl -fsS --max-time 10 "$status_url" 2>/dev/null) && pct=$(busy_percent <<<"$body" 2>/dev/null); then
        seen_ok=1
        failures=0
        "$aws" cloudwatch put-metric-data --namespace "$EASYSKS_METRICS_NAMESPACE" \
            --metric-name BusyWorkersPercent --unit Percent --value "$pct" \
            --dimensions "AutoScalingGroupName=$EASYSKS_ASG_NAME" >/dev/null ||
            log "warning: could not put BusyWorkersPercent ($pct)"
    else
        failures=$((failures + 1))
        log "the pool's status did not answer ($failures in a row)"
        if [ "$seen_ok" = 1 ] && [ "$failures" -ge "$limit" ] && [ "$marked" = 0 ] && [ -n "$instance" ]; then
            log "the pool hangs: marking $instance Unhealthy (the group replaces it)"
            if "$aws" autoscaling set-instance-health --instance-id "$instance" \
                --health-status Unhealthy --no-should-respect-grace-period; then
                marked=1
            fi
        fi
    fi
    printf 'seen_ok=%s\nfailures=%s\nmarked=%s\n' "$seen_ok" "$failures" "$marked" >"$state.tmp"
    mv -f "$state.tmp" "$state"
}

if [ "$once" = 1 ]; then
    round
    exit 0
fi
rm -f "$state"
seen_ok=0 failures=0 marked=0
while :; do
    round
    sleep "$interval"
done
