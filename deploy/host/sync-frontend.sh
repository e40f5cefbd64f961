#!/usr/bin/env bash
# Sync a release's frontend bundle from S3 into the web root.
#
#   easysks-sync-frontend --bucket BUCKET --version VERSION [--dest DIR] [--endpoint-url URL]
#
# deploy/aws/publish.sh uploads the bundle to s3://BUCKET/VERSION/ (one
# prefix per release, so a rollback serves the matching frontend). The sync
# goes into DEST.new (a copy of DEST, then `aws s3 sync --delete`) and is
# swapped in with a rename, so nginx never serves a half-synced tree.
set -euo pipefail

bucket=
version=
dest=/var/www/easysks
endpoint=${AWS_ENDPOINT_URL:-}
aws=${AWS_CLI:-/usr/bin/aws}

usage() {
    echo "usage: easysks-sync-frontend --bucket BUCKET --version VERSION [--dest DIR] [--endpoint-url URL]" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
    --bucket) bucket=${2:?}; shift 2 ;;
    --version) version=${2:?}; shift 2 ;;
    --dest) dest=${2:?}; shift 2 ;;
    --endpoint-url) endpoint=${2:?}; shift 2 ;;
    *) usage ;;
    esac
done
if [ -z "$bucket" ] || [ -z "$version" ]; then usage; fi

aws_args=(--only-show-errors --delete --exact-timestamps)
[ -z "$endpoint" ] || aws_args+=(--endpoint-url "$endpoint")

parent=$(dirname "$dest")
mkdir -p "$parent"
rm -rf "$dest.new" "$dest.old"
if [ -d "$dest" ]; then cp -a "$dest" "$dest.new"; else mkdir -p "$dest.new"; fi
"$aws" s3 sync "${aws_args[@]}" "s3://$bucket/$version/" "$dest.new/"
[ -s "$dest.new/index.html" ] || { echo "easysks-sync-frontend: s3://$bucket/$version/ has no index.html" >&2; exit 1; }
chmod -R u=rwX,go=rX "$dest.new"
if [ -d "$dest" ]; then mv -T "$dest" "$dest.old"; fi
mv -T "$dest.new" "$dest"
rm -rf "$dest.old"
echo "easysks-sync-frontend: $dest <- s3://$bucket/$version/" >&2
