#!/usr/bin/env bash
# The deploy's migration step: snapshot the database, then apply a release's
# migrations once, from one host.
#
#   deploy/aws/migrate.sh --env staging|prod --version VERSION
#                         [--asg NAME] [--instance-id ID] [--db-identifier ID]
#                         [--skip-snapshot] [--keep-snapshots 5] [--timeout 900]
#                         [--endpoint-url URL]
#   deploy/aws/migrate.sh --print-commands --version VERSION [--timeout 900]
#
# 1. Takes the environment's deploy lock (or runs under deploy.sh's).
# 2. Snapshots the database (manual snapshot <db>-pre-<version>-<UTC time>,
#    waits until it is available) and deletes this step's older snapshots
#    beyond --keep-snapshots. A migration that goes wrong is undone by
#    restoring it (docs/runbook.md), not by a down migration.
# 3. Picks one host: a healthy InService one, or else one waiting in
#    Pending:Wait for its readiness (a first deploy: hosts wait for exactly
#    this schema), or --instance-id.
# 4. Through SSM Run Command (AWS-RunShellScript; there is no SSH) the host
#    unpacks VERSION beside the running release with easysks-install-release
#    ("current" is not touched), installs that release's
#    easysks-migrate@.service and starts easysks-migrate@VERSION (as the
#    easysks-migrate user: schema under PostgreSQL's advisory lock, catalogue,
#    application role; see easysks-run-migrations), then prints its journal.
# Exit status 0 only when the migration succeeded.
#
# AWS-RunShellScript runs the commands with /bin/sh, which is dash on
# Debian: they only write the real script (bash) to a file and run it with
# /bin/bash. --print-commands prints exactly what is sent (the rehearsal runs
# it under sh and bash).
#
# Expand/contract: a release's migrations must keep the PREVIOUS release
# working (hosts run both during a roll, and a rollback runs the previous one):
# add tables/columns (nullable or with defaults), add indexes
# (CONCURRENTLY in a migration of its own), never rename or drop in the same
# release that stops using something. Drop/rename ("contract") one release
# later, once nothing running reads it. Set `lock_timeout` in DDL migrations.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/aws/common.sh
. "$here/common.sh"

env=
version=
asg=
instance=
db=
snapshot=1
keep=5
timeout=900
print=0
while [ $# -gt 0 ]; do
    case $1 in
    --env) env=${2:?}; shift 2 ;;
    --version) version=${2:?}; shift 2 ;;
    --asg) asg=${2:?}; shift 2 ;;
    --instance-id) instance=${2:?}; shift 2 ;;
    --db-identifier) db=${2:?}; shift 2 ;;
    --skip-snapshot) snapshot=0; shift ;;
    --keep-snapshots) keep=${2:?}; shift 2 ;;
    --timeout) timeout=${2:?}; shift 2 ;;
    --print-commands) print=1; shift ;;
    --endpoint-url) AWS_ENDPOINT=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
    esac
done
[ -n "$version" ] || usage
check_version "$version"
[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout must be a number of seconds"

# The commands sent to the host. VERSION is validated above (no quoting
# issues); the here-document is quoted, so the outer sh expands nothing in it.
remote_commands() {
    cat <<COMMANDS
script=\$(mktemp /run/easysks-migrate-command.XXXXXX)
cat >"\$script" <<'EASYSKS_REMOTE'
set -euo pipefail
version=\$1
since=\$2
. /etc/easysks/host.env
export AWS_REGION AWS_DEFAULT_REGION AWS_CLI
/opt/easysks/current/bin/easysks-install-release --bucket "\$EASYSKS_RELEASE_BUCKET" --version "\$version" >/dev/null
install -m 0644 "/opt/easysks/releases/\$version/systemd/easysks-migrate@.service" /etc/systemd/system/
systemctl daemon-reload
rc=0
systemctl start "easysks-migrate@\$version.service" || rc=\$?
journalctl -u "easysks-migrate@\$version.service" --no-pager -o cat -n 200 --since "-\${since}s" || true
exit \$rc
EASYSKS_REMOTE
/bin/bash "\$script" $version $timeout
rc=\$?
rm -f "\$script"
exit \$rc
COMMANDS
}

if [ "$print" = 1 ]; then
    remote_commands
    exit 0
fi

[ -n "$env" ] || usage
check_env "$env"
[ -n "$asg" ] || asg=$(asg_default "$env")
[ -n "$db" ] || db=$(db_default "$env")
lock_acquire "$env" "migrate $version"
trap lock_release EXIT

if [ "$snapshot" = 1 ]; then
    # Snapshot names: letters, digits and single hyphens.
    tag=$(tr -c 'A-Za-z0-9\n' '-' <<<"$version" | tr -s '-')
    snap="$db-pre-${tag%-}-$(date -u +%Y%m%d%H%M%S)"
    say "snapshot $snap of $db before migrating"
    awsc rds create-db-snapshot --db-instance-identifier "$db" --db-snapshot-identifier "$snap" \
        --tags Key=easysks:purpose,Value=pre-migration Key=easysks:release,Value="$version" >/dev/null
    awsc rds wait db-snapshot-available --db-snapshot-identifier "$snap" ||
        die "snapshot $snap did not become available; not migrating"
    # shellcheck disable=SC2016 # JMESPath backquotes, not shell
    old=$(awsc rds describe-db-snapshots --db-instance-identifier "$db" --snapshot-type manual \
        --query "reverse(sort_by(DBSnapshots[?starts_with(DBSnapshotIdentifier, \`$db-pre-\`)], &SnapshotCreateTime))[$keep:].DBSnapshotIdentifier" \
        --output text)
    for s in $old; do
        [ "$s" = None ] && continue
        say "deleting the older pre-migration snapshot $s"
        awsc rds delete-db-snapshot --db-snapshot-identifier "$s" >/dev/null || say "warning: could not delete $s"
    done
else
    say "warning: --skip-snapshot: migrating without a fresh snapshot"
fi

if [ -z "$instance" ]; then
    # shellcheck disable=SC2016 # JMESPath backquotes, not shell
    for query in \
        'AutoScalingGroups[0].Instances[?LifecycleState==`InService` && HealthStatus==`Healthy`].InstanceId | [0]' \
        'AutoScalingGroups[0].Instances[?LifecycleState==`Pending:Wait`].InstanceId | [0]'; do
        instance=$(awsc autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$asg" \
            --query "$query" --output text)
        [ -z "$instance" ] || [ "$instance" = None ] || break
        instance=
    done
    [ -n "$instance" ] || die "no InService or Pending:Wait instance in $asg (use --instance-id)"
fi
say "migrating $env to $version on $instance"

run_on_host "$instance" "easysks migrate $env $version" "$timeout" "$(remote_commands)" ||
    die "migration of $version failed"
say "migrations of $version applied"
