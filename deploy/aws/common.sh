#!/usr/bin/env bash
# Shared by deploy/aws/*.sh (sourced): the AWS CLI, endpoint override, logging.
# shellcheck disable=SC2034 # variables are used by the sourcing scripts

# Debian's awscli v2; an older v1 may come first on PATH. AWS_CLI overrides.
AWS_CLI=${AWS_CLI:-/usr/bin/aws}
# --endpoint-url (parsed by each script) or AWS_ENDPOINT_URL: an S3 stand-in etc.
AWS_ENDPOINT=${AWS_ENDPOINT_URL:-}

say() { echo "==> $*" >&2; }

# usage: print the calling script's header comment (its documentation) and exit 2.
usage() {
    awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2
    exit 2
}
die() {
    echo "error: $*" >&2
    exit 1
}

# awsc ARGS...: the AWS CLI with the endpoint override and no pager.
awsc() {
    local extra=()
    [ -z "$AWS_ENDPOINT" ] || extra=(--endpoint-url "$AWS_ENDPOINT")
    AWS_PAGER='' "$AWS_CLI" "${extra[@]}" "$@"
}

check_version() {
    [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || die "bad release version '$1'"
}

check_env() {
    case $1 in staging | prod) ;; *) die "--env must be staging or prod (got '$1')" ;; esac
}

asg_default() { echo "easysks-$1"; } # terraform: local.name = easysks-<env>
param_release() { echo "/easysks/$1/release_version"; }
param_previous() { echo "/easysks/$1/previous_release_version"; }

# ssm_get NAME: the parameter's value, empty when it does not exist.
ssm_get() {
    awsc ssm get-parameter --name "$1" --query Parameter.Value --output text 2>/dev/null || true
}

ssm_put() {
    awsc ssm put-parameter --name "$1" --value "$2" --type String --overwrite >/dev/null
}

# start_refresh ASG MIN_HEALTHY: a rolling replacement of every instance (the
# launch template does not change: new hosts read the release parameter at
# boot). Prints the refresh id.
start_refresh() {
    awsc autoscaling start-instance-refresh --auto-scaling-group-name "$1" \
        --strategy Rolling \
        --preferences "{\"MinHealthyPercentage\":$2,\"MaxHealthyPercentage\":200,\"InstanceWarmup\":120,\"SkipMatching\":false}" \
        --query InstanceRefreshId --output text
}

# wait_refresh ASG ID TIMEOUT_SECONDS: poll until the refresh ends; 0 when
# Successful, 1 when Failed/Cancelled/rolled back or timed out (then cancelled).
wait_refresh() {
    local asg=$1 id=$2 timeout=$3 start status pct reason
    start=$(date +%s)
    while :; do
        read -r status pct reason < <(awsc autoscaling describe-instance-refreshes \
            --auto-scaling-group-name "$asg" --instance-refresh-ids "$id" \
            --query 'InstanceRefreshes[0].[Status,PercentageComplete,StatusReason]' --output text)
        say "instance refresh $id: $status ${pct:-0}% ${reason:-}"
        case $status in
        Successful) return 0 ;;
        Failed | Cancelled | RollbackSuccessful | RollbackFailed) return 1 ;;
        esac
        if [ $(($(date +%s) - start)) -ge "$timeout" ]; then
            say "timed out after ${timeout}s; cancelling the refresh"
            awsc autoscaling cancel-instance-refresh --auto-scaling-group-name "$asg" >/dev/null || true
            return 1
        fi
        sleep "${EASYSKS_POLL_SECONDS:-15}"
    done
}
