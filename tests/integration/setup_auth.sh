#!/usr/bin/env bash
# Auth for the test stack (sourced by run.sh before the pool starts):
# cognito-local as the user pool, plus our own RSA test keys. One JWKS
# server publishes both cognito-local's public key and ours, so the pool
# verifies real cognito-local tokens and tokens we mint, under one issuer.
# shellcheck disable=SC2154

export COGNITO_LOCAL_PORT
COGNITO_LOCAL_PORT=$(free_port)
cat >"$IT/cognito.cleanup" <<CLEAN
EASYSKS_VAR=$IT COGNITO_LOCAL_PORT=$COGNITO_LOCAL_PORT $EASYSKS_ROOT/deploy/cognito-local.sh stop
CLEAN
EASYSKS_VAR=$IT "$EASYSKS_ROOT/deploy/cognito-local.sh" start >/dev/null || return 1
EASYSKS_VAR=$IT "$EASYSKS_ROOT/deploy/cognito-local.sh" bootstrap >/dev/null || return 1
cognito_env=$(EASYSKS_VAR=$IT "$EASYSKS_ROOT/deploy/cognito-local.sh" env) || return 1
COGNITO_ISSUER=$(sed -n 's/^AUTH_ISSUER=//p' <<<"$cognito_env")
COGNITO_CLIENT_ID=$(sed -n 's/^COGNITO_CLIENT_ID=//p' <<<"$cognito_env")
COGNITO_ENDPOINT=$(sed -n 's/^COGNITO_ENDPOINT=//p' <<<"$cognito_env")
cognito_jwks=$(sed -n 's/^AUTH_JWKS_URL=//p' <<<"$cognito_env")
export COGNITO_ISSUER COGNITO_CLIENT_ID COGNITO_ENDPOINT

# Signing keys live in $SIGNING; the JWKS server publishes what is in $KEYS.
KEYS=$IT/keys
SIGNING=$IT/signing
mkdir -p "$KEYS" "$SIGNING"
export KEYS SIGNING
for k in test-key-1 test-key-2 rogue; do
    node "$EASYSKS_ROOT/tests/tools/mint-token.mjs" --gen-key "$SIGNING/$k.pem" || return 1
done
cp "$SIGNING/test-key-1.pem" "$KEYS/"
# cognito-local's signing key, as a public PEM named after its kid.
curl -sf "$cognito_jwks" | node -e '
const { createPublicKey } = require("node:crypto");
const jwks = JSON.parse(require("fs").readFileSync(0, "utf8"));
for (const k of jwks.keys) {
  const pem = createPublicKey({ key: k, format: "jwk" }).export({ type: "spki", format: "pem" });
  require("fs").writeFileSync(process.argv[1] + "/" + k.kid + ".pem", pem);
}' "$KEYS" || return 1

node "$EASYSKS_ROOT/tests/tools/jwks-server.mjs" --port 0 --port-file "$IT/jwks.port" \
    --keys-dir "$KEYS" >"$IT/log/jwks.log" 2>&1 &
echo "kill $!" >"$IT/jwks.cleanup"
wait_for 10 "the JWKS server" test -s "$IT/jwks.port" || return 1
JWKS_PORT=$(cat "$IT/jwks.port")
export JWKS_PORT
export AUTH_ISSUER=$COGNITO_ISSUER
export AUTH_JWKS_URL=http://127.0.0.1:$JWKS_PORT/.well-known/jwks.json
export AUTH_CLIENT_IDS="$COGNITO_CLIENT_ID,test-client"
# The browser client signs in through nginx's same-origin route to cognito-local.
export COGNITO_LOCAL_UPSTREAM=127.0.0.1:$COGNITO_LOCAL_PORT AUTH_CLIENT_ENDPOINT=/cognito/
# The catalogue's figures, served under /media/ as in a deployment.
cp "${EASYSKS_SKS_DATA:-$EASYSKS_ROOT/../shared/data/sks}"/images/*.gif "$EASYSKS_MEDIA_ROOT/"
