#!/usr/bin/env bash
# Put nginx's certificate for the load balancer leg in place before nginx
# starts or reloads.
#
#   easysks-tls [--days N] DIR
#
# Browsers never see this certificate: the network load balancer terminates
# TLS with the ACM certificate of the public host name and opens a second TLS
# connection to nginx, without verifying nginx's certificate (AWS documents
# that targets may use self-signed ones). So each host makes its own: a
# self-signed certificate for the instance's host name in DIR/cert.pem and
# DIR/key.pem (0400), kept across restarts and renewed when it expires within
# 30 days. Nothing is fetched, so nginx never depends on a secret having a
# value: the failure that kept nginx down on a new environment (an empty
# certificate secret) cannot happen.
set -euo pipefail
set +x

days=825
if [ "${1:-}" = --days ]; then
    days=${2:?}
    shift 2
fi
dir=${1:?usage: easysks-tls [--days N] DIR}

umask 077
mkdir -p "$dir"
if [ -s "$dir/cert.pem" ] && [ -s "$dir/key.pem" ] &&
    openssl x509 -in "$dir/cert.pem" -noout -checkend $((30 * 86400)) >/dev/null 2>&1; then
    echo "easysks-tls: keeping $(openssl x509 -in "$dir/cert.pem" -noout -subject -enddate | tr '\n' ' ')" >&2
else
    name=$(hostname -f 2>/dev/null || hostname)
    openssl req -x509 -newkey rsa:2048 -nodes -days "$days" -subj "/CN=$name" \
        -addext "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1" \
        -keyout "$dir/.key.pem" -out "$dir/.cert.pem" 2>/dev/null
    mv -f "$dir/.key.pem" "$dir/key.pem"
    mv -f "$dir/.cert.pem" "$dir/cert.pem"
    echo "easysks-tls: made a host certificate for $name (the load balancer leg; the public one is ACM's)" >&2
fi
chmod 0400 "$dir/cert.pem" "$dir/key.pem"
