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
#
# The operator's details for the Impressum and the Datenschutzerklärung
# (docs/privacy.md#legal-pages), all optional; without EASYSKS_LEGAL_NAME
# the pages say that they are not set up for this environment:
#   EASYSKS_LEGAL_NAME, EASYSKS_LEGAL_ADDRESS (lines separated by "|"),
#   EASYSKS_LEGAL_EMAIL, EASYSKS_LEGAL_PHONE, EASYSKS_LEGAL_REPRESENTED_BY,
#   EASYSKS_LEGAL_REGISTER, EASYSKS_LEGAL_VAT_ID, EASYSKS_LEGAL_CONTENT_RESPONSIBLE,
#   EASYSKS_LEGAL_PRIVACY_CONTACT (default the e-mail), EASYSKS_LEGAL_AUTHORITY
#   (the data protection authority), EASYSKS_LEGAL_UPDATED (YYYY-MM-DD),
#   EASYSKS_LEGAL_AWS_REGION (default AWS_REGION, else eu-central-1),
#   EASYSKS_LEGAL_LOG_RETENTION_DAYS and EASYSKS_LEGAL_BACKUP_RETENTION_DAYS
#   (Terraform's log_retention_days and db_backup_retention_days),
#   EASYSKS_LEGAL_AI (on/off; default on when OPENAI_API_KEY is set).
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

# A JSON string of free text: quotes and backslashes escaped, control
# characters refused (nothing here needs one).
json_str() {
    local v=$1 name=$2
    [ -z "$v" ] && { printf 'null'; return; }
    [[ $v =~ [[:cntrl:]] ]] && die "$name must not contain control characters"
    [ "${#v}" -le 500 ] || die "$name is longer than 500 characters"
    v=${v//\\/\\\\}
    v=${v//\"/\\\"}
    printf '"%s"' "$v"
}
json_days() {
    local v=$1 name=$2
    [ -z "$v" ] && { printf 'null'; return; }
    [[ $v =~ ^[0-9]{1,5}$ ]] || die "$name must be a number of days"
    printf '%d' "$((10#$v))"
}
address='[]'
if [ -n "${EASYSKS_LEGAL_ADDRESS:-}" ]; then
    address='['
    IFS='|' read -r -a lines <<<"$EASYSKS_LEGAL_ADDRESS"
    for l in "${lines[@]}"; do
        l=$(sed -E 's/^ +| +$//g' <<<"$l")
        [ -n "$l" ] && address+="$(json_str "$l" EASYSKS_LEGAL_ADDRESS),"
    done
    address="${address%,}]"
fi
case "${EASYSKS_LEGAL_AI:-}" in
on) ai=true ;;
off) ai=false ;;
'') if [ -n "${OPENAI_API_KEY:-}${OPENAI_API_KEY_FILE:-}" ]; then ai=true; else ai=false; fi ;;
*) die "EASYSKS_LEGAL_AI must be on or off" ;;
esac
updated=${EASYSKS_LEGAL_UPDATED:-}
[ -z "$updated" ] || [[ $updated =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || die "EASYSKS_LEGAL_UPDATED must be YYYY-MM-DD"
region=${EASYSKS_LEGAL_AWS_REGION:-${AWS_REGION:-eu-central-1}}
[[ $region =~ ^[a-z]{2}(-[a-z]+)+-[0-9]$ ]] || die "EASYSKS_LEGAL_AWS_REGION must be an AWS region"
legal=$(
    printf '{\n    "name": %s,\n' "$(json_str "${EASYSKS_LEGAL_NAME:-}" EASYSKS_LEGAL_NAME)"
    printf '    "address": %s,\n' "$address"
    printf '    "email": %s,\n' "$(json_str "${EASYSKS_LEGAL_EMAIL:-}" EASYSKS_LEGAL_EMAIL)"
    printf '    "phone": %s,\n' "$(json_str "${EASYSKS_LEGAL_PHONE:-}" EASYSKS_LEGAL_PHONE)"
    printf '    "represented_by": %s,\n' "$(json_str "${EASYSKS_LEGAL_REPRESENTED_BY:-}" EASYSKS_LEGAL_REPRESENTED_BY)"
    printf '    "register": %s,\n' "$(json_str "${EASYSKS_LEGAL_REGISTER:-}" EASYSKS_LEGAL_REGISTER)"
    printf '    "vat_id": %s,\n' "$(json_str "${EASYSKS_LEGAL_VAT_ID:-}" EASYSKS_LEGAL_VAT_ID)"
    printf '    "content_responsible": %s,\n' "$(json_str "${EASYSKS_LEGAL_CONTENT_RESPONSIBLE:-}" EASYSKS_LEGAL_CONTENT_RESPONSIBLE)"
    printf '    "privacy_contact": %s,\n' "$(json_str "${EASYSKS_LEGAL_PRIVACY_CONTACT:-${EASYSKS_LEGAL_EMAIL:-}}" EASYSKS_LEGAL_PRIVACY_CONTACT)"
    printf '    "authority": %s,\n' "$(json_str "${EASYSKS_LEGAL_AUTHORITY:-}" EASYSKS_LEGAL_AUTHORITY)"
    printf '    "updated": %s,\n' "$(json_str "$updated" EASYSKS_LEGAL_UPDATED)"
    printf '    "aws_region": "%s",\n' "$region"
    printf '    "log_retention_days": %s,\n' "$(json_days "${EASYSKS_LEGAL_LOG_RETENTION_DAYS:-}" EASYSKS_LEGAL_LOG_RETENTION_DAYS)"
    printf '    "backup_retention_days": %s,\n' "$(json_days "${EASYSKS_LEGAL_BACKUP_RETENTION_DAYS:-}" EASYSKS_LEGAL_BACKUP_RETENTION_DAYS)"
    printf '    "ai": %s\n  }' "$ai"
)

mkdir -p "$(dirname "$out")"
tmp=$(mktemp "$out.XXXXXX")
cat >"$tmp" <<JSON
{
  "env": "$env_name",
  "api_base": "$api_base",
  "auth": {
    "endpoint": "$endpoint",
    "client_id": "$client_id"
  },
  "legal": $legal
}
JSON
chmod 0644 "$tmp"
mv -f "$tmp" "$out"
