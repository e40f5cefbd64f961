#!/usr/bin/env bash
# Roll an environment's hosts onto a published release.
#
#   deploy/aws/roll.sh --env staging|prod --version VERSION [--asg NAME]
#                      [--min-healthy 100] [--timeout 3600] [--no-rollback]
#                      [--endpoint-url URL]
#
# How the version reaches the hosts: the SSM parameter
# /easysks/<env>/release_version. cloud-init reads it at boot (falling back to
# terraform's release_version baked into the launch template), so a roll needs
# no terraform apply: set the parameter, start an instance refresh (every
# host replaced, MinHealthyPercentage 100 / max 200: new hosts join before old
# ones leave), poll describe-instance-refreshes until it ends.
# On Failed/Cancelled/timeout the parameter goes back to the previous version
# and a second refresh restores it (unless --no-rollback); exit status 1.
# The previous version is kept in /easysks/<env>/previous_release_version
# for deploy/aws/rollback.sh.
#
# Order of a deploy: make dist, publish.sh, migrate.sh, roll.sh, smoke.sh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/aws/common.sh
. "$here/common.sh"

env=
version=
asg=
min_healthy=100
timeout=3600
rollback=1
while [ $# -gt 0 ]; do
    case $1 in
    --env) env=${2:?}; shift 2 ;;
    --version) version=${2:?}; shift 2 ;;
    --asg) asg=${2:?}; shift 2 ;;
    --min-healthy) min_healthy=${2:?}; shift 2 ;;
    --timeout) timeout=${2:?}; shift 2 ;;
    --no-rollback) rollback=0; shift ;;
    --endpoint-url) AWS_ENDPOINT=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
    esac
done
if [ -z "$env" ] || [ -z "$version" ]; then usage; fi
check_env "$env"
check_version "$version"
[ -n "$asg" ] || asg=$(asg_default "$env")

previous=$(ssm_get "$(param_release "$env")")
if [ "$previous" = "$version" ]; then
    say "$env already runs $version according to $(param_release "$env"); refreshing anyway"
fi
say "rolling $asg from ${previous:-<launch template default>} to $version"
[ -z "$previous" ] || [ "$previous" = "$version" ] || ssm_put "$(param_previous "$env")" "$previous"
ssm_put "$(param_release "$env")" "$version"

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
