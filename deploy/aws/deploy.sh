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
#                sign-in (SMOKE_CLIENT_ID, SMOKE_USERNAME, SMOKE_PASSWORD)
# and gives the lock back, also when a step failed. The steps see the lock
# through EASYSKS_DEPLOY_LOCK and do not take it again; run alone, each
# takes it itself, so a hand-run migrate.sh cannot overlap a deploy.
# Bucket names default to terraform's naming (easysks-<env>-releases-<account>).
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
if [ -z "$release_bucket" ] || [ -z "$frontend_bucket" ]; then
    account=$(awsc sts get-caller-identity --query Account --output text)
    [ -n "$release_bucket" ] || release_bucket=easysks-$env-releases-$account
    [ -n "$frontend_bucket" ] || frontend_bucket=easysks-$env-frontend-$account
fi

lock_acquire "$env" "deploy $version"
trap lock_release EXIT

say "1/4 publish $version"
"$here/publish.sh" --release-bucket "$release_bucket" --frontend-bucket "$frontend_bucket" \
    --version "$version" ${dist:+--dist-dir "$dist"} "${endpoint[@]}" >/dev/null
say "2/4 migrate"
"$here/migrate.sh" --env "$env" --version "$version" "${endpoint[@]}"
say "3/4 roll"
"$here/roll.sh" --env "$env" --version "$version" "${endpoint[@]}"
if [ "$smoke" = 1 ]; then
    say "4/4 smoke $url"
    "$here/../smoke.sh" "$url"
else
    say "4/4 smoke skipped (--skip-smoke)"
fi
say "deployed $version to $env"
