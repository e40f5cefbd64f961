#!/usr/bin/env bash
# Smoke test of a deployed EasySKS: one line per check, `ok - ...` or
# `not ok - ...`, then `# N passed, M failed`; exits non-zero on any failure.
#
#   deploy/smoke.sh [--insecure] [--no-login] BASE_URL
#
#   BASE_URL                 e.g. https://staging.easysks.example (no trailing path)
#   --insecure               skip certificate verification (local self-signed);
#                            SMOKE_CA_FILE=PEM verifies against that CA instead
#   --no-login               skip the Cognito login and the authenticated checks
#   SMOKE_HTTP_URL           plain-http base expected to redirect (default: BASE_URL
#                            with http://, same host, port 80)
#   SMOKE_CERT_MIN_DAYS      certificate must stay valid this long (default 14)
#   SMOKE_COGNITO_ENDPOINT   Cognito IdP API (default: what the site's /config.json
#                            tells browsers, the user pool's region; else
#                            https://cognito-idp.$AWS_REGION.amazonaws.com/)
#   SMOKE_CLIENT_ID, SMOKE_USERNAME, SMOKE_PASSWORD   a test user of the pool
#                            (USER_PASSWORD_AUTH); the password is sent on stdin,
#                            never on a command line
#   SMOKE_TIMEOUT            per-request seconds (default 10)
#
# Checks are functions named check_*, run in the order listed in CHECKS; a new
# one is a function plus a line in CHECKS. A check that cannot apply says so and passes with "# SKIP".
set -euo pipefail

insecure=0
login=1
while [ $# -gt 0 ]; do
    case $1 in
    --insecure) insecure=1; shift ;;
    --no-login) login=0; shift ;;
    -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "smoke: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
