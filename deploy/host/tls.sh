#!/usr/bin/env bash
# Put nginx's certificate and key in place before nginx starts or reloads.
#
#   easysks-tls [--env-file FILE] DIR
#
# The certificate chain and key live in Secrets Manager as TLS_CERT_PEM and
# TLS_KEY_PEM (their ARNs in /etc/easysks/secrets.env, like every secret):
# they are fetched into DIR/cert.pem and DIR/key.pem (0400, root) and checked
# to belong together and not to be expired. Without them (a new environment
# whose certificate is not uploaded yet) a self-signed certificate is made so
# the load balancer's health check passes, with a loud warning: browsers will
# refuse it. EASYSKS_TLS_REQUIRE=1 turns that fallback into a failure.
set -euo pipefail
set +x

env_file=/etc/easysks/secrets.env
if [ "${1:-}" = --env-file ]; then
    env_file=${2:?}
    shift 2
fi
dir=${1:?usage: easysks-tls [--env-file FILE] DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

umask 077
mkdir -p "$dir"
if grep -q '^TLS_CERT_PEM=' "$env_file" 2>/dev/null && grep -q '^TLS_KEY_PEM=' "$env_file"; then
    "$here/easysks-fetch-secrets" --env-file "$env_file" --dest "$dir/.fetch" --only TLS_CERT_PEM,TLS_KEY_PEM
    cert_pub=$(openssl x509 -in "$dir/.fetch/TLS_CERT_PEM" -noout -pubkey)
    key_pub=$(openssl pkey -in "$dir/.fetch/TLS_KEY_PEM" -pubout)
    if [ "$cert_pub" != "$key_pub" ]; then
        echo "easysks-tls: TLS_CERT_PEM and TLS_KEY_PEM do not belong together" >&2
        exit 1
    fi
    if ! openssl x509 -in "$dir/.fetch/TLS_CERT_PEM" -noout -checkend 0 >/dev/null; then
        echo "easysks-tls: TLS_CERT_PEM has expired" >&2
        exit 1
    fi
    mv -f "$dir/.fetch/TLS_CERT_PEM" "$dir/cert.pem"
    mv -f "$dir/.fetch/TLS_KEY_PEM" "$dir/key.pem"
    rm -rf "$dir/.fetch"
    echo "easysks-tls: certificate $(openssl x509 -in "$dir/cert.pem" -noout -subject -enddate | tr '\n' ' ')" >&2
elif [ "${EASYSKS_TLS_REQUIRE:-0}" = 1 ]; then
    echo "easysks-tls: TLS_CERT_PEM/TLS_KEY_PEM are not in $env_file (EASYSKS_TLS_REQUIRE=1)" >&2
    exit 1
else
    if [ ! -s "$dir/cert.pem" ] || [ ! -s "$dir/key.pem" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$(hostname -f 2>/dev/null || hostname)" \
            -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
    fi
    echo "easysks-tls: WARNING: no TLS_CERT_PEM/TLS_KEY_PEM secret; serving a self-signed certificate" >&2
fi
chmod 0400 "$dir/cert.pem" "$dir/key.pem"
