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

# tf_output ENV KEY: one value of the environment's Terraform outputs (the
# root's output "stack": asg_name, db_identifier, release_bucket, ...), so
# that no script repeats Terraform's naming. From EASYSKS_TF_OUTPUTS (a file
# holding `terraform output -json stack`, e.g. saved by CI after the apply),
# else from `terraform -chdir=terraform/envs/ENV output -json stack`.
tf_output() {
    local env=$1 key=$2 json root
    if [ -n "${EASYSKS_TF_OUTPUTS:-}" ]; then
        json=$(cat "$EASYSKS_TF_OUTPUTS") || die "cannot read EASYSKS_TF_OUTPUTS=$EASYSKS_TF_OUTPUTS"
    else
        root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
        command -v terraform >/dev/null ||
            die "$key: no terraform here; pass it as an option or set EASYSKS_TF_OUTPUTS (terraform output -json stack)"
        json=$(terraform -chdir="$root/terraform/envs/$env" output -json stack) ||
            die "$key: terraform output -json stack failed in terraform/envs/$env"
    fi
    python3 -c '
import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
if not isinstance(v, str) or not v:
    sys.exit("no output " + sys.argv[1])
print(v)' "$key" <<<"$json" || die "the Terraform outputs of $env have no $key"
}
asg_default() { tf_output "$1" asg_name; }
db_default() { tf_output "$1" db_identifier; }
param_release() { echo "/easysks/$1/release_version"; }
param_previous() { echo "/easysks/$1/previous_release_version"; }
param_lock() { echo "/easysks/$1/deploy_lock"; }

# --- the deploy lock ----------------------------------------------------------
# One deploy at a time per environment, across publish -> migrate -> roll ->
# smoke (deploy.sh) and for the single steps run by hand (migrate.sh,
# roll.sh, rollback.sh). The lock is the SSM parameter /easysks/<env>/deploy_lock,
# created only if absent (PutParameter without --overwrite is atomic); its
# value says who holds it since when. A step started by deploy.sh inherits the
# lock through EASYSKS_DEPLOY_LOCK (checked against the parameter).

lock_owned=
lock_token=
lock_env=

# lock_acquire ENV WHAT: take the lock, or check that the caller holds it.
lock_acquire() {
    local env=$1 what=$2 held err
    if [ -n "${EASYSKS_DEPLOY_LOCK:-}" ]; then
        held=$(ssm_get "$(param_lock "$env")")
        [ "$held" = "$EASYSKS_DEPLOY_LOCK" ] ||
            die "EASYSKS_DEPLOY_LOCK is set, but $(param_lock "$env") holds '${held:-nothing}'"
        return 0
    fi
    lock_token="$what by $(id -un)@$(hostname) pid $$ since $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    err=$(awsc ssm put-parameter --name "$(param_lock "$env")" --value "$lock_token"         --type String 2>&1 >/dev/null) || {
        case $err in
        *ParameterAlreadyExists*)
            die "$env is locked: $(ssm_get "$(param_lock "$env")"). If that deploy is dead: deploy/aws/deploy.sh --env $env --break-lock" ;;
        *) die "cannot take the deploy lock $(param_lock "$env"): $err" ;;
        esac
    }
    lock_owned=1
    lock_env=$env
    export EASYSKS_DEPLOY_LOCK=$lock_token
    say "deploy lock taken ($(param_lock "$env"))"
}

# lock_release: give the lock back if this process took it (call it from an
# EXIT trap); never deletes somebody else's lock.
lock_release() {
    [ "$lock_owned" = 1 ] || return 0
    if [ "$(ssm_get "$(param_lock "$lock_env")")" = "$lock_token" ]; then
        awsc ssm delete-parameter --name "$(param_lock "$lock_env")" >/dev/null 2>&1 &&
            say "deploy lock released"
    fi
    lock_owned=
}

# ssm_get NAME: the parameter's value, empty when it does not exist.
ssm_get() {
    awsc ssm get-parameter --name "$1" --query Parameter.Value --output text 2>/dev/null || true
}