[ $# -eq 1 ] || { echo "usage: deploy/smoke.sh [--insecure] [--no-login] BASE_URL" >&2; exit 2; }
base=${1%/}
if ! [[ $base =~ ^https://([^/:]+|\[[0-9a-fA-F:]+\])(:([0-9]+))?$ ]]; then
    echo "smoke: BASE_URL must be https://host[:port] (got $base)" >&2
    exit 2
fi
host=${BASH_REMATCH[1]}
port=${BASH_REMATCH[3]:-443}
http_base=${SMOKE_HTTP_URL:-http://$host}
min_days=${SMOKE_CERT_MIN_DAYS:-14}
timeout=${SMOKE_TIMEOUT:-10}
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-eu-central-1}}
cognito=${SMOKE_COGNITO_ENDPOINT:-}

work=$(mktemp -d "${TMPDIR:-/tmp}/easysks-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 0700 "$work"

curl_tls=()
if [ -n "${SMOKE_CA_FILE:-}" ]; then
    curl_tls=(--cacert "$SMOKE_CA_FILE")
elif [ "$insecure" = 1 ]; then
    curl_tls=(--insecure)
fi

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }

# req URL [curl args...]: body to $work/body, headers to $work/headers,
# prints the status code (000 when the connection failed).
req() {
    local url=$1
    shift
    curl -sS "${curl_tls[@]}" --max-time "$timeout" -o "$work/body" -D "$work/headers" \
        -w '%{http_code}' "$@" "$url" 2>"$work/curl.err" || true
}

# json_get FILE KEY: top-level string/number value, empty when absent.
json_get() {
    python3 -c 'import json,sys
try:
    v = json.load(open(sys.argv[1])).get(sys.argv[2], "")
except Exception:
    v = ""
print(v if isinstance(v, (str, int, float)) else json.dumps(v))' "$1" "$2"
}

check_liveness() {
    local code
    code=$(req "$base/health")
    if [ "$code" = 200 ]; then ok "GET /health is 200"; else not_ok "GET /health is 200 (got $code $(head -c 200 "$work/curl.err"))"; fi
}

check_readiness() {
    local code status
    code=$(req "$base/api/health")
    status=$(json_get "$work/body" status)
    if [ "$code" = 200 ] && [ "$status" = ok ]; then
        ok "GET /api/health is 200 with status ok"
    else
        not_ok "GET /api/health is 200 with status ok (got $code: $(head -c 300 "$work/body" | tr '\n' ' '))"
    fi
}

check_certificate() {
    local chain verify=() end
    if [ "$insecure" = 1 ] && [ -z "${SMOKE_CA_FILE:-}" ]; then
        verify=()
    else
        verify=(-verify_return_error -verify_hostname "$host")
        [ -z "${SMOKE_CA_FILE:-}" ] || verify+=(-CAfile "$SMOKE_CA_FILE")
    fi
    if ! chain=$(openssl s_client -connect "$host:$port" -servername "$host" "${verify[@]}" \
        </dev/null 2>"$work/ssl.err"); then
        not_ok "TLS certificate verifies for $host ($(grep -m1 -i 'verify\|error' "$work/ssl.err" || echo 'handshake failed'))"
        return
    fi
    if ! openssl x509 -noout -checkend $((min_days * 86400)) <<<"$chain" >/dev/null 2>&1; then
        end=$(openssl x509 -noout -enddate <<<"$chain" 2>/dev/null || echo unknown)
        not_ok "TLS certificate valid for at least $min_days days ($end)"
        return
    fi
    end=$(openssl x509 -noout -enddate <<<"$chain" | cut -d= -f2)
    if [ "$insecure" = 1 ] && [ -z "${SMOKE_CA_FILE:-}" ]; then
        ok "TLS certificate valid for at least $min_days days (until $end; chain not verified: --insecure)"
    else
        ok "TLS certificate verifies for $host and is valid for at least $min_days days (until $end)"
    fi
}

check_http_redirect() {
    local code loc
    code=$(curl -sS --max-time "$timeout" -o /dev/null -w '%{http_code} %{redirect_url}' \
        "$http_base/smoke-redirect?x=1" 2>"$work/curl.err" || true)
    loc=${code#* }
    code=${code%% *}
    case $code in
    301 | 302 | 307 | 308)
        if [[ $loc == https://* ]]; then
            ok "HTTP redirects to HTTPS ($code -> $loc)"
        else
            not_ok "HTTP redirects to HTTPS (got $code -> $loc)"
        fi
        ;;
    *) not_ok "HTTP redirects to HTTPS (got $code from $http_base $(head -c 200 "$work/curl.err"))" ;;
    esac
}

check_me_unauthenticated() {
    local code
    code=$(req "$base/api/me")
    if [ "$code" = 401 ]; then ok "GET /api/me without a token is 401"; else not_ok "GET /api/me without a token is 401 (got $code)"; fi
}

token=
check_login() {
    local code missing=()
    [ -n "${SMOKE_CLIENT_ID:-}" ] || missing+=(SMOKE_CLIENT_ID)
    [ -n "${SMOKE_USERNAME:-}" ] || missing+=(SMOKE_USERNAME)
    [ -n "${SMOKE_PASSWORD:-}" ] || missing+=(SMOKE_PASSWORD)
    if [ ${#missing[@]} -gt 0 ]; then
        not_ok "Cognito login (set ${missing[*]}, or pass --no-login)"
        return
    fi
    # Where the web client signs in: the pool's region may differ from ours.
    if [ -z "$cognito" ]; then
        cognito=$(curl -sf "${curl_tls[@]}" --max-time "$timeout" "$base/config.json" 2>/dev/null |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["auth"]["endpoint"])' 2>/dev/null || true)
        [[ $cognito =~ ^https:// ]] || cognito=https://cognito-idp.$region.amazonaws.com/
    fi
    # The request body (with the password) goes to curl on stdin.
    code=$(python3 -c 'import json,os
print(json.dumps({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": os.environ["SMOKE_CLIENT_ID"],
    "AuthParameters": {"USERNAME": os.environ["SMOKE_USERNAME"], "PASSWORD": os.environ["SMOKE_PASSWORD"]}}))' |
        curl -sS --max-time "$timeout" -o "$work/auth.json" -w '%{http_code}' \
            -H 'Content-Type: application/x-amz-json-1.1' \
            -H 'X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth' \
            --data-binary @- "$cognito" 2>"$work/curl.err" || true)
    token=$(python3 -c 'import json,sys
try:
    print(json.load(open(sys.argv[1]))["AuthenticationResult"]["AccessToken"])
except Exception:
    pass' "$work/auth.json")
    if [ "$code" = 200 ] && [ -n "$token" ]; then
        printf 'Authorization: Bearer %s\n' "$token" >"$work/auth.header"
        ok "Cognito login of $SMOKE_USERNAME (USER_PASSWORD_AUTH)"
    else
        not_ok "Cognito login of $SMOKE_USERNAME at $cognito (got $code: $(json_get "$work/auth.json" __type) $(json_get "$work/auth.json" message))"
        token=
    fi
}

check_me_authenticated() {
    local code
    if [ -z "$token" ]; then
        not_ok "GET /api/me with the token is 200 (no token: login failed)"
        return
    fi
    code=$(req "$base/api/me" -H "@$work/auth.header")
    if [ "$code" = 200 ]; then
        ok "GET /api/me with the token is 200"
    else
        not_ok "GET /api/me with the token is 200 (got $code: $(head -c 300 "$work/body" | tr '\n' ' '))"
    fi
}

# One study round trip as a learner would make it: a card from the practice
# queue (always one: due, new, or the next scheduled), a review with its own
# review_id (sent twice: the retry must change nothing), the dashboard
# counting it. Each run adds one review to the smoke user's history.
check_study_round_trip() {
    local code card reps reps2 review_id reviewed
    if [ -z "$token" ]; then
        not_ok "study round trip (no token: login failed)"
        return
    fi
    code=$(req "$base/api/study/practice?limit=1" -H "@$work/auth.header")
    card=$(python3 -c 'import json,sys
try:
    q = json.load(open(sys.argv[1])); print(q[0]["card"]["card_id"])
except Exception:
    pass' "$work/body")
    if [ "$code" != 200 ] || [ -z "$card" ]; then
        not_ok "study: GET /api/study/practice gives a card (got $code: $(head -c 300 "$work/body" | tr '\n' ' '))"
        return
    fi
    review_id=$(python3 -c 'import uuid; print(uuid.uuid4())')
    for attempt in 1 2; do
        code=$(req "$base/api/study/review" -H "@$work/auth.header" -H 'Content-Type: application/json' \
            --data-binary "{\"card_id\":\"$card\",\"rating\":3,\"review_id\":\"$review_id\"}")
        reps=$(python3 -c 'import json,sys
try:
    print(json.load(open(sys.argv[1]))["scheduling_info"]["reps"])
except Exception:
    pass' "$work/body")
        if [ "$code" != 200 ] || [ -z "$reps" ]; then
            not_ok "study: POST /api/study/review of $card (attempt $attempt, got $code: $(head -c 300 "$work/body" | tr '\n' ' '))"
            return
        fi
        if [ "$attempt" = 1 ]; then reps2=$reps; fi
    done
    if [ "$reps" != "$reps2" ]; then
        not_ok "study: a retried review changed the card (reps $reps2 then $reps)"
        return
    fi
    code=$(req "$base/api/dashboard/summary" -H "@$work/auth.header")
    reviewed=$(json_get "$work/body" reviewed_today)
    if [ "$code" = 200 ] && [ "${reviewed:-0}" -ge 1 ]; then
        ok "study round trip: practice -> review $card (reps $reps, retry idempotent) -> dashboard ($reviewed reviewed today)"
    else
        not_ok "study: GET /api/dashboard/summary counts the review (got $code: $(head -c 300 "$work/body" | tr '\n' ' '))"
    fi
}

CHECKS=(liveness readiness certificate http_redirect me_unauthenticated)
if [ "$login" = 1 ]; then
    CHECKS+=(login me_authenticated study_round_trip)
fi

for c in "${CHECKS[@]}"; do
    "check_$c"
done
echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
