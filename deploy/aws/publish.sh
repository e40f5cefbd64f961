#!/usr/bin/env bash
# Publish a release built by `make dist` to S3: the tarball for the hosts and
# the frontend bundle (the release's web/) under a per-version prefix.
#
#   deploy/aws/publish.sh --release-bucket BUCKET --frontend-bucket BUCKET
#                         [--version VERSION] [--dist-dir DIR] [--endpoint-url URL] [--force]
#
#   s3://RELEASE_BUCKET/releases/VERSION.tar.gz(.sha256)
#   s3://FRONTEND_BUCKET/VERSION/...   (hosts sync it into /var/www/easysks)
#
# VERSION defaults to `git describe --always --dirty` (as deploy/dist.sh).
# Releases are immutable: an existing VERSION with a different checksum is
# refused (--force overwrites; never do that for a release any host runs).
# Bucket names: release_bucket / frontend_bucket of `terraform output -json stack`.
# AWS_CLI (default /usr/bin/aws), AWS_ENDPOINT_URL or --endpoint-url.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/aws/common.sh
. "$here/common.sh"

release_bucket=
frontend_bucket=
version=
dist=$here/../../dist
force=0

while [ $# -gt 0 ]; do
    case $1 in
    --release-bucket) release_bucket=${2:?}; shift 2 ;;
    --frontend-bucket) frontend_bucket=${2:?}; shift 2 ;;
    --version) version=${2:?}; shift 2 ;;
    --dist-dir) dist=${2:?}; shift 2 ;;
    --endpoint-url) AWS_ENDPOINT=${2:?}; shift 2 ;;
    --force) force=1; shift ;;
    -h | --help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
    esac
done
if [ -z "$release_bucket" ] || [ -z "$frontend_bucket" ]; then usage; fi
[ -n "$version" ] || version=$(git -C "$here/../.." describe --always --dirty)
check_version "$version"
case $version in *-dirty) say "warning: publishing a build of a dirty checkout ($version)" ;; esac

tarball=$dist/easysks-$version.tar.gz
[ -f "$tarball" ] || die "$tarball not found; run 'make dist' (EASYSKS_VERSION=$version)"
[ -f "$tarball.sha256" ] || die "$tarball(.sha256) not found; run 'make dist' (EASYSKS_VERSION=$version)"
(cd "$dist" && sha256sum --quiet -c "easysks-$version.tar.gz.sha256") || die "$tarball does not match its .sha256"

work=$(mktemp -d "${TMPDIR:-/tmp}/easysks-publish.XXXXXX")
trap 'rm -rf "$work"' EXIT

key=releases/$version.tar.gz
if awsc s3 cp --only-show-errors "s3://$release_bucket/$key.sha256" "$work/remote.sha256" 2>/dev/null; then
    if [ "$(cut -d' ' -f1 "$work/remote.sha256")" = "$(cut -d' ' -f1 "$tarball.sha256")" ]; then
        say "s3://$release_bucket/$key is already published (same checksum)"
    elif [ "$force" = 1 ]; then
        say "warning: overwriting s3://$release_bucket/$key (--force)"
    else
        die "s3://$release_bucket/$key exists with a different checksum; releases are immutable (bump the version)"
    fi
fi
say "uploading $key"
awsc s3 cp --only-show-errors "$tarball" "s3://$release_bucket/$key"
awsc s3 cp --only-show-errors --content-type text/plain "$tarball.sha256" "s3://$release_bucket/$key.sha256"

say "uploading the frontend bundle to s3://$frontend_bucket/$version/"
mkdir -p "$work/root"
tar -xzf "$tarball" -C "$work/root" ./web
awsc s3 sync --only-show-errors --delete "$work/root/web/" "s3://$frontend_bucket/$version/"
say "published $version"
echo "$version"
