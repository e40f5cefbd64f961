#!/usr/bin/env bash
# Deploy a release to an environment, start to finish, under one lock.
#
#   deploy/aws/deploy.sh --env staging|prod --version VERSION --url https://HOST
#                        [--release-bucket B] [--frontend-bucket B] [--dist-dir DIR]
#                        [--skip-smoke] [--endpoint-url URL]
#   deploy/aws/deploy.sh --env staging|prod --break-lock
#
# Takes /easysks/<env>/deploy_lock, then runs the steps in order, each of
# which stops the deploy when it fails:
#   publish.sh   release tarball and frontend bundle to S3 (immutable)
#   migrate.sh   database snapshot, then the release's migrations from one host
#   roll.sh      release parameter and instance refresh (undone on failure)
#   smoke.sh     the public URL: liveness, readiness, certificate, redirect,
#                sign-in (SMOKE_CLIENT_ID, SMOKE_USERNAME, SMOKE_PASSWORD);
#                a failed smoke rolls back (rollback.sh, under the same
#                lock) to the release that ran before, then exits 1
# and gives the lock back, also when a step failed. The steps see the lock
# through EASYSKS_DEPLOY_LOCK and do not take it again; run alone, each
# takes it itself, so a hand-run migrate.sh cannot overlap a deploy.
# Bucket names default to the environment's Terraform outputs (release_bucket,
# frontend_bucket; EASYSKS_TF_OUTPUTS, see common.sh).
# --break-lock deletes a lock left by a deploy that died (check first that it
# is dead: the lock says who and since when).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/aws/common.sh
. "$here/common.sh"

env=
version=
url=
release_bucket=
frontend_bucket=
dist=
smoke=1
break_lock=0
while [ $# -gt 0 ]; do
    case $1 in
    --env) env=${2:?}; shift 2 ;;
    --version) version=${2:?}; shift 2 ;;
    --url) url=${2:?}; shift 2 ;;
    --release-bucket) release_bucket=${2:?}; shift 2 ;;
    --frontend-bucket) frontend_bucket=${2:?}; shift 2 ;;
    --dist-dir) dist=${2:?}; shift 2 ;;
    --skip-smoke) smoke=0; shift ;;
    --break-lock) break_lock=1; shift ;;
    --endpoint-url) AWS_ENDPOINT=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
    esac
done
[ -n "$env" ] || usage
check_env "$env"
endpoint=()
[ -z "$AWS_ENDPOINT" ] || endpoint=(--endpoint-url "$AWS_ENDPOINT")

if [ "$break_lock" = 1 ]; then
    held=$(ssm_get "$(param_lock "$env")")
    [ -n "$held" ] || { say "$env is not locked"; exit 0; }
    say "breaking the lock of $env: $held"
    awsc ssm delete-parameter --name "$(param_lock "$env")" >/dev/null
    exit 0
fi

[ -n "$version" ] || usage
check_version "$version"
[ "$smoke" = 0 ] || [ -n "$url" ] || die "--url https://<app_hostname> (terraform output -json stack: public_url), or --skip-smoke"
[ -n "$release_bucket" ] || release_bucket=$(tf_output "$env" release_bucket)
[ -n "$frontend_bucket" ] || frontend_bucket=$(tf_output "$env" frontend_bucket)

lock_acquire "$env" "deploy $version"
trap lock_release EXIT
# What runs now: where a failed smoke goes back to.
before=$(ssm_get "$(param_release "$env")")
[ "$before" != none ] || before=

say "1/4 publish $version"
"$here/publish.sh" --release-bucket "$release_bucket" --frontend-bucket "$frontend_bucket" \
    --version "$version" ${dist:+--dist-dir "$dist"} "${endpoint[@]}" >/dev/null
say "2/4 migrate"
"$here/migrate.sh" --env "$env" --version "$version" "${endpoint[@]}"
say "3/4 roll"
"$here/roll.sh" --env "$env" --version "$version" "${endpoint[@]}"
if [ "$smoke" = 1 ]; then
    say "4/4 smoke $url"
    if ! "$here/../smoke.sh" "$url"; then
        if [ -z "$before" ] || [ "$before" = "$version" ]; then
            die "smoke failed and there is no earlier release to go back to: $version stays live"
        fi
        say "smoke failed: rolling back to $before"
        "$here/rollback.sh" --env "$env" --to "$before" "${endpoint[@]}" ||
            die "smoke failed and the rollback to $before failed too: check the hosts"
        die "smoke failed: rolled back to $before ($version is not live)"
    fi
else
    say "4/4 smoke skipped (--skip-smoke)"
fi
say "deployed $version to $env"
