// auth-races.mjs - the web client's session and sync modules under Node,
// with the browser globals they use stood in for (localStorage, fetch,
// navigator, document, window) and Cognito and the API answering when the
// test says so: the races a slow link opens between a token renewal or a
// sync in flight and a learner signing out or another signing in.
//
//   node tests/e2e/auth-races.mjs      (tests/lint.sh runs it)
//
// Prints "ok N - ..." lines and exits 1 on the first failure.

import assert from 'node:assert/strict';

// --- browser stand-ins -------------------------------------------------------

const store = new Map();
globalThis.localStorage = {
  getItem: (k) => (store.has(k) ? store.get(k) : null),
  setItem: (k, v) => store.set(k, String(v)),
  removeItem: (k) => store.delete(k),
};
Object.defineProperty(globalThis, 'navigator', { value: { onLine: true }, configurable: true });
globalThis.document = { addEventListener() {}, visibilityState: 'hidden' };
globalThis.window = { addEventListener() {} };

// Every fetch is held until the test answers it.
const pending = [];
globalThis.fetch = (url, init = {}) => new Promise((resolve, reject) => {
  pending.push({ url: String(url), init, resolve, reject });
});
const json = (status, body, headers = {}) => ({
  ok: status >= 200 && status < 300,
  status,
  headers: { get: (h) => headers[h] ?? null },
  json: async () => body,
});
const target = (p) => p.init.headers?.['X-Amz-Target']?.split('.').pop();
const tick = () => new Promise((r) => setTimeout(r, 0));
async function next(pred) {
  for (let i = 0; i < 50; i++) {
    const at = pending.findIndex(pred);
    if (at >= 0) return pending.splice(at, 1)[0];
    await tick();
  }
  throw new Error('no such request was made');
}

// An access token with the claims the client reads (not verified here).
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const token = (sub, expIn = 3600) => `${b64({ alg: 'none' })}.${b64({ sub, exp: Math.floor(Date.now() / 1000) + expIn })}.x`;
const authResult = (sub, refresh) => ({ AuthenticationResult: { AccessToken: token(sub), RefreshToken: refresh } });

// --- the modules under test --------------------------------------------------

store.set('easysks.config', JSON.stringify({ auth: { endpoint: '/cognito/', client_id: 'c' } }));
globalThis.fetch = ((real) => (url, init) => (url === '/config.json' || url === '/api/client-config'
  ? Promise.reject(new Error('offline')) : real(url, init)))(globalThis.fetch);
const { loadConfig } = await import('../../app/web/js/config.js');
await loadConfig();
const auth = await import('../../app/web/js/auth.js');
const { api } = await import('../../app/web/js/api.js');

let n = 0;
async function check(name, fn) {
  await fn();
  console.log(`ok ${++n} - ${name}`);
}

async function signInAs(sub, refresh) {
  const p = auth.signIn(`${sub}@example.com`, 'pw');
  (await next((r) => target(r) === 'InitiateAuth')).resolve(json(200, authResult(sub, refresh)));
  await p;
}

await check('a renewal answered after sign-out does not bring the session back', async () => {
  await signInAs('A', 'rA');
  const renewing = auth.refresh();
  const req = await next((r) => target(r) === 'InitiateAuth');
  auth.signOut();
  (await next((r) => target(r) === 'RevokeToken')).resolve(json(200, {}));
  req.resolve(json(200, authResult('A', 'rA2')));
  assert.equal(await renewing, false);
  assert.equal(auth.signedIn(), false, 'signed in again by a late renewal');
});

await check('a renewal answered after another learner signed in leaves their session alone', async () => {
  await signInAs('A', 'rA');
  const renewing = auth.refresh();
  const req = await next((r) => target(r) === 'InitiateAuth');
  auth.signOut();
  (await next((r) => target(r) === 'RevokeToken')).resolve(json(200, {}));
  await signInAs('B', 'rB');
  req.resolve(json(200, authResult('A', 'rA2')));
  await renewing;
  const s = JSON.parse(store.get('easysks.session'));
  assert.deepEqual([s.sub, s.refresh, auth.currentSub()], ['B', 'rB', 'B']);
});

await check('throttling during a renewal keeps the session; a refused refresh token ends it', async () => {
  const renewing = auth.refresh();
  (await next((r) => target(r) === 'InitiateAuth'))
    .resolve(json(400, { __type: 'TooManyRequestsException' }));
  assert.equal(await renewing, false);
  assert.equal(auth.currentSub(), 'B');
  const again = auth.refresh();
  (await next((r) => target(r) === 'InitiateAuth')).resolve(json(500, '<html>bad gateway</html>'));
  assert.equal(await again, false);
  assert.equal(auth.currentSub(), 'B', 'a 5xx page ended the session');
  const refused = auth.refresh();
  (await next((r) => target(r) === 'InitiateAuth'))
    .resolve(json(400, { __type: 'NotAuthorizedException' }));
  assert.equal(await refused, false);
  assert.equal(auth.signedIn(), false);
});

await check('a request queued for one learner is not sent with the next learner\'s token', async () => {
  await signInAs('B', 'rB');
  await assert.rejects(api('/study/reviews', { method: 'POST', body: {}, asSub: 'A' }),
    (e) => e.code === 'session_expired');
  assert.equal(pending.filter((r) => r.url.startsWith('/api/')).length, 0, 'sent anyway');
  const ok = api('/study/reviews', { method: 'POST', body: {}, asSub: 'B' });
  const req = await next((r) => r.url === '/api/study/reviews');
  assert.match(req.init.headers.Authorization, /^Bearer /);
  req.resolve(json(200, { reviews: [] }));
  assert.deepEqual(await ok, { reviews: [] });
});

process.exit(0); // the session's renewal timer would keep Node running
