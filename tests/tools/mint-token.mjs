#!/usr/bin/env node
// mint-token.mjs - mint Cognito-shaped JWTs for integration tests (node: built-ins only).
//
//   node tests/tools/mint-token.mjs --gen-key key.pem
//   node tests/tools/mint-token.mjs --key key.pem --kid K --iss ISS --client-id C \
//        [--sub S] [--username U] [--email E] [--token-use access|id] [--exp-offset N]
//        [--nbf-offset N] [--iat-offset N] [--alg RS256|HS256|none] [--hs-secret-file F]
//        [--claims JSON] [--header JSON]
//
// Prints the token (no "Bearer "). Offsets are seconds relative to now (may be negative).
// Access tokens carry client_id, id tokens carry aud (as Cognito does). --claims is merged
// last; a null value deletes a claim. --header is merged into the JOSE header likewise.
import { createHmac, createPrivateKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

function die(msg) {
  process.stderr.write(`mint-token: ${msg}\n`);
  process.exit(2);
}

// Allow "--exp-offset -100": parseArgs would take -100 for an option.
const argv = [];
for (const a of process.argv.slice(2)) {
  const prev = argv[argv.length - 1];
  if (/^-\d/.test(a) && prev?.startsWith('--') && !prev.includes('=')) argv[argv.length - 1] = `${prev}=${a}`;
  else argv.push(a);
}

let args;
try {
  ({ values: args } = parseArgs({
    args: argv,
    options: {
      'gen-key': { type: 'string' },
      key: { type: 'string' },
      kid: { type: 'string' },
      iss: { type: 'string' },
      'client-id': { type: 'string' },
      sub: { type: 'string', default: 'test-user-0001' },
      username: { type: 'string' },
      email: { type: 'string' },
      'token-use': { type: 'string', default: 'access' },
      'exp-offset': { type: 'string', default: '3600' },
      'nbf-offset': { type: 'string' },
      'iat-offset': { type: 'string', default: '0' },
      alg: { type: 'string', default: 'RS256' },
      'hs-secret-file': { type: 'string' },
      claims: { type: 'string' },
      header: { type: 'string' },
      bits: { type: 'string', default: '2048' },
    },
    strict: true,
  }));
} catch (err) {
  die(err.message);
}

if (args['gen-key']) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: Number(args.bits) });
  writeFileSync(args['gen-key'], privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });
  process.exit(0);
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const int = (name) => {
  const v = Number(args[name]);
  if (!Number.isInteger(v)) die(`--${name} must be an integer`);
  return v;
};
const merge = (obj, json, what) => {
  if (json === undefined) return obj;
  let extra;
  try {
    extra = JSON.parse(json);
  } catch (err) {
    die(`${what} is not JSON: ${err.message}`);
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === null) delete obj[k];
    else obj[k] = v;
  }
  return obj;
};

if (!args.iss) die('--iss is required');
if (!args['client-id']) die('--client-id is required');
if (!['access', 'id'].includes(args['token-use'])) die('--token-use must be access or id');
if (!['RS256', 'HS256', 'none'].includes(args.alg)) die('--alg must be RS256, HS256 or none');

const now = Math.floor(Date.now() / 1000);
const header = merge({ kid: args.kid, alg: args.alg }, args.header, '--header');
if (header.kid === undefined) delete header.kid;

const claims = {
  sub: args.sub,
  iss: args.iss,
  token_use: args['token-use'],
  auth_time: now,
  iat: now + int('iat-offset'),
  exp: now + int('exp-offset'),
  jti: randomUUID(),
};
if (args['token-use'] === 'access') {
  claims.client_id = args['client-id'];
  claims.scope = 'aws.cognito.signin.user.admin';
  claims.username = args.username ?? args.sub;
} else {
  claims.aud = args['client-id'];
  claims['cognito:username'] = args.username ?? args.sub;
  if (args.email) claims.email = args.email;
}
if (args['nbf-offset'] !== undefined) claims.nbf = now + int('nbf-offset');
merge(claims, args.claims, '--claims');

const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
let sig = '';
if (args.alg === 'RS256') {
  if (!args.key) die('--key is required for RS256');
  const key = createPrivateKey(readFileSync(args.key));
  sig = b64url(sign('sha256', Buffer.from(input), key));
} else if (args.alg === 'HS256') {
  if (!args['hs-secret-file']) die('--hs-secret-file is required for HS256');
  sig = b64url(createHmac('sha256', readFileSync(args['hs-secret-file'])).update(input).digest());
}
process.stdout.write(`${input}.${sig}\n`);
