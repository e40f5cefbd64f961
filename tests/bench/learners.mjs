// Give bench learners a study history through the API itself: for each
// token, one POST /api/study/reviews batch of 200 reviews (100 cards, each
// reviewed twice over the last 20 days), so queues and dashboards have due,
// learning and review cards to work with.
//
//   node tests/bench/learners.mjs --base https://127.0.0.1:PORT --tokens FILE
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { base: { type: 'string' }, tokens: { type: 'string' } } });
if (!values.base || !values.tokens) {
  console.error('usage: learners.mjs --base URL --tokens FILE');
  process.exit(2);
}
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; // loopback, self-signed
const tokens = readFileSync(values.tokens, 'utf8').split('\n').filter(Boolean);
const day = 86400000;
let failures = 0;
await Promise.all(tokens.map(async (token, n) => {
  const reviews = [];
  for (let i = 1; i <= 100; i++) {
    const topic = ['navigation', 'schifffahrtsrecht', 'wetterkunde', 'seemannschaft_i'][i % 4];
    const card = `${topic}_${1 + ((i * 7 + n) % 100)}`;
    const first = Date.now() - (1 + ((i * 13 + n) % 19)) * day;
    reviews.push({ review_id: randomUUID(), card_id: card, rating: 3, reviewed_at: new Date(first).toISOString() });
    reviews.push({ review_id: randomUUID(), card_id: card, rating: 2 + ((i + n) % 3), reviewed_at: new Date(first + 3600000).toISOString() });
  }
  const res = await fetch(`${values.base}/api/study/reviews`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ reviews }),
  });
  if (res.status !== 200) {
    failures++;
    console.error(`learner ${n}: ${res.status} ${await res.text()}`);
  }
}));
console.log(`${tokens.length - failures} learners with 200 reviews each`);
process.exit(failures ? 1 : 0);
