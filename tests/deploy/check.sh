#!/usr/bin/env bash
# Offline checks of the deploy files: shellcheck, systemd units, cloud-init
# shellcheck disable=SC2016 # bash -c snippets are single-quoted on purpose
# user data, the release tarball. TAP lines, then "N passed, M failed".
#
#   tests/deploy/check.sh
#
# systemd-analyze verify needs every Exec*= path to exist: the units are
# copied into a temporary root (with the distribution's own units for
# sysinit.target & co. and executable stubs at the absolute paths they name)
# and verified with --root; any message counts as a failure, because verify
# exits 0 on unknown keys and bad values. Works as root and as a user, no
# running systemd needed. The user data is rendered like Terraform's
# templatefile() would (tests/deploy/render-tftpl.mjs, sample values in
# tests/deploy/user-data.vars.json) and validated with `cloud-init schema`.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root" || exit 1
T=$(mktemp -d "${TMPDIR:-/tmp}/easysks-deploy-check.XXXXXX")
trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3 # Debian's, with PyYAML (cloud-init depends on it)

passed=0
failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() {
    echo "not ok - $1"
    failed=$((failed + 1))
    [ ! -s "${2:-/dev/null}" ] || sed 's/^/#   /' "$2" | head -n 40
}
# t NAME COMMAND...: ok when the command succeeds.
t() {
    local name=$1
    shift
    if "$@" >"$T/out" 2>&1; then ok "$name"; else not_ok "$name" "$T/out"; fi
}

