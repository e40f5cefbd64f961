#!/usr/bin/env bash
# The deploy's migration step: apply a release's migrations once, from one host.
#
#   deploy/aws/migrate.sh --env staging|prod --version VERSION
#                         [--asg NAME] [--instance-id ID] [--timeout 900] [--endpoint-url URL]
#
# Picks one healthy InService host of the Auto Scaling group (or --instance-id)
# and, through SSM Run Command (no SSH; AWS-RunShellScript):
#   1. easysks-install-release unpacks VERSION beside the running release
#      (/opt/easysks/releases/VERSION; "current" is not touched),
#   2. installs that release's easysks-migrate@.service and starts
#      easysks-migrate@VERSION: secrets fetched as files (the RDS master secret,
#      combined with DATABASE_URL's host), then `easysks-migrate up` under
#      PostgreSQL's advisory lock (a second runner waits, never races),
#   3. prints the unit's journal.
# Exit status 0 only when the migration succeeded.
#
# Expand/contract: a release's migrations must keep the PREVIOUS release
# working (hosts run both during a roll, and a rollback runs the previous one):
# add tables/columns (nullable or with defaults), add indexes
# (CONCURRENTLY in a migration of its own), never rename or drop in the same
# release that stops using something. Drop/rename ("contract") one release
# later, once nothing running reads it. Set `lock_timeout` in DDL migrations.
# Without SSM: run easysks-migrate locally through an SSM port forward or a
# bastion, with MIGRATE_DATABASE_URL_FILE pointing at the owner's URI.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/aws/common.sh
. "$here/common.sh"

env=
version=
asg=
instance=
timeout=900
while [ $# -gt 0 ]; do
    case $1 in
    --env) env=${2:?}; shift 2 ;;
    --version) version=${2:?}; shift 2 ;;
    --asg) asg=${2:?}; shift 2 ;;
    --instance-id) instance=${2:?}; shift 2 ;;
    --timeout) timeout=${2:?}; shift 2 ;;
    --endpoint-url) AWS_ENDPOINT=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
    esac
done
if [ -z "$env" ] || [ -z "$version" ]; then usage; fi
check_env "$env"
check_version "$version"
[ -n "$asg" ] || asg=$(asg_default "$env")

if [ -z "$instance" ]; then
    # shellcheck disable=SC2016 # JMESPath backquotes, not shell
    instance=$(awsc autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$asg" \
        --query 'AutoScalingGroups[0].Instances[?LifecycleState==`InService` && HealthStatus==`Healthy`].InstanceId | [0]' \
        --output text)
    if [ -z "$instance" ] || [ "$instance" = None ]; then
        die "no healthy InService instance in $asg (use --instance-id)"
    fi
fi
say "migrating $env to $version on $instance"

# The script runs as root on the host; VERSION is validated above (no quoting issues).
read -r -d '' script <<SCRIPT || true
set -euo pipefail
. /etc/easysks/host.env
export AWS_REGION AWS_DEFAULT_REGION
/opt/easysks/current/bin/easysks-install-release --bucket "\$EASYSKS_RELEASE_BUCKET" --version $version >/dev/null
install -m 0644 /opt/easysks/releases/$version/systemd/easysks-migrate@.service /etc/systemd/system/
systemctl daemon-reload
rc=0
systemctl start easysks-migrate@$version.service || rc=\$?
journalctl -u easysks-migrate@$version.service --no-pager -o cat -n 200 --since "-${timeout}s" || true
exit \$rc
SCRIPT
params=$(python3 -c 'import json,sys; print(json.dumps({"commands": sys.argv[1].splitlines(), "executionTimeout": [sys.argv[2]]}))' \
    "$script" "$timeout")

cmd=$(awsc ssm send-command --instance-ids "$instance" --document-name AWS-RunShellScript \
    --comment "easysks migrate $env $version" --timeout-seconds 600 \
    --parameters "$params" --query Command.CommandId --output text)
say "SSM command $cmd"

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
[ "$status" = Success ] || die "migration of $version: $status"
say "migrations of $version applied"
