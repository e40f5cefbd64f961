#!/usr/bin/env node
// stripe-stub.mjs - a loopback stand-in for the two Stripe API calls the pool makes
// (node: built-ins only). It asserts what a real Stripe would reject or what our
// contract promises, and answers like Stripe:
//
//   POST /v1/checkout/sessions        POST /v1/billing_portal/sessions
//   DELETE /v1/subscriptions/{id}     (cancel at once; an account's erasure)
//
// Every call must carry `Authorization: Bearer <--api-key>` (else 401 as Stripe),
// `Stripe-Version: <--api-version>`, an Idempotency-Key and a form body. Checkout must
// send mode=subscription, one line item of --price with quantity 1, client_reference_id
// and subscription_data[metadata][easysks_sub] equal and non-empty, --success-url and
// --cancel-url, and customer or customer_email but not both; the portal a cus_ customer
// and --return-url. A cancellation must come without a body and without an Idempotency-Key
// (Stripe wants none on DELETE); it answers the subscription with status canceled, and, as
// Stripe does, 404 resource_missing ("No such subscription") for one it cancelled before or
// an id starting sub_missing.
// Nothing else is accepted. A broken assertion answers 400 with
// Stripe's error shape (code stub_assertion) and is kept in the failure list.
// Idempotency as Stripe does it: the same key with the same body replays the first
// answer (header Idempotent-Replayed: true); with another body, 400 idempotency_error.
//
//   node tests/tools/stripe-stub.mjs --port 0 --port-file F --api-key sk_test_x \
//        --price price_x --success-url U --cancel-url U --return-url U [--api-version V]
//
// Control (for tests; never on Stripe's paths):
//   GET  /_stub/state   {"requests":[{path, headers:{stripe-version, idempotency-key,
//                        authorized}, form, connection, replayed, status}], "connections": n,
//                        "failures": [...]}
//   POST /_stub/reset   forget requests, failures and idempotency keys
//   POST /_stub/next    {"status": 402, "body": {...} | "text", "delay_ms": 0, "count": 1}:
//                        the next `count` API calls answer that instead
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'port-file': { type: 'string' },
    'api-key': { type: 'string' },
    'api-version': { type: 'string', default: '2026-10-28.endive' },
    price: { type: 'string' },
    'success-url': { type: 'string' },
    'cancel-url': { type: 'string' },
    'return-url': { type: 'string' },
  },
  strict: true,
});
for (const k of ['api-key', 'price', 'success-url', 'cancel-url', 'return-url']) {
  if (!args[k]) {
    process.stderr.write(`stripe-stub: --${k} is required\n`);
    process.exit(2);
  }
}

let requests = [];
let failures = [];
let idempotency = new Map();
let canceled = new Set();
let next = [];
let connections = 0;
let seq = 0;

function stripeError(status, type, code, message) {
  return { status, body: { error: { type, code, message, doc_url: `https://stripe.test/docs/error-codes/${code}` } } };
}

function checkout(form, problems) {
  const allowed = new Set([
    'mode', 'line_items[0][price]', 'line_items[0][quantity]', 'client_reference_id',
    'subscription_data[metadata][easysks_sub]', 'success_url', 'cancel_url', 'customer', 'customer_email',
  ]);
  for (const k of Object.keys(form)) if (!allowed.has(k)) problems.push(`unexpected field ${k}`);
  if (form.mode !== 'subscription') problems.push(`mode=${form.mode}`);
  if (form['line_items[0][price]'] !== args.price) problems.push(`price=${form['line_items[0][price]']}`);
  if (form['line_items[0][quantity]'] !== '1') problems.push('quantity is not 1');
  if (!form.client_reference_id) problems.push('no client_reference_id');
  if (form['subscription_data[metadata][easysks_sub]'] !== form.client_reference_id)
    problems.push('subscription metadata easysks_sub differs from client_reference_id');
  if (form.success_url !== args['success-url']) problems.push(`success_url=${form.success_url}`);
  if (form.cancel_url !== args['cancel-url']) problems.push(`cancel_url=${form.cancel_url}`);
  if (form.customer !== undefined && form.customer_email !== undefined)
    problems.push('customer and customer_email together (Stripe refuses that)');
  if (form.customer !== undefined && !/^cus_[A-Za-z0-9_]+$/.test(form.customer)) problems.push(`customer=${form.customer}`);
  if (problems.length) return null;
  const id = `cs_test_${++seq}`;
  return {
    status: 200,
    body: {
      id, object: 'checkout.session', mode: 'subscription', status: 'open',
      client_reference_id: form.client_reference_id, customer: form.customer ?? null,
      customer_email: form.customer_email ?? null, success_url: form.success_url, cancel_url: form.cancel_url,
      url: `https://checkout.stripe.test/c/pay/${id}`,
    },
  };
}