ssm_put() {
    awsc ssm put-parameter --name "$1" --value "$2" --type String --overwrite >/dev/null
}

# instance_count ASG: instances in the group, whatever their state.
instance_count() {
    awsc autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$1" \
        --query 'length(AutoScalingGroups[0].Instances)' --output text
}

# start_refresh ASG MIN_HEALTHY [LAUNCH_TEMPLATE_ID VERSION]: a rolling
# replacement of every instance; prints the refresh id.
# Without a template: a release roll. The launch template does not change
# (new hosts read the release parameter at boot), so nothing can be skipped
# and the group's auto rollback could only restore the same configuration:
# roll.sh undoes a failed release itself (the parameter, then a refresh).
# With one: a configuration roll (AMI, instance type, user data) to that
# template version as the desired configuration, with auto rollback, which
# restores the version the hosts ran before.
start_refresh() {
    local asg=$1 min=$2 lt=${3:-} ltv=${4:-} prefs
    if [ -z "$lt" ]; then
        prefs="{\"MinHealthyPercentage\":$min,\"MaxHealthyPercentage\":200,\"InstanceWarmup\":120,\"SkipMatching\":false,\"AutoRollback\":false}"
        awsc autoscaling start-instance-refresh --auto-scaling-group-name "$asg" --strategy Rolling \
            --preferences "$prefs" --query InstanceRefreshId --output text
    else
        prefs="{\"MinHealthyPercentage\":$min,\"MaxHealthyPercentage\":200,\"InstanceWarmup\":120,\"SkipMatching\":true,\"AutoRollback\":true}"
        awsc autoscaling start-instance-refresh --auto-scaling-group-name "$asg" --strategy Rolling \
            --desired-configuration "{\"LaunchTemplate\":{\"LaunchTemplateId\":\"$lt\",\"Version\":\"$ltv\"}}" \
            --preferences "$prefs" --query InstanceRefreshId --output text
    fi
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
        esac # Pending, InProgress, Cancelling, RollbackInProgress, Baking: wait
        if [ $(($(date +%s) - start)) -ge "$timeout" ]; then
            say "timed out after ${timeout}s; cancelling the refresh"
            awsc autoscaling cancel-instance-refresh --auto-scaling-group-name "$asg" >/dev/null || true
            return 1
        fi
        sleep "${EASYSKS_POLL_SECONDS:-15}"
    done
}

# run_on_host INSTANCE COMMENT TIMEOUT_SECONDS COMMANDS: run COMMANDS (sh
# text) on the instance with SSM Run Command (AWS-RunShellScript), wait up to
# TIMEOUT_SECONDS (+60) for it, print its output; 0 only on Success.
run_on_host() {
    local instance=$1 comment=$2 timeout=$3 commands=$4 params cmd status start
    params=$(python3 -c 'import json,sys; print(json.dumps({"commands": sys.argv[1].splitlines(), "executionTimeout": [sys.argv[2]]}))' \
        "$commands" "$timeout")
    cmd=$(awsc ssm send-command --instance-ids "$instance" --document-name AWS-RunShellScript \
        --comment "$comment" --timeout-seconds 600 \
        --parameters "$params" --query Command.CommandId --output text)
    say "SSM command $cmd on $instance"
    start=$(date +%s)
    status=Pending
    while :; do
        sleep "${EASYSKS_POLL_SECONDS:-5}"
        status=$(awsc ssm get-command-invocation --command-id "$cmd" --instance-id "$instance" \
            --query Status --output text 2>/dev/null || echo Pending)
        case $status in Pending | InProgress | Delayed) ;; *) break ;; esac
        [ $(($(date +%s) - start)) -lt $((timeout + 60)) ] || break
    done
    awsc ssm get-command-invocation --command-id "$cmd" --instance-id "$instance" \
        --query '[StandardOutputContent,StandardErrorContent]' --output text || true
    [ "$status" = Success ] || { say "SSM command $cmd: $status"; return 1; }
}
