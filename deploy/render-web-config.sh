#!/usr/bin/env bash
# Render the web client's runtime configuration, /config.json.
#
#   deploy/render-web-config.sh OUT_FILE
#
# nginx serves OUT_FILE as /config.json (EASYSKS_WEB_CONFIG in
# deploy/render-nginx.sh, default NGINX_CONF_DIR/config.json), outside the
# web root, so a frontend sync never deletes it and one bundle serves every
# environment. Nothing in it is secret: the same values ship in any Cognito
# web app.
#
# From the environment:
#   EASYSKS_ENV           dev, staging or prod (required)
#   AUTH_CLIENT_IDS       the web app client id is the first of the list (required)
#   AUTH_CLIENT_ENDPOINT  where browsers send Cognito API calls; default the
#                         origin of AUTH_ISSUER + "/" (the Cognito API of the
#                         pool's region), as /api/client-config answers
#   EASYSKS_API_BASE      default /api
set -euo pipefail

out=${1:?usage: render-web-config.sh OUT_FILE}
env_name=${EASYSKS_ENV:?EASYSKS_ENV is required}
client_id=${AUTH_CLIENT_IDS:?AUTH_CLIENT_IDS is required}
client_id=${client_id%%,*}
endpoint=${AUTH_CLIENT_ENDPOINT:-}
if [ -z "$endpoint" ]; then
    issuer=${AUTH_ISSUER:?AUTH_CLIENT_ENDPOINT or AUTH_ISSUER is required}
    # scheme://host[:port] of the issuer, then "/".
    endpoint=$(sed -E 's#^([a-z]+://[^/]+).*#\1/#' <<<"$issuer")
fi
api_base=${EASYSKS_API_BASE:-/api}

die() {
    echo "render-web-config: $*" >&2
    exit 1
}
# Checked rather than escaped: every value is written into JSON verbatim.
[[ $env_name =~ ^(dev|staging|prod)$ ]] || die "EASYSKS_ENV must be dev, staging or prod"
[[ $client_id =~ ^[A-Za-z0-9_-]{1,128}$ ]] || die "the client id has unexpected characters"
# Plain http only in dev, where the app accepts an http issuer (a local
# Cognito stand-in) too.
scheme=https
[ "$env_name" != dev ] || scheme='https?'
[[ $endpoint =~ ^($scheme://[A-Za-z0-9.:-]+)?/[A-Za-z0-9._~/-]*$ ]] ||
    die "AUTH_CLIENT_ENDPOINT must be https://host/… or a path on this origin"
[[ $api_base =~ ^/[A-Za-z0-9._~/-]*$ ]] || die "EASYSKS_API_BASE must be a path on this origin"

mkdir -p "$(dirname "$out")"
tmp=$(mktemp "$out.XXXXXX")
cat >"$tmp" <<JSON
{
  "env": "$env_name",
  "api_base": "$api_base",
  "auth": {
    "endpoint": "$endpoint",
    "client_id": "$client_id"
  }
}
JSON
chmod 0644 "$tmp"
mv -f "$tmp" "$out"
