#!/usr/bin/env bash
# Roll an environment's hosts onto a published release, or onto a new launch
# template version (AMI, instance type, user data).
#
#   deploy/aws/roll.sh --env staging|prod --version VERSION [--asg NAME]
#                      [--min-healthy 100] [--timeout 3600] [--no-rollback]
#                      [--endpoint-url URL]
#   deploy/aws/roll.sh --env staging|prod --launch-template latest|N [--asg NAME]
#                      [--min-healthy 100] [--timeout 3600] [--endpoint-url URL]
#
# Takes the environment's deploy lock (or runs under deploy.sh's).
#
# --version: the SSM parameter /easysks/<env>/release_version is what hosts
# install at boot (and the only place they take a release from), so a roll
# needs no terraform apply: set the parameter, start an instance refresh
# (every host replaced, MinHealthyPercentage 100 / max 200: new hosts join
# before old ones leave, and a new host counts only once its /api/health
# answered 200: the launch lifecycle hook), poll until it ends. On
# Failed/Cancelled/timeout the parameter goes back to the previous version
# and a second refresh restores it (unless --no-rollback); exit status 1.
# The previous version is kept in /easysks/<env>/previous_release_version
# for rollback.sh. A group without instances (first deploy, hosts_enabled =
# false) only gets the parameter.
#
# --launch-template: terraform apply creates launch template versions but
# leaves the group on the one it runs (Terraform starts no refresh). This
# starts a refresh with that version (latest = the newest) as the desired
# configuration and auto rollback, so a failure brings back the version the
# hosts ran before. Release and template are rolled separately.
#
# Order of a deploy (deploy.sh does it under one lock): publish.sh,
# migrate.sh, roll.sh, smoke.sh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/aws/common.sh
. "$here/common.sh"

env=
version=
template=
asg=
min_healthy=100
timeout=3600
rollback=1
while [ $# -gt 0 ]; do
    case $1 in
    --env) env=${2:?}; shift 2 ;;
    --version) version=${2:?}; shift 2 ;;
    --launch-template) template=${2:?}; shift 2 ;;
    --asg) asg=${2:?}; shift 2 ;;
    --min-healthy) min_healthy=${2:?}; shift 2 ;;
    --timeout) timeout=${2:?}; shift 2 ;;
    --no-rollback) rollback=0; shift ;;
    --endpoint-url) AWS_ENDPOINT=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
    esac
done
[ -n "$env" ] || usage
if [ -n "$version" ] && [ -n "$template" ]; then die "roll a release or a launch template, not both at once"; fi
if [ -z "$version" ] && [ -z "$template" ]; then usage; fi
check_env "$env"
[ -n "$asg" ] || asg=$(asg_default "$env")
lock_acquire "$env" "roll ${version:-launch template $template}"
trap lock_release EXIT

if [ -n "$template" ]; then
    lt=$(awsc autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$asg" \
        --query 'AutoScalingGroups[0].LaunchTemplate.LaunchTemplateId' --output text)
    if [ -z "$lt" ] || [ "$lt" = None ]; then die "$asg has no launch template"; fi
    if [ "$template" = latest ]; then
        # shellcheck disable=SC2016 # $Latest is the API's name, not a variable
        template=$(awsc ec2 describe-launch-template-versions --launch-template-id "$lt" \
            --versions '$Latest' --query 'LaunchTemplateVersions[0].VersionNumber' --output text)
    fi
    [[ $template =~ ^[0-9]+$ ]] || die "--launch-template takes latest or a version number"
    say "rolling $asg to launch template $lt version $template (auto rollback on failure)"
    id=$(start_refresh "$asg" "$min_healthy" "$lt" "$template") ||
        die "could not start an instance refresh (one already running? see describe-instance-refreshes)"
    wait_refresh "$asg" "$id" "$timeout" || die "the refresh to launch template version $template did not succeed (rolled back if it could)"
    say "$env now runs launch template version $template"
    exit 0
fi

check_version "$version"
previous=$(ssm_get "$(param_release "$env")")
[ "$previous" != none ] || previous=
if [ "$previous" = "$version" ]; then
    say "$env already runs $version according to $(param_release "$env"); refreshing anyway"
fi
say "rolling $asg from ${previous:-<no release>} to $version"
[ -z "$previous" ] || [ "$previous" = "$version" ] || ssm_put "$(param_previous "$env")" "$previous"
ssm_put "$(param_release "$env")" "$version"

if [ "$(instance_count "$asg")" = 0 ]; then
    say "$asg has no instances: hosts launched from now on install $version"
    exit 0
fi
if ! id=$(start_refresh "$asg" "$min_healthy"); then
    [ -z "$previous" ] || ssm_put "$(param_release "$env")" "$previous"
    die "could not start an instance refresh (one already running? see describe-instance-refreshes)"
fi
if wait_refresh "$asg" "$id" "$timeout"; then
    say "$env now runs $version"
    exit 0
fi

say "the roll to $version failed"
if [ "$rollback" = 1 ] && [ -n "$previous" ] && [ "$previous" != "$version" ]; then
    say "rolling back to $previous"
    ssm_put "$(param_release "$env")" "$previous"
    if id=$(start_refresh "$asg" "$min_healthy") && wait_refresh "$asg" "$id" "$timeout"; then
        say "rolled back to $previous"
    else
        say "ROLLBACK FAILED: see the instance refresh and the hosts' cloud-init logs"
    fi
else
    say "no automatic rollback (--no-rollback or no previous version); run deploy/aws/rollback.sh"
fi
exit 1
