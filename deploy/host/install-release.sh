#!/usr/bin/env bash
# Download a release from S3, verify it and unpack it on a host.
#
#   easysks-install-release --bucket BUCKET --version VERSION
#                           [--prefix /opt/easysks] [--activate] [--endpoint-url URL]
#
# Fetches s3://BUCKET/releases/VERSION.tar.gz and its .sha256, checks the
# tarball's sha256, unpacks into PREFIX/releases/VERSION (via a temporary
# directory, then a rename), checks every file against the MANIFEST inside,
# and with --activate points PREFIX/current at it (atomic symlink swap).
# Prints the release directory. An already installed version is re-verified,
# not downloaded again.
#
# Terraform embeds this file in the user data (deploy/cloud-init/user-data.yaml.tftpl)
# so the bootstrap can install the first release; the release ships it too.
set -euo pipefail

bucket=
version=
prefix=/opt/easysks
activate=0
endpoint=${AWS_ENDPOINT_URL:-}
aws=${AWS_CLI:-/usr/bin/aws}

usage() {
    echo "usage: easysks-install-release --bucket BUCKET --version VERSION [--prefix DIR] [--activate] [--endpoint-url URL]" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --bucket) bucket=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --activate) activate=1; shift ;;
    --endpoint-url) endpoint=$2; shift 2 ;;
    *) usage ;;
    esac
done
if [ -z "$bucket" ] || [ -z "$version" ]; then usage; fi
if ! [[ $version =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
    echo "easysks-install-release: bad version '$version'" >&2
    exit 2
fi

aws_args=(--only-show-errors)
[ -z "$endpoint" ] || aws_args+=(--endpoint-url "$endpoint")
dir=$prefix/releases/$version
mkdir -p "$prefix/releases"

if [ ! -f "$dir/MANIFEST" ]; then
    work=$(mktemp -d "$prefix/releases/.incoming.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    "$aws" s3 cp "${aws_args[@]}" "s3://$bucket/releases/$version.tar.gz" "$work/release.tar.gz"
    "$aws" s3 cp "${aws_args[@]}" "s3://$bucket/releases/$version.tar.gz.sha256" "$work/release.sha256"
    want=$(cut -d' ' -f1 "$work/release.sha256")
    got=$(sha256sum "$work/release.tar.gz" | cut -d' ' -f1)
    if [ -z "$want" ] || [ "$want" != "$got" ]; then
        echo "easysks-install-release: checksum mismatch for $version (want $want, got $got)" >&2
        exit 1
    fi
    mkdir "$work/root"
    tar -xzf "$work/release.tar.gz" -C "$work/root" --no-same-owner
    rm -rf "$dir"
    mv "$work/root" "$dir"
fi

(cd "$dir" && sha256sum --quiet --strict -c MANIFEST) ||
    { echo "easysks-install-release: $dir does not match its MANIFEST" >&2; exit 1; }
if [ "$(cat "$dir/VERSION")" != "$version" ]; then
    echo "easysks-install-release: $dir/VERSION is not $version" >&2
    exit 1
fi

if [ "$activate" = 1 ]; then
    ln -sfn "releases/$version" "$prefix/.current.new"
    mv -T "$prefix/.current.new" "$prefix/current"
fi
echo "$dir"
