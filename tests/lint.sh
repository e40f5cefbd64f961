#!/usr/bin/env bash
# Static checks: shellcheck on every shell script, nginx -t on the rendered
# configuration (local defaults and the host layout), the web client's
# bundle, clang-format drift.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=deploy/lib.sh
. deploy/lib.sh

passed=0 failed=0
check() {
    local name=$1
    shift
    if out=$("$@" 2>&1); then
        passed=$((passed + 1))
        echo "ok - $name"
    else
        failed=$((failed + 1))
        echo "not ok - $name"
        printf '%s\n' "$out" | head -n 30 | sed 's/^/#   /'
    fi
}

scripts=$(git ls-files | while read -r f; do
    case "$f" in
    *.sh | .ci/run | deploy/dev-token) echo "$f" ;;
    esac
done)
# shellcheck disable=SC2086
check "shellcheck ($(wc -w <<<"$scripts") scripts)" shellcheck -x $scripts

nginx_t() { # render with the given environment into a temp dir and nginx -t
    local d
    d=$(mktemp -d)
    trap 'rm -rf "$d"' RETURN
    mkdir -p "$d/web" "$d/media"
    make_cert "$d/tls" &&
        NGINX_RUN_DIR=$d/run NGINX_LOG_DIR=$d/log EASYSKS_SOCKET=$d/pool.sock \
            EASYSKS_WEB_ROOT=$d/web EASYSKS_MEDIA_ROOT=$d/media TLS_CERT=$d/tls/cert.pem \
            TLS_KEY=$d/tls/key.pem "$@" deploy/render-nginx.sh "$d/conf" &&
        "$NGINX_BIN" -t -q -p "$d/conf" -c "$d/conf/nginx.conf" -e "$d/log/error.log"
}
check "nginx -t (local defaults)" nginx_t env
check "nginx -t (host layout: 443/80 on all addresses, www-data)" nginx_t env EASYSKS_BIND=0.0.0.0 \
    EASYSKS_HTTPS_PORT=443 EASYSKS_HTTP_PORT=80 NGINX_USER_DIRECTIVE="user www-data;"
check "nginx -t (dev with the cognito-local route)" nginx_t env EASYSKS_ENV=dev \
    COGNITO_LOCAL_UPSTREAM=127.0.0.1:9229

# lib/ in layers: no upward include, no FastCGI, no include circle.
check "lib/ layers (tests/lint/layers.mjs)" node tests/lint/layers.mjs lib

# The web client: service worker list, modulepreloads, no inline code, size.
check "web client bundle (tests/e2e/bundle-check.mjs)" node tests/e2e/bundle-check.mjs
# Sign-out, sign-in and sync racing a slow token renewal (no browser needed).
check "web client session races (tests/e2e/auth-races.mjs)" timeout 60 node tests/e2e/auth-races.mjs

fmt_drift() {
    local f bad=0
    for f in lib/*/*.[ch] app/*/*.[ch] tests/unit/*.[ch] tests/unit/*/*.c tests/fuzz/*.c; do
        clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || { echo "$f"; bad=1; }
    done
    return "$bad"
}
if command -v clang-format >/dev/null; then
    check "clang-format (make fmt)" fmt_drift
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
