// Bounded load for the integration tests: C concurrent loops of HTTPS
// requests to one loopback URL for D milliseconds, then a JSON summary of
// the statuses seen. Never a timing assertion: tests check for failures.
//
//   node tests/tools/load.mjs --url https://127.0.0.1:PORT/api/health \
//        [--concurrency 8] [--duration-ms 3000] [--requests N] [--header "Name: value"]
//
// --requests stops after N requests in all (the duration still bounds the run).
// The summary includes the slowest answer (slowest_ms), for reporting only.
import https from 'node:https';
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
    'duration-ms': { type: 'string', default: '3000' },
    requests: { type: 'string', default: '0' },
    header: { type: 'string', multiple: true, default: [] },
  },
});
if (!values.url) {
  console.error('usage: load.mjs --url URL [--concurrency N] [--duration-ms MS]');
  process.exit(2);
}
const url = new URL(values.url);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
  console.error('load.mjs only targets loopback addresses');
  process.exit(2);
}
const lib = url.protocol === 'https:' ? https : http;
const agent = new lib.Agent({ keepAlive: true, maxSockets: Number(values.concurrency) });
const headers = {};
for (const h of values.header) {
  const i = h.indexOf(':');
  headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
}
const deadline = Date.now() + Number(values['duration-ms']);
const maxRequests = Number(values.requests);
let started = 0;
const statuses = {};
let errors = 0;
const errorSamples = [];
let slowest = 0;

function once() {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const req = lib.request(url, { agent, headers, rejectUnauthorized: false, timeout: 10000 }, (res) => {
      res.resume();
      res.on('end', () => {
        statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1;
        slowest = Math.max(slowest, Date.now() - t0);
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => {
      errors++;
      if (errorSamples.length < 5) errorSamples.push(e.message);
      resolve();
    });
    req.end();
  });
}

async function loop() {
  while (Date.now() < deadline && (maxRequests === 0 || started < maxRequests)) {
    started++;
    await once();
  }
}

await Promise.all(Array.from({ length: Number(values.concurrency) }, loop));
agent.destroy();
const total = Object.values(statuses).reduce((a, b) => a + b, 0) + errors;
console.log(JSON.stringify({
  total, statuses, errors, errorSamples, slowest_ms: slowest,
}));