scripts=(deploy/dist.sh deploy/smoke.sh deploy/staging-local.sh deploy/host/*.sh deploy/aws/*.sh tests/deploy/check.sh)
for s in "${scripts[@]}"; do
    t "shellcheck $s" shellcheck -x "$s"
done
bad=()
for s in "${scripts[@]}"; do
    [ "$s" != deploy/aws/common.sh ] || continue # sourced, inherits the caller's mode
    head -n1 "$s" | grep -q '^#!/usr/bin/env bash$' || bad+=("$s: shebang")
    grep -Eq '^set -(eu|u)o pipefail' "$s" || bad+=("$s: set -euo pipefail")
done
if [ ${#bad[@]} -eq 0 ]; then ok "every deploy script has a bash shebang and strict mode"; else
    printf '%s\n' "${bad[@]}" >"$T/out"; not_ok "every deploy script has a bash shebang and strict mode" "$T/out"; fi
t "node --check on the test tools" bash -c 'node --check tests/deploy/render-tftpl.mjs && node --check tests/deploy/secretsmanager-stub.mjs'

# --- systemd units -------------------------------------------------------------
vr=$T/root
mkdir -p "$vr/etc/systemd/system" "$vr/usr/lib/systemd"
cp -a /usr/lib/systemd/system "$vr/usr/lib/systemd/" 2>/dev/null || cp -a /lib/systemd/system "$vr/usr/lib/systemd/"
cp deploy/systemd/*.service "$vr/etc/systemd/system/"
# Stubs for every absolute executable the units name (%i -> a sample version).
grep -ho '^Exec[A-Za-z]*=[-+!@:]*/[^ ]*' deploy/systemd/*.service | sed 's/^[^=]*=[-+!@:]*//; s/%i/v1/g' | sort -u |
    while read -r exe; do
        mkdir -p "$vr$(dirname "$exe")"
        printf '#!/bin/sh\n' >"$vr$exe"
        chmod 0755 "$vr$exe"
    done
verify() {
    local out
    out=$(systemd-analyze verify --root="$vr" "$@" 2>&1)
    local rc=$?
    [ -z "$out" ] || echo "$out"
    [ $rc -eq 0 ] && [ -z "$out" ]
}
for u in deploy/systemd/*.service; do
    name=$(basename "$u")
    inst=${name/@.service/@v1.service}
    t "systemd-analyze verify $name" verify "$vr/etc/systemd/system/$inst"
done
sed 's/^KillMode=mixed/KilMode=mixed/' deploy/systemd/easysks-fcgi.service >"$vr/etc/systemd/system/broken.service"
if verify "$vr/etc/systemd/system/broken.service" >/dev/null 2>&1; then
    not_ok "self-test: a unit with an unknown key fails verification"
else
    ok "self-test: a unit with an unknown key fails verification"
fi
t "easysks-fcgi.service: graceful stop outlasts EASYSKS_GRACEFUL_TIMEOUT (30 s)" bash -c \
    '[ "$(sed -n "s/^TimeoutStopSec=//p" deploy/systemd/easysks-fcgi.service)" -gt 30 ]'
t "easysks-fcgi.service: no restart loop on a configuration error (78)" \
    grep -qx 'RestartPreventExitStatus=78' deploy/systemd/easysks-fcgi.service

# --- cloud-init user data -------------------------------------------------------
tpl=deploy/cloud-init/user-data.yaml.tftpl
ud=$T/user-data.yaml
t "user data renders like templatefile() with sample values" \
    bash -c "node tests/deploy/render-tftpl.mjs $tpl tests/deploy/user-data.vars.json >$ud"
t "cloud-init schema accepts the rendered user data" cloud-init schema --config-file "$ud"
t "user data stays under EC2's 16 KiB limit" bash -c "[ \$(wc -c <$ud) -lt 16384 ]"
jq 'del(.log_groups)' tests/deploy/user-data.vars.json >"$T/vars-missing.json"
if node tests/deploy/render-tftpl.mjs "$tpl" "$T/vars-missing.json" >/dev/null 2>&1; then
    not_ok "self-test: rendering without a template variable fails"
else
    ok "self-test: rendering without a template variable fails"
fi
t "user data holds no secret values (only ARNs)" bash -c \
    "! grep -nE 'whsec_|sk_(live|test)_|BEGIN [A-Z ]*PRIVATE KEY|password=|postgres(ql)?://[^ ]*:[^ ]*@' $ud"
# The embedded scripts: extract, shellcheck, and keep install-release identical.
$PY - "$ud" "$T" <<'PY' >"$T/extract.out" 2>&1
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
for f in doc["write_files"]:
    if f["path"].startswith("/usr/local/sbin/"):
        open(sys.argv[2] + "/" + f["path"].rsplit("/", 1)[1], "w").write(f["content"])
PY
t "embedded easysks-bootstrap passes shellcheck" shellcheck -s bash "$T/easysks-bootstrap"
t "embedded easysks-install-release is deploy/host/install-release.sh" \
    diff -u deploy/host/install-release.sh "$T/easysks-install-release"
t "cloudwatch-agent.json is JSON with the three log group placeholders" bash -c \
    'jq -e . deploy/cloudwatch-agent.json >/dev/null && for p in APP NGINX_ACCESS NGINX_ERROR; do grep -q "__LOG_GROUP_${p}__" deploy/cloudwatch-agent.json || exit 1; done'

# --- the release tarball -----------------------------------------------------------
if [ -x build/easysks-fcgi ] && [ -x build/easysks-migrate ]; then
    t "dist.sh builds a release" env EASYSKS_VERSION=check-1 DIST_DIR="$T/d1" deploy/dist.sh
    tb=$T/d1/easysks-check-1.tar.gz
    tar -tzvf "$tb" >"$T/listing" 2>/dev/null
    sed 's/.* \.\//.\//' "$T/listing" >"$T/names"
    missing=()
    for f in ./VERSION ./MANIFEST ./bin/easysks-fcgi ./bin/easysks-migrate ./bin/easysks-fetch-secrets \
        ./bin/easysks-install-release ./bin/easysks-run-migrations ./bin/easysks-sync-frontend \
        ./bin/easysks-tls ./deploy/render-nginx.sh ./nginx/nginx.conf.tmpl ./web/index.html \
        ./systemd/easysks-fcgi.service ./systemd/easysks-nginx.service ./systemd/easysks-migrate@.service \
        ./cloudwatch-agent.json ./sql/migrations/0001_roles.sql ./data/sks/sks_catalog.json; do
        grep -qx -- "$f" "$T/names" || missing+=("$f")
    done
    if [ ${#missing[@]} -eq 0 ]; then ok "tarball holds the release layout"; else echo "missing: ${missing[*]}" >"$T/out"; not_ok "tarball holds the release layout" "$T/out"; fi
    t "tarball entries are owned by 0/0" bash -c "! awk '{print \$2}' $T/listing | grep -v '^0/0$'"
    t "tarball has no top-level directory and no absolute or .. paths" bash -c "! grep -vE '^\./' $T/names && ! grep -q '\.\./' $T/names"
    t ".sha256 matches the tarball" bash -c "cd $T/d1 && sha256sum -c --quiet easysks-check-1.tar.gz.sha256"
    mkdir -p "$T/x"
    t "MANIFEST lists and verifies every file" bash -c "tar -xzf $tb -C $T/x && cd $T/x && sha256sum -c --quiet --strict MANIFEST && [ \$(find . -type f ! -name MANIFEST | wc -l) -eq \$(wc -l <MANIFEST) ] && [ \"\$(cat VERSION)\" = check-1 ]"
    t "the release is reproducible (two builds are byte-identical)" bash -c \
        "EASYSKS_VERSION=check-1 DIST_DIR=$T/d2 deploy/dist.sh >/dev/null && cmp $tb $T/d2/easysks-check-1.tar.gz"
    t "dist.sh refuses a version with unsafe characters" bash -c "! EASYSKS_VERSION='a/b' DIST_DIR=$T/d3 deploy/dist.sh 2>/dev/null"
else
    ok "tarball checks # SKIP build/ has no binaries (run make all)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
