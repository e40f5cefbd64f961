#!/usr/bin/env bash
# Install what the project needs on Debian 12, idempotently: only missing
# Debian packages are installed, and the pinned npm test tooling only when
# package-lock.json changed. Used by `make run`, `make test` and .ci/run.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

packages=(
    build-essential pkg-config
    libfcgi-dev libpq-dev libcjson-dev libjwt-dev libcurl4-openssl-dev libssl-dev
    nginx-light postgresql postgresql-contrib openssl gettext-base curl ca-certificates
    shellcheck wrk awscli cloud-init systemd systemd-container nftables procps iproute2 psmisc jq python3
    chromium
    # the sanitized build and the fuzzers (clang's UBSan adds float-cast-overflow)
    clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
# Node.js may come from elsewhere than Debian (with its own npm): only ask
# for Debian's packages when the commands are missing.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        sudo=sudo
    else
        sudo=
    fi
    $sudo apt-get update -qq
    # nginx and postgresql must not start system services: we run our own.
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
    $sudo rm -f /usr/sbin/policy-rc.d
fi

# npm test tooling, pinned by package-lock.json, never global.
stamp="$root/node_modules/.easysks-lock.sha256"
want=$(sha256sum "$root/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "install-deps: npm ci (test tooling)"
    (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$want" >"$stamp"
fi