function portal(form, problems) {
  for (const k of Object.keys(form)) if (k !== 'customer' && k !== 'return_url') problems.push(`unexpected field ${k}`);
  if (!/^cus_[A-Za-z0-9_]+$/.test(form.customer ?? '')) problems.push(`customer=${form.customer}`);
  if (form.return_url !== args['return-url']) problems.push(`return_url=${form.return_url}`);
  if (problems.length) return null;
  const id = `bps_test_${++seq}`;
  return {
    status: 200,
    body: { id, object: 'billing_portal.session', customer: form.customer, return_url: form.return_url,
      url: `https://billing.stripe.test/p/session/${id}` },
  };
}

function handleApi(req, raw, conn) {
  const h = req.headers;
  const form = Object.fromEntries(new URLSearchParams(raw));
  const rec = {
    method: req.method, path: req.url, connection: conn, form,
    headers: {
      'stripe-version': h['stripe-version'] ?? null,
      'idempotency-key': h['idempotency-key'] ?? null,
      'content-type': h['content-type'] ?? null,
      authorized: h.authorization === `Bearer ${args['api-key']}`,
    },
  };
  requests.push(rec);
  const finish = (answer) => {
    rec.status = answer.status;
    return answer;
  };
  if (!rec.headers.authorized)
    return finish(stripeError(401, 'invalid_request_error', undefined, 'Invalid API Key provided: sk_****'));
  if (next.length) return finish({ ...next.shift(), recorded: true });
  const problems = [];
  const cancel = /^\/v1\/subscriptions\/(sub_[A-Za-z0-9_]+)$/.exec(req.url);
  if (req.method === 'DELETE' && cancel) {
    if (h['stripe-version'] !== args['api-version']) problems.push(`Stripe-Version ${h['stripe-version']}`);
    if (raw.length) problems.push('a body on DELETE');
    if (h['idempotency-key'] !== undefined) problems.push('Idempotency-Key on DELETE');
    if (problems.length) {
      failures.push({ path: req.url, problems });
      return finish(stripeError(400, 'invalid_request_error', 'stub_assertion', problems.join('; ')));
    }
    if (cancel[1].startsWith('sub_missing') || canceled.has(cancel[1]))
      return finish(stripeError(404, 'invalid_request_error', 'resource_missing', `No such subscription: '${cancel[1]}'`));
    canceled.add(cancel[1]);
    return finish({ status: 200, body: { id: cancel[1], object: 'subscription', status: 'canceled',
      canceled_at: Math.floor(Date.now() / 1000), cancel_at_period_end: false } });
  }
  if (req.method !== 'POST') problems.push(`method ${req.method}`);
  if (h['stripe-version'] !== args['api-version']) problems.push(`Stripe-Version ${h['stripe-version']}`);
  if (!/^application\/x-www-form-urlencoded/.test(h['content-type'] ?? '')) problems.push(`Content-Type ${h['content-type']}`);
  const key = h['idempotency-key'];
  if (!key || key.length > 255) problems.push('no usable Idempotency-Key');
  if (key && idempotency.has(key)) {
    const first = idempotency.get(key);
    if (first.raw !== raw || first.path !== req.url)
      return finish(stripeError(400, 'idempotency_error', undefined,
        'Keys for idempotent requests can only be used with the same parameters they were first used with.'));
    rec.replayed = true;
    return finish({ ...first.answer, replayed: true });
  }
  let answer = null;
  if (req.url === '/v1/checkout/sessions') answer = checkout(form, problems);
  else if (req.url === '/v1/billing_portal/sessions') answer = portal(form, problems);
  else return finish(stripeError(404, 'invalid_request_error', 'resource_missing', `Unrecognized request URL (POST: ${req.url})`));
  if (problems.length) {
    failures.push({ path: req.url, problems });
    return finish(stripeError(400, 'invalid_request_error', 'stub_assertion', problems.join('; ')));
  }
  if (key) idempotency.set(key, { raw, path: req.url, answer });
  return finish(answer);
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    const send = (status, body, headers = {}) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Request-Id': `req_stub_${seq}`, ...headers });
      res.end(text);
    };
    if (req.url === '/_stub/state') return send(200, { requests, connections, failures });
    if (req.url === '/_stub/reset') {
      requests = []; failures = []; idempotency = new Map(); next = []; canceled = new Set();
      return send(200, {});
    }
    if (req.url === '/_stub/next') {
      const n = JSON.parse(raw || '{}');
      for (let i = 0; i < (n.count ?? 1); i++) next.push({ status: n.status ?? 200, body: n.body ?? {}, delay_ms: n.delay_ms ?? 0 });
      return send(200, { queued: next.length });
    }
    const answer = handleApi(req, raw, req.socket.easysksId);
    const reply = () => send(answer.status, answer.body, answer.replayed ? { 'Idempotent-Replayed': 'true' } : {});
    if (answer.delay_ms) setTimeout(reply, answer.delay_ms);
    else reply();
  });
});
server.on('connection', (socket) => {
  socket.easysksId = ++connections;
});
server.keepAliveTimeout = 30000;
server.listen(Number(args.port), '127.0.0.1', () => {
  const { port } = server.address();
  if (args['port-file']) writeFileSync(args['port-file'], `${port}\n`);
  process.stdout.write(`stripe-stub listening on 127.0.0.1:${port}\n`);
});
