// Reviews under chaos: C concurrent clients send reviews for D milliseconds
// through nginx, as the web client's outbox does: every review has its own
// review_id and is sent again, unchanged, after an answer that is not final
// (503, 429, a lost connection, a timeout) until it is acknowledged (200)
// or the grace after the run ends. Every fifth send is an offline batch
// (POST /api/study/reviews) of three reviews with past reviewed_at times.
// Loopback only.
//
//   node tests/chaos/reviews.mjs --base https://127.0.0.1:PORT --tokens FILE --cards FILE \
//        [--concurrency 32] [--duration-ms 30000] [--grace-ms 20000] --out FILE
//
// --out gets JSON: acknowledged review ids, statuses per attempt, the
// slowest answer, and what was never acknowledged. Never a timing
// assertion here: tests/chaos/run.sh judges.
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: o } = parseArgs({
  options: {
    base: { type: 'string' },
    tokens: { type: 'string' },
    cards: { type: 'string' },
    concurrency: { type: 'string', default: '32' },
    'duration-ms': { type: 'string', default: '30000' },
    'grace-ms': { type: 'string', default: '20000' },
    out: { type: 'string' },
  },
});
const base = new URL(o.base);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname)) {
  console.error('reviews.mjs only targets loopback addresses');
  process.exit(2);
}
const tokens = readFileSync(o.tokens, 'utf8').split('\n').filter(Boolean);
const concurrency = Number(o.concurrency);
const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency, rejectUnauthorized: false });
const stopAt = Date.now() + Number(o['duration-ms']);
const giveUpAt = stopAt + Number(o['grace-ms']);

const statuses = {};
const acked = [];
const unacked = [];
const unexpected = [];
let slowest = 0;
let attempts = 0;

function post(path, token, body) {
  return new Promise((resolve) => {
    const data = JSON.stringify(body);
    const t0 = Date.now();
    const req = https.request({
      host: base.hostname,
      port: base.port,
      path,
      method: 'POST',
      agent,
      timeout: 40000,
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(data),
      },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, text, ms: Date.now() - t0 }));
      res.on('error', () => resolve({ status: 0, text: 'response error', ms: Date.now() - t0 }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, text: e.message, ms: Date.now() - t0 }));
    req.end(data);
  });
}

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });
const cards = readFileSync(o.cards, 'utf8').split('\n').filter(Boolean);
const card = () => cards[Math.floor(Math.random() * cards.length)];
const rating = () => 1 + Math.floor(Math.random() * 4);

// Sends one request until it is final; returns the ids it acknowledged.
async function deliver(token, path, body, ids) {
  for (;;) {
    attempts += 1;
    const r = await post(path, token, body);
    const key = r.status === 0 ? 'network' : String(r.status);
    statuses[key] = (statuses[key] || 0) + 1;
    slowest = Math.max(slowest, r.ms);
    if (r.status === 200) {
      acked.push(...ids);
      return;
    }
    if (r.status !== 0 && r.status !== 503 && r.status !== 429) {
      unexpected.push({ status: r.status, body: r.text.slice(0, 200), ids });
      return;
    }
    if (Date.now() > giveUpAt) {
      unacked.push(...ids);
      return;
    }
    await sleep(100 + Math.floor(Math.random() * 200));
  }
}

async function client(n) {
  const token = tokens[n % tokens.length];
  for (let i = 0; Date.now() < stopAt; i += 1) {
    if (i % 5 === 4) {
      const reviews = [0, 1, 2].map((k) => ({
        review_id: randomUUID(),
        card_id: card(),
        rating: rating(),
        reviewed_at: new Date(Date.now() - (10 + k) * 60000).toISOString(),
      }));
      await deliver(token, '/api/study/reviews', { reviews }, reviews.map((r) => r.review_id));
    } else {
      const id = randomUUID();
      await deliver(token, '/api/study/review', { card_id: card(), rating: rating(), review_id: id }, [id]);
    }
  }
}

await Promise.all(Array.from({ length: concurrency }, (_, n) => client(n)));
agent.destroy();
writeFileSync(o.out, JSON.stringify({
  attempts, statuses, slowest_ms: slowest, acked, unacked, unexpected,
}));
console.log(JSON.stringify({
  attempts, statuses, slowest_ms: slowest, acked: acked.length, unacked: unacked.length, unexpected: unexpected.length,
}));
