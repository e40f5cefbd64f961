#!/usr/bin/env node
// stripe-event.mjs - build a Stripe webhook event and sign it with the official stripe
// npm package (stripe.webhooks.generateTestHeaderString): real client code computes the
// signature our C code verifies.
//
//   node tests/tools/stripe-event.mjs --type customer.subscription.updated --id evt_1 \
//        --sub sub_1 --customer cus_1 --status active [--period-end N] [--price price_x] \
//        [--cancel-at-period-end] [--legacy-shape] \
//        --secret whsec_x [--secret whsec_y] [--timestamp N] [--scheme v0] [--created N] \
//        --body-out event.json [--post URL [--insecure]]
//
// Objects: customer.subscription.* from --sub/--customer/--status/--period-end/--price
// (current API shape: period end and price on the item; --legacy-shape puts them on the
// subscription as API versions before 2025-03-31 did); checkout.session.completed from
// --session/--client-reference-id/--customer/--subscription [--mode]; invoice.* from
// --invoice/--customer/--subscription; any type from --object JSON.
//
// Prints the Stripe-Signature header (one v1 per --secret, all for the same timestamp,
// as Stripe sends during a rotation) and writes the body, pretty-printed as Stripe sends
// it, to --body-out. --timestamp defaults to now, --created to the timestamp. With --post
// the event is also delivered (the response is printed to stderr); --insecure accepts a
// self-signed certificate (make run).
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const Stripe = require('stripe');

const { values: a } = parseArgs({
  options: {
    type: { type: 'string' },
    id: { type: 'string' },
    created: { type: 'string' },
    timestamp: { type: 'string' },
    secret: { type: 'string', multiple: true },
    scheme: { type: 'string', default: 'v1' },
    sub: { type: 'string' },
    customer: { type: 'string' },
    status: { type: 'string' },
    'period-end': { type: 'string' },
    price: { type: 'string', default: 'price_test_premium_monthly' },
    'cancel-at-period-end': { type: 'boolean', default: false },
    'legacy-shape': { type: 'boolean', default: false },
    session: { type: 'string' },
    'client-reference-id': { type: 'string' },
    subscription: { type: 'string' },
    mode: { type: 'string', default: 'subscription' },
    invoice: { type: 'string' },
    object: { type: 'string' },
    'body-out': { type: 'string' },
    'body-in': { type: 'string' },
    post: { type: 'string' },
    insecure: { type: 'boolean', default: false },
  },
  strict: true,
});

function die(msg) {
  process.stderr.write(`stripe-event: ${msg}\n`);
  process.exit(2);
}
if (!a.secret?.length) die('--secret is required');
const timestamp = a.timestamp ? Number(a.timestamp) : Math.floor(Date.now() / 1000);
const created = a.created ? Number(a.created) : timestamp;

function subscriptionObject() {
  if (!a.sub || !a.customer || !a.status) die('--sub, --customer and --status are required');
  const periodEnd = a['period-end'] ? Number(a['period-end']) : created + 30 * 86400;
  const price = { id: a.price, object: 'price', recurring: { interval: 'month' } };
  const item = { id: `si_${a.sub}`, object: 'subscription_item', price, quantity: 1 };
  const obj = {
    id: a.sub, object: 'subscription', customer: a.customer, status: a.status,
    cancel_at_period_end: a['cancel-at-period-end'], created, livemode: false,
    metadata: {}, items: { object: 'list', data: [item], has_more: false },
  };
  if (a['legacy-shape']) {
    obj.current_period_end = periodEnd;
    obj.plan = { id: a.price, object: 'plan' };
  } else {
    item.current_period_end = periodEnd;
    item.current_period_start = periodEnd - 30 * 86400;
  }
  return obj;
}

function dataObject() {
  if (a.object) return JSON.parse(a.object);
  if (a.type.startsWith('customer.subscription.')) return subscriptionObject();
  if (a.type === 'checkout.session.completed')
    return {
      id: a.session ?? 'cs_test_x', object: 'checkout.session', mode: a.mode, status: 'complete',
      payment_status: 'paid', client_reference_id: a['client-reference-id'] ?? null,
      customer: a.customer ?? null, subscription: a.subscription ?? null, livemode: false,
    };
  if (a.type.startsWith('invoice.'))
    return {
      id: a.invoice ?? 'in_test_x', object: 'invoice', customer: a.customer ?? null,
      status: a.type === 'invoice.paid' ? 'paid' : 'open', livemode: false,
      parent: a.subscription
        ? { type: 'subscription_details', subscription_details: { subscription: a.subscription, metadata: {} } }
        : null,
    };
  return { id: 'obj_test_x', object: 'unknown' };
}

let payload;
if (a['body-in']) {
  payload = readFileSync(a['body-in'], 'utf8');
} else {
  if (!a.type || !a.id) die('--type and --id are required');
  const event = {
    id: a.id, object: 'event', api_version: '2026-10-28.endive', created,
    data: { object: dataObject() }, livemode: false, pending_webhooks: 1,
    request: { id: null, idempotency_key: null }, type: a.type,
  };
  payload = JSON.stringify(event, null, 2);
}
if (a['body-out']) writeFileSync(a['body-out'], payload);

const stripe = new Stripe('sk_test_unused');
const parts = a.secret.map((secret) =>
  stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp, scheme: a.scheme }));
// Each is "t=<ts>,<scheme>=<sig>": one t, then every signature.
const header = [parts[0].split(',')[0], ...parts.map((p) => p.split(',').slice(1).join(','))].join(',');
process.stdout.write(`${header}\n`);

if (a.post) {
  const url = new URL(a.post);
  const send = url.protocol === 'https:' ? request : httpRequest;
  const req = send(url, {
    method: 'POST',
    rejectUnauthorized: !a.insecure,
    headers: { 'Content-Type': 'application/json', 'Stripe-Signature': header, 'Content-Length': Buffer.byteLength(payload) },
  }, (res) => {
    let text = '';
    res.on('data', (c) => { text += c; });
    res.on('end', () => {
      process.stderr.write(`${res.statusCode} ${text}\n`);
      process.exitCode = res.statusCode === 200 ? 0 : 1;
    });
  });
  req.on('error', (err) => die(err.message));
  req.end(payload);
}
