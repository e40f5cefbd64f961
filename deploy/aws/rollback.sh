#!/usr/bin/env bash
# Put an environment back on an earlier release.
#
#   deploy/aws/rollback.sh --env staging|prod [--to VERSION] [--asg NAME]
#                          [--min-healthy 100] [--timeout 3600] [--endpoint-url URL]
#
# VERSION defaults to /easysks/<env>/previous_release_version (recorded by
# roll.sh). Takes the environment's deploy lock (a roll still holding it
# must be stopped first, or the lock broken: deploy.sh --break-lock).
# Cancels a running instance refresh, sets
# /easysks/<env>/release_version, and replaces the hosts with a new refresh.
# Schema: migrations are expand-only before a release and contract a release
# later, so the previous release runs on the current schema; never roll back
# the database for an application rollback.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/aws/common.sh
. "$here/common.sh"

env=
to=
asg=
min_healthy=100
timeout=3600
while [ $# -gt 0 ]; do
    case $1 in
    --env) env=${2:?}; shift 2 ;;
    --to) to=${2:?}; shift 2 ;;
    --asg) asg=${2:?}; shift 2 ;;
    --min-healthy) min_healthy=${2:?}; shift 2 ;;
    --timeout) timeout=${2:?}; shift 2 ;;
    --endpoint-url) AWS_ENDPOINT=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
    esac
done
[ -n "$env" ] || usage
check_env "$env"
[ -n "$asg" ] || asg=$(asg_default "$env")
[ -n "$to" ] || to=$(ssm_get "$(param_previous "$env")")
[ -n "$to" ] || die "no --to VERSION and no $(param_previous "$env")"
check_version "$to"

lock_acquire "$env" "rollback to $to"
trap lock_release EXIT

current=$(ssm_get "$(param_release "$env")")
say "rolling $asg back from ${current:-?} to $to"
if awsc autoscaling cancel-instance-refresh --auto-scaling-group-name "$asg" >/dev/null 2>&1; then
    say "cancelled the running instance refresh"
    for _ in $(seq 1 60); do
        st=$(awsc autoscaling describe-instance-refreshes --auto-scaling-group-name "$asg" \
            --max-records 1 --query 'InstanceRefreshes[0].Status' --output text)
        case $st in Cancelling | Pending | InProgress) sleep 5 ;; *) break ;; esac
    done
fi
ssm_put "$(param_release "$env")" "$to"
[ -z "$current" ] || [ "$current" = "$to" ] || ssm_put "$(param_previous "$env")" "$current"
id=$(start_refresh "$asg" "$min_healthy") || die "could not start an instance refresh"
wait_refresh "$asg" "$id" "$timeout" || die "the rollback refresh did not succeed; check the hosts"
say "$env runs $to"
