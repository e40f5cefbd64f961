#!/usr/bin/env bash
# Run an easysks-admin command (support cases: grant or revoke premium,
# show a learner) on one host of an environment.
#
#   deploy/aws/admin.sh --env staging|prod [--instance-id ID] [--asg NAME]
#                       [--user-pool-id POOL] [--endpoint-url URL] -- ADMIN-ARGS...
#   deploy/aws/admin.sh --print-commands -- ADMIN-ARGS...
#
# ADMIN-ARGS are easysks-admin's, e.g.
#   -- grant-premium --sub 4bda…0326 --until 2027-06-30 --reason "ticket 4711"
#   -- revoke-premium --email learner@example.de --reason "refund"
# With --user-pool-id, an --email is looked up in the Cognito user pool here
# (the learner's sub), so it works even before the app has seen the address.
#
# Through SSM Run Command on a healthy InService host (or --instance-id), as
# the service user with the app role's connection (the app role may update
# users and append to admin_audit, nothing more). Who ran it goes into the
# audit trail: EASYSKS_OPERATOR, else the caller's AWS identity.
#
# The arguments travel base64-encoded (NUL-separated) and are decoded on the
# host into an array: nothing an operator types is ever parsed by a shell.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/aws/common.sh
. "$here/common.sh"

env=
asg=
instance=
pool=
print=0
while [ $# -gt 0 ]; do
    case $1 in
    --env) env=${2:?}; shift 2 ;;
    --asg) asg=${2:?}; shift 2 ;;
    --instance-id) instance=${2:?}; shift 2 ;;
    --user-pool-id) pool=${2:?}; shift 2 ;;
    --endpoint-url) AWS_ENDPOINT=${2:?}; shift 2 ;;
    --print-commands) print=1; shift ;;
    -h | --help) usage ;;
    --) shift; break ;;
    *) echo "unknown argument: $1" >&2; usage ;;
    esac
done
[ $# -gt 0 ] || usage
args=("$@")

# --email through Cognito, when a pool is given.
if [ -n "$pool" ]; then
    for ((i = 0; i < ${#args[@]} - 1; i++)); do
        if [ "${args[i]}" = --email ]; then
            email=${args[i + 1]}
            # shellcheck disable=SC2016 # JMESPath backquotes, not shell
            sub=$(awsc cognito-idp list-users --user-pool-id "$pool" \
                --filter "email = \"${email//\"/}\"" --query 'Users[0].Attributes[?Name==`sub`].Value | [0]' \
                --output text)
            if [ -z "$sub" ] || [ "$sub" = None ]; then die "no user with e-mail $email in $pool"; fi
            args[i]=--sub
            args[i + 1]=$sub
            say "e-mail $email is sub $sub"
        fi
    done
fi
operator=${EASYSKS_OPERATOR:-}
if [ -z "$operator" ] && [ "$print" = 0 ]; then
    operator=$(awsc sts get-caller-identity --query Arn --output text 2>/dev/null || echo "${USER:-unknown}")
fi
encoded=$(printf '%s\0' "$operator" "${args[@]}" | base64 -w0)

# Commands for AWS-RunShellScript (/bin/sh = dash): they hand a bash script
# the encoded arguments. The encoding's alphabet needs no quoting.
remote_commands() {
    cat <<COMMANDS
script=\$(mktemp /run/easysks-admin-command.XXXXXX)
cat >"\$script" <<'EASYSKS_REMOTE'
set -euo pipefail
mapfile -d '' argv < <(printf %s "\$1" | base64 -d)
operator=\${argv[0]}
argv=("\${argv[@]:1}")
exec runuser -u easysks -- env -i PATH=/usr/bin:/bin EASYSKS_OPERATOR="\$operator" \\
    DATABASE_URL_FILE=/run/easysks/secrets/DATABASE_URL \\
    /opt/easysks/current/bin/easysks-admin "\${argv[@]}"
EASYSKS_REMOTE
/bin/bash "\$script" $encoded
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
if [ -z "$instance" ]; then
    # shellcheck disable=SC2016 # JMESPath backquotes, not shell
    instance=$(awsc autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$asg" \
        --query 'AutoScalingGroups[0].Instances[?LifecycleState==`InService` && HealthStatus==`Healthy`].InstanceId | [0]' \
        --output text)
    if [ -z "$instance" ] || [ "$instance" = None ]; then
        die "no healthy InService instance in $asg (use --instance-id)"
    fi
fi
say "easysks-admin ${args[0]} on $instance ($env) as $operator"
run_on_host "$instance" "easysks admin $env ${args[0]}" 120 "$(remote_commands)" ||
    die "easysks-admin failed"
