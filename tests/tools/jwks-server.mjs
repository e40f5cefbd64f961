#!/usr/bin/env node
// jwks-server.mjs - serve a JWKS on 127.0.0.1 for integration tests (node: built-ins only).
//
//   node tests/tools/jwks-server.mjs --port 0 --port-file F --keys-dir DIR
//   node tests/tools/jwks-server.mjs --port P --jwks-file keys.json
//
// GET /.well-known/jwks.json (also /<anything>/.well-known/jwks.json, like a user pool):
//   --keys-dir: one RSA key per *.pem (private or public), kid = file name without .pem;
//   the directory is re-read on every request, so tests rotate keys by adding/removing files.
//   --jwks-file: the file is served as is, re-read on every request.
// GET /stats -> {"requests":N,"jwks_requests":N} (all requests / JWKS requests so far).
// GET /control?status=503&delay_ms=2000 -> make JWKS requests fail and/or stall
//   (status=200 and delay_ms=0 restore normal service).
import { createPublicKey } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'port-file': { type: 'string' },
    'keys-dir': { type: 'string' },
    'jwks-file': { type: 'string' },
  },
  strict: true,
});
if (!args['keys-dir'] === !args['jwks-file']) {
  process.stderr.write('jwks-server: give exactly one of --keys-dir or --jwks-file\n');
  process.exit(2);
}

const stats = { requests: 0, jwks_requests: 0 };
const control = { status: 200, delay_ms: 0 };

function buildJwks() {
  if (args['jwks-file']) return readFileSync(args['jwks-file'], 'utf8');
  const keys = [];
  for (const name of readdirSync(args['keys-dir']).sort()) {
    if (!name.endsWith('.pem')) continue;
    const pub = createPublicKey(readFileSync(join(args['keys-dir'], name)));
    if (pub.asymmetricKeyType !== 'rsa') continue;
    const jwk = pub.export({ format: 'jwk' });
    keys.push({ kid: basename(name, '.pem'), alg: 'RS256', kty: 'RSA', use: 'sig', n: jwk.n, e: jwk.e });
  }
  return JSON.stringify({ keys });
}

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer((req, res) => {
  stats.requests++;
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/stats') return send(res, 200, JSON.stringify(stats));
  if (url.pathname === '/control') {
    if (url.searchParams.has('status')) control.status = Number(url.searchParams.get('status'));
    if (url.searchParams.has('delay_ms')) control.delay_ms = Number(url.searchParams.get('delay_ms'));
    return send(res, 200, JSON.stringify(control));
  }
  if (url.pathname === '/.well-known/jwks.json' || url.pathname.endsWith('/.well-known/jwks.json')) {
    stats.jwks_requests++;
    const answer = () => {
      if (control.status !== 200) return send(res, control.status, '{"message":"unavailable"}');
      try {
        return send(res, 200, buildJwks());
      } catch (err) {
        return send(res, 500, JSON.stringify({ message: String(err.message) }));
      }
    };
    if (control.delay_ms > 0) setTimeout(answer, control.delay_ms);
    else answer();
    return undefined;
  }
  return send(res, 404, '{"message":"not found"}');
});

server.listen(Number(args.port), args.host, () => {
  const { port } = server.address();
  if (args['port-file']) writeFileSync(args['port-file'], `${port}\n`);
  process.stdout.write(`jwks-server listening on http://${args.host}:${port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
