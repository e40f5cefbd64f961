#!/usr/bin/env bash
# Fetch secret values from AWS Secrets Manager into files, one per setting.
#
#   easysks-fetch-secrets [--env-file FILE] [--dest DIR] [--env-out FILE]
#                         [--only N1,N2] [--except N1,N2] [--optional N1,N2]
#                         [--owner USER] [--endpoint-url URL]
#
# FILE (default /etc/easysks/secrets.env) holds NAME=ARN lines (ARNs only,
# never values). Each selected secret's SecretString goes to DIR/NAME
# (default /run/easysks/secrets) with mode 0400; --env-out writes
# NAME_FILE=DIR/NAME lines for systemd's EnvironmentFile= so the program reads
# the value itself (see lib/infra/config.h). Values are never printed or logged:
# they go from the AWS CLI straight into a 0600 temporary file.
#
# --optional names may have no value yet (Secrets Manager answers
# ResourceNotFoundException for a secret without a version) or be scheduled
# for deletion (InvalidRequestException "... marked for deletion"): they are
# skipped with a warning. Any other failure is fatal (exit 1), so systemd
# retries the unit instead of starting with a partial configuration.
#
# Credentials: the instance role (IMDSv2) through the AWS CLI. AWS_CLI selects
# the CLI (default /usr/bin/aws, Debian's v2); AWS_ENDPOINT_URL or
# --endpoint-url points it at a stand-in (tests).
set -euo pipefail
set +x # never trace: the values pass through this process's files

env_file=/etc/easysks/secrets.env
dest=/run/easysks/secrets
env_out=
only=
except=
optional=
owner=
endpoint=${AWS_ENDPOINT_URL:-}
aws=${AWS_CLI:-/usr/bin/aws}

usage() {
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --env-file) env_file=${2:?}; shift 2 ;;
    --dest) dest=${2:?}; shift 2 ;;
    --env-out) env_out=${2:?}; shift 2 ;;
    --only) only=${2:?}; shift 2 ;;
    --except) except=${2:?}; shift 2 ;;
    --optional) optional=${2:?}; shift 2 ;;
    --owner) owner=${2:?}; shift 2 ;;
    --endpoint-url) endpoint=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    *) echo "easysks-fetch-secrets: unknown argument $1" >&2; usage ;;
    esac
done

log() { echo "easysks-fetch-secrets: $*" >&2; }

in_list() { # in_list NAME "A,B,C"
    case ",$2," in *",$1,"*) return 0 ;; *) return 1 ;; esac
}

[ -r "$env_file" ] || { log "cannot read $env_file"; exit 1; }
[ -x "$aws" ] || { log "AWS CLI $aws not found (set AWS_CLI)"; exit 1; }

umask 077
mkdir -p "$dest"
chmod 0700 "$dest"
[ -z "$owner" ] || chown "$owner" "$dest"

aws_args=(--output text)
[ -z "$endpoint" ] || aws_args+=(--endpoint-url "$endpoint")

errlog=$(mktemp "$dest/.err.XXXXXX")
trap 'rm -f "$errlog" "$dest"/.tmp.*' EXIT

fetched=()
n=0
while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line=${line%$'\r'}
    case $line in '' | '#'*) continue ;; esac
    name=${line%%=*}
    arn=${line#*=}
    arn=${arn%\"}; arn=${arn#\"}
    if ! [[ $name =~ ^[A-Z][A-Z0-9_]*$ ]] || [ "$name" = "$line" ] || [ -z "$arn" ] || [[ $arn =~ [[:space:]] ]]; then
        log "$env_file:$n: expected NAME=secret-arn"
        exit 1
    fi
    if [ -n "$only" ] && ! in_list "$name" "$only"; then continue; fi
    if [ -n "$except" ] && in_list "$name" "$except"; then continue; fi

    tmp=$(mktemp "$dest/.tmp.XXXXXX")
    if "$aws" "${aws_args[@]}" secretsmanager get-secret-value --secret-id "$arn" \
        --query SecretString >"$tmp" 2>"$errlog"; then
        chmod 0400 "$tmp"
        [ -z "$owner" ] || chown "$owner" "$tmp"
        mv -f "$tmp" "$dest/$name"
        fetched+=("$name")
        log "fetched $name"
    else
        rm -f "$tmp"
        if in_list "$name" "$optional" && grep -q ResourceNotFoundException "$errlog"; then
            rm -f "$dest/$name"
            log "warning: $name has no value yet; skipped (optional)"
            continue
        fi
        # A deleted secret stays "marked for deletion" for its recovery
        # window: for an optional one that means off, not a broken host.
        if in_list "$name" "$optional" && grep -q InvalidRequestException "$errlog" &&
            grep -qi 'marked for deletion' "$errlog"; then
            rm -f "$dest/$name"
            log "warning: $name is scheduled for deletion; skipped (optional)"
            continue
        fi
        # The CLI's error names the secret and the reason, never the value.
        log "cannot fetch $name: $(tr '\n' ' ' <"$errlog" | cut -c1-300)"
        exit 1
    fi
done <"$env_file"

if [ -n "$only" ]; then
    IFS=, read -ra wanted <<<"$only"
    for name in "${wanted[@]}"; do
        if ! in_list "$name" "$optional" && ! printf '%s\n' "${fetched[@]}" | grep -qx "$name"; then
            log "$name is required but not listed in $env_file"
            exit 1
        fi
    done
fi

if [ -n "$env_out" ]; then
    tmp=$(mktemp "$dest/.tmp.XXXXXX")
    for name in "${fetched[@]}"; do
        echo "${name}_FILE=$dest/$name"
    done >"$tmp"
    chmod 0644 "$tmp"
    [ -z "$owner" ] || chown "$owner" "$tmp"
    mv -f "$tmp" "$env_out"
fi
log "${#fetched[@]} secret(s) in $dest"
