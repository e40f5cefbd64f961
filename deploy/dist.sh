#!/usr/bin/env bash
# Package a versioned release: dist/easysks-<version>.tar.gz and its .sha256.
#
#   deploy/dist.sh            (`make dist` calls it after building)
#
# version = $EASYSKS_VERSION or `git describe --always --dirty`.
# The tarball has no top-level directory: hosts unpack it into
# /opt/easysks/releases/<version>/ and point /opt/easysks/current at it.
#
#   bin/easysks-fcgi bin/easysks-migrate      from build/ (never the sanitizer build),
#   bin/easysks-jobs                          the job process (AI grading)
#   bin/easysks-admin                         the operator command
#   bin/easysks-fetch-secrets ...             host scripts (deploy/host/*.sh)
#   sql/migrations/ data/sks/ web/            migrations, catalogue, static client
#   nginx/ deploy/render-nginx.sh             templates and their renderer
#   deploy/render-web-config.sh               the web client's /config.json
#   systemd/ cloudwatch-agent.json            units, the IMDS guard rules and the log shipping config
#   rds-ca.pem                                RDS certificate authorities (EASYSKS_RDS_CA_BUNDLE,
#                                             default deploy/rds-ca/global-bundle.pem): hosts
#                                             verify the database with it and need no download
#   docs/                                     architecture and runbook
#   VERSION MANIFEST                          version; sha256 of every other file
#
# Reproducible-ish: sorted entries, fixed mtime (the commit time), owner 0:0,
# normalised modes, gzip without name/timestamp.
#
# The binaries run on the hosts as they are: Debian 12 amd64 (the AMI). dist
# refuses any other build machine (/etc/os-release, dpkg's architecture);
# build elsewhere inside a debian:12 container for amd64.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-build}
data=${EASYSKS_SKS_DATA:-$root/../shared/data/sks}
out=${DIST_DIR:-$root/dist}

usage() {
    echo "usage: deploy/dist.sh   (env: EASYSKS_VERSION, DIST_DIR, EASYSKS_SKS_DATA, BUILD, EASYSKS_RDS_CA_BUNDLE)" >&2
    exit 2
}
[ $# -eq 0 ] || usage

# The build machine must be what the hosts run (EASYSKS_OS_RELEASE and
# EASYSKS_DIST_ARCH only let tests/deploy/check.sh show the refusal).
os_release=${EASYSKS_OS_RELEASE:-/etc/os-release}
os_id=$(sed -n 's/^ID=//p' "$os_release" 2>/dev/null | tr -d '"')
os_version=$(sed -n 's/^VERSION_ID=//p' "$os_release" 2>/dev/null | tr -d '"')
arch=${EASYSKS_DIST_ARCH:-$(dpkg --print-architecture 2>/dev/null || uname -m)}
if [ "$os_id" != debian ] || [ "$os_version" != 12 ] || [ "$arch" != amd64 ]; then
    echo "dist: this machine is ${os_id:-?} ${os_version:-?} $arch; the hosts run Debian 12 amd64: build there (e.g. in a debian:12 amd64 container)" >&2
    exit 1
fi

ca_bundle=${EASYSKS_RDS_CA_BUNDLE:-$root/deploy/rds-ca/global-bundle.pem}
if ! [ -s "$ca_bundle" ] || ! openssl x509 -in "$ca_bundle" -noout 2>/dev/null; then
    echo "dist: no RDS CA bundle at $ca_bundle (EASYSKS_RDS_CA_BUNDLE): save https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem there (docs/runbook.md)" >&2
    exit 1
fi

version=${EASYSKS_VERSION:-$(git -C "$root" describe --always --dirty 2>/dev/null || true)}
[ -n "$version" ] || { echo "dist: no version (set EASYSKS_VERSION outside a git checkout)" >&2; exit 1; }
if ! [[ $version =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
    echo "dist: version '$version' may contain letters, digits, '.', '_' and '-' only" >&2
    exit 1
fi

for f in "$root/$build/easysks-fcgi" "$root/$build/easysks-migrate" "$root/$build/easysks-admin" \
    "$root/$build/easysks-jobs"; do
    [ -x "$f" ] || { echo "dist: $f is missing; run 'make all' first" >&2; exit 1; }
done
[ -d "$data" ] || { echo "dist: catalogue directory $data not found (EASYSKS_SKS_DATA)" >&2; exit 1; }

stage=$(mktemp -d "${TMPDIR:-/tmp}/easysks-dist.XXXXXX")
trap 'rm -rf "$stage"' EXIT
r=$stage/root
mkdir -p "$r/bin" "$r/sql" "$r/data" "$r/deploy" "$r/systemd"

install -m 0755 "$root/$build/easysks-fcgi" "$root/$build/easysks-migrate" "$root/$build/easysks-admin" \
    "$root/$build/easysks-jobs" "$r/bin/"
for s in "$root"/deploy/host/*.sh; do
    install -m 0755 "$s" "$r/bin/easysks-$(basename "$s" .sh)"
done
cp -R "$root/sql/migrations" "$r/sql/migrations"
cp -R "$data" "$r/data/sks"
cp -R "$root/nginx" "$r/nginx"
install -m 0755 "$root/deploy/render-nginx.sh" "$r/deploy/render-nginx.sh"
install -m 0755 "$root/deploy/render-web-config.sh" "$r/deploy/render-web-config.sh"
cp -R "$root/app/web" "$r/web"
cp "$root"/deploy/systemd/*.service "$root"/deploy/systemd/*.nft "$r/systemd/"
cp "$root/deploy/cloudwatch-agent.json" "$r/cloudwatch-agent.json"
cp "$ca_bundle" "$r/rds-ca.pem"
if [ -d "$root/docs" ]; then cp -R "$root/docs" "$r/docs"; fi
echo "$version" >"$r/VERSION"

# Normalise modes: directories 0755, files 0644 unless executable (0755).
find "$r" -type d -exec chmod 0755 {} +
find "$r" -type f -perm -u+x -exec chmod 0755 {} +
find "$r" -type f ! -perm -u+x -exec chmod 0644 {} +

(cd "$r" && find . -type f ! -name MANIFEST -printf '%P\n' | LC_ALL=C sort |
    xargs -d '\n' sha256sum) >"$stage/MANIFEST"
mv "$stage/MANIFEST" "$r/MANIFEST"
chmod 0644 "$r/MANIFEST"

epoch=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}
mkdir -p "$out"
tarball=$out/easysks-$version.tar.gz
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
    --format=gnu -C "$r" -cf - . | gzip -n -9 >"$tarball.tmp"
mv "$tarball.tmp" "$tarball"
(cd "$out" && sha256sum "easysks-$version.tar.gz" >"easysks-$version.tar.gz.sha256")
echo "$tarball"
