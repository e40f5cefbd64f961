#!/usr/bin/env bash
# Render the nginx templates in nginx/ into an output directory.
#
#   deploy/render-nginx.sh OUT_DIR
#
# Used by `make run`, the integration tests and the hosts alike. Every
# setting comes from the environment (defaults below suit `make run`); only
# the listed ${PLACEHOLDERS} are substituted, nginx's own $variables are left.
set -euo pipefail

out=${1:?usage: render-nginx.sh OUT_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${EASYSKS_NGINX_TEMPLATES:-$here/../nginx}

: "${NGINX_CONF_DIR:=$out}"
: "${NGINX_RUN_DIR:?NGINX_RUN_DIR is required}"
: "${NGINX_LOG_DIR:?NGINX_LOG_DIR is required}"
: "${EASYSKS_SOCKET:?EASYSKS_SOCKET is required (unix socket path of the pool)}"
: "${EASYSKS_WEB_ROOT:?EASYSKS_WEB_ROOT is required}"
: "${EASYSKS_MEDIA_ROOT:?EASYSKS_MEDIA_ROOT is required}"
: "${TLS_CERT:?TLS_CERT is required}"
: "${TLS_KEY:?TLS_KEY is required}"
: "${EASYSKS_BIND:=127.0.0.1}"
: "${EASYSKS_HTTPS_PORT:=8443}"
: "${EASYSKS_HTTP_PORT:=8080}"
: "${EASYSKS_STATUS_PORT:=8081}"
: "${EASYSKS_RATE_LIMIT:=50r/s}"
: "${EASYSKS_RATE_BURST:=100}"
: "${EASYSKS_API_MAX_BODY:=1m}"
: "${NGINX_USER_DIRECTIVE:=}"
: "${COGNITO_LOCAL_UPSTREAM:=}"
# The web client's /config.json, written by deploy/render-web-config.sh.
: "${EASYSKS_WEB_CONFIG:=$NGINX_CONF_DIR/config.json}"
# Where the browser may connect besides this origin (hosts add the Cognito API).
: "${EASYSKS_CSP_CONNECT_SRC:='self'}"
if [ "$EASYSKS_HTTPS_PORT" = 443 ]; then
    EASYSKS_HTTPS_PORT_SUFFIX=""
else
    EASYSKS_HTTPS_PORT_SUFFIX=":$EASYSKS_HTTPS_PORT"
fi
export NGINX_CONF_DIR NGINX_RUN_DIR NGINX_LOG_DIR EASYSKS_SOCKET EASYSKS_WEB_ROOT \
    EASYSKS_MEDIA_ROOT TLS_CERT TLS_KEY EASYSKS_BIND EASYSKS_HTTPS_PORT EASYSKS_HTTP_PORT \
    EASYSKS_STATUS_PORT EASYSKS_RATE_LIMIT EASYSKS_RATE_BURST EASYSKS_API_MAX_BODY NGINX_USER_DIRECTIVE \
    COGNITO_LOCAL_UPSTREAM EASYSKS_HTTPS_PORT_SUFFIX EASYSKS_CSP_CONNECT_SRC EASYSKS_WEB_CONFIG

# shellcheck disable=SC2016 # the list is for envsubst, not for the shell
vars='${NGINX_CONF_DIR} ${NGINX_RUN_DIR} ${NGINX_LOG_DIR} ${EASYSKS_SOCKET} ${EASYSKS_WEB_ROOT}
${EASYSKS_MEDIA_ROOT} ${TLS_CERT} ${TLS_KEY} ${EASYSKS_BIND} ${EASYSKS_HTTPS_PORT}
${EASYSKS_HTTP_PORT} ${EASYSKS_STATUS_PORT} ${EASYSKS_RATE_LIMIT} ${EASYSKS_RATE_BURST} ${EASYSKS_API_MAX_BODY}
${NGINX_USER_DIRECTIVE} ${COGNITO_LOCAL_UPSTREAM} ${EASYSKS_HTTPS_PORT_SUFFIX}
${EASYSKS_CSP_CONNECT_SRC} ${EASYSKS_WEB_CONFIG}'

mkdir -p "$out/snippets" "$NGINX_RUN_DIR" "$NGINX_LOG_DIR"
envsubst "$vars" <"$src/nginx.conf.tmpl" >"$out/nginx.conf"
for f in "$src"/snippets/*.conf; do
    # shellcheck disable=SC2094 # reads the template tree, writes the output tree
    envsubst "$vars" <"$f" >"$out/snippets/$(basename "$f")"
done
if [ -n "$COGNITO_LOCAL_UPSTREAM" ]; then
    if [ "${EASYSKS_ENV:-prod}" != dev ]; then
        echo "render-nginx: COGNITO_LOCAL_UPSTREAM is for EASYSKS_ENV=dev only" >&2
        exit 1
    fi
    cp "$out/snippets/dev-cognito.conf" "$out/snippets/extra-locations.conf"
fi
rm -f "$out/snippets/dev-cognito.conf"
