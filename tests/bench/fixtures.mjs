// Request fixtures for the bench endpoints that need state or signatures.
//
//   node tests/bench/fixtures.mjs exam-sessions --base URL --tokens FILE
//       starts one exam session per learner; prints "token<TAB>session_id<TAB>card,card,..."
//   node tests/bench/fixtures.mjs webhooks --secret WHSEC --count N
//       prints N Stripe-signed events as "signature<TAB>body" (distinct event ids,
//       signed now: run it right before the measurement, the tolerance is 5 minutes)
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    base: { type: 'string' },
    tokens: { type: 'string' },
    secret: { type: 'string' },
    count: { type: 'string', default: '100000' },
  },
});
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; // loopback, self-signed

if (positionals[0] === 'exam-sessions') {
  const tokens = readFileSync(values.tokens, 'utf8').split('\n').filter(Boolean);
  const out = await Promise.all(tokens.map(async (token, i) => {
    const res = await fetch(`${values.base}/api/exam-sessions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ sheet_number: 1 + (i % 15) }),
    });
    if (res.status !== 200) throw new Error(`exam start: ${res.status} ${await res.text()}`);
    const s = await res.json();
    return `${token}\t${s.session_id}\t${s.questions.map((q) => q.card_id).join(',')}`;
  }));
  process.stdout.write(out.join('\n') + '\n');
} else if (positionals[0] === 'webhooks') {
  const t = Math.floor(Date.now() / 1000);
  const lines = [];
  for (let i = 0; i < Number(values.count); i++) {
    const body = JSON.stringify({
      id: `evt_bench_${randomUUID().replace(/-/g, '')}`,
      object: 'event',
      type: 'customer.subscription.updated',
      created: t,
      data: { object: { id: `sub_bench_${i % 500}`, object: 'subscription', customer: `cus_bench_${i % 500}`,
        status: 'active', items: { data: [{ current_period_end: t + 30 * 86400 }] } } },
    });
    const sig = createHmac('sha256', values.secret).update(`${t}.${body}`).digest('hex');
    lines.push(`t=${t},v1=${sig}\t${body}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
} else {
  console.error('usage: fixtures.mjs exam-sessions|webhooks ...');
  process.exit(2);
}
