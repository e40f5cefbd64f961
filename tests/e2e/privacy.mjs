// The learner's privacy controls in headless Chromium against the
// integration stack (docs/privacy.md): the Impressum and the
// Datenschutzerklärung are reachable from the sign-in screen and show what
// the environment configures; a new learner studies a card, downloads the
// export from Konto → "Daten exportieren" and finds their data in it;
// "Konto löschen" asks for the confirmation word, deletes on the server
// and at Cognito, signs out and wipes the device, and the same e-mail and
// password no longer sign in. A second learner whose Cognito deletion did
// not happen (only the API erased them) is offered to finish it at the next
// sign-in. Screenshots into --out.
//
//   node tests/e2e/privacy.mjs --base https://127.0.0.1:PORT --cert cert.pem \
//     --cognito-state DIR --db OWNER_URL [--out DIR]
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import {
  axe, confirmationCode, launch, recorder, sql, stackRequest, until, watchCsp,
} from './lib.mjs';

const { values: opt } = parseArgs({
  options: {
    base: { type: 'string' },
    cert: { type: 'string' },
    'cognito-state': { type: 'string' },
    db: { type: 'string' },
    out: { type: 'string' },
  },
});
for (const k of ['base', 'cert', 'cognito-state', 'db']) if (!opt[k]) throw new Error(`--${k} is required`);

const password = 'Datensch-Passw0rt!';
const { context, close } = await launch({ cert: opt.cert });
const rec = recorder(context, opt.out);
await watchCsp(context, rec);
const page = context.pages()[0] || await context.newPage();
page.setDefaultTimeout(15000);
let passed = 0;
const ok = (what) => { passed += 1; console.log(`ok ${passed} - ${what}`); };
const session = () => page.evaluate(() => JSON.parse(localStorage.getItem('easysks.session')));
const userRows = (sub) => Number(sql(opt.db, `SELECT count(*) FROM users WHERE cognito_sub = '${sub}'`));

async function signUp(email) {
  await page.goto(`${opt.base}/registrieren`);
  await page.getByLabel('E-Mail-Adresse').fill(email);
  await page.getByLabel('Passwort').fill(password);
  await page.getByRole('button', { name: 'Konto anlegen' }).click();
  await page.locator('h1', { hasText: 'E-Mail bestätigen' }).waitFor();
  await page.getByLabel('Bestätigungscode').fill(await confirmationCode(opt['cognito-state'], email));
  await page.getByRole('button', { name: 'Bestätigen' }).click();
  await page.locator('.stats').waitFor();
  return (await session()).sub;
}

async function signIn(email) {
  await page.goto(`${opt.base}/anmelden`);
  await page.getByLabel('E-Mail-Adresse').fill(email);
  await page.getByLabel('Passwort').fill(password);
  await page.getByRole('button', { name: 'Anmelden' }).click();
}

async function api(method, path, body) {
  const s = await session();
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers = { Authorization: `Bearer ${s.access}` };
  // Node sends a DELETE's body without framing unless told its length.
  if (text !== undefined) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  return stackRequest(opt.cert, `${opt.base}/api${path}`, { method, headers, body: text });
}

try {
  await rec.step('legal pages from the sign-in screen');
  await page.goto(`${opt.base}/`);
  await page.locator('h1', { hasText: 'Anmelden' }).waitFor();
  await page.getByRole('link', { name: 'Impressum' }).click();
  await page.locator('h1', { hasText: 'Impressum' }).waitFor();
  const imp = await page.locator('main').textContent();
  for (const want of ['Angaben gemäß § 5 DDG', 'Testbetrieb EasySKS (Beispiel)', 'Hafenstraße 1', '24103 Kiel', 'kontakt@easysks.invalid']) {
    if (!imp.includes(want)) throw new Error(`Impressum lacks "${want}": ${imp.slice(0, 300)}`);
  }
  await axe(page, rec, 'impressum');
  await rec.shot(page, 'impressum', true);
  await page.getByRole('link', { name: 'Datenschutz' }).click();
  await page.locator('h1', { hasText: 'Datenschutzerklärung' }).waitFor();
  const dse = await page.locator('main').textContent();
  for (const want of ['Amazon Cognito', 'Stripe', 'OpenAI', 'AWS-Region eu-central-1, Frankfurt am Main',
    'nach 30 Tagen', 'nach spätestens 7 Tagen', 'Daten exportieren', 'Konto löschen', 'Landeszentrum für Datenschutz']) {
    if (!dse.includes(want)) throw new Error(`Datenschutz lacks "${want}"`);
  }
  await axe(page, rec, 'datenschutz');
  await rec.shot(page, 'datenschutz', true);
  await page.goto(`${opt.base}/registrieren`);
  await page.getByRole('link', { name: 'Datenschutz' }).waitFor();
  ok('Impressum and Datenschutz reachable from sign-in and sign-up, with the configured details');

  await rec.step('a new learner studies a card');
  const email = `privacy-${Date.now()}@example.com`;
  const sub = await signUp(email);
  const review = await api('POST', '/study/review', { card_id: 'navigation_1', rating: 3 });
  if (review.status !== 200) throw new Error(`review: ${review.status}`);

  await rec.step('export downloads the file');
  await page.locator('#tabs a', { hasText: 'Konto' }).click();
  await page.locator('h2', { hasText: 'Ihre Daten' }).waitFor();
  await axe(page, rec, 'konto with data section');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Daten exportieren' }).click(),
  ]);
  if (!/^easysks-export-\d{4}-\d{2}-\d{2}\.json$/.test(download.suggestedFilename())) {
    throw new Error(`file name ${download.suggestedFilename()}`);
  }
  const doc = JSON.parse(readFileSync(await download.path(), 'utf8'));
  if (doc.account?.cognito_sub !== sub || doc.review_logs?.length !== 1 || doc.review_logs[0].card_id !== 'navigation_1'
      || doc.complete !== true) {
    throw new Error(`export: ${JSON.stringify(doc).slice(0, 400)}`);
  }
  await page.getByText('heruntergeladen').waitFor();
  await rec.shot(page, 'konto-export', true);
  ok('Konto → "Daten exportieren" downloads the learner\'s data');

  await rec.step('delete asks for confirmation');
  await page.getByRole('button', { name: 'Konto löschen' }).click();
  const go = page.getByRole('button', { name: 'Konto endgültig löschen' });
  await go.waitFor();
  if (!(await go.isDisabled())) throw new Error('deletable without the confirmation word');
  await page.getByLabel('Zur Bestätigung LÖSCHEN eingeben').fill('löschen');
  if (!(await go.isDisabled())) throw new Error('a lower-case word was accepted');
  await page.getByLabel('Zur Bestätigung LÖSCHEN eingeben').fill('LÖSCHEN');
  await axe(page, rec, 'delete dialog');
  await rec.shot(page, 'konto-loeschen-bestaetigen', true);
  if (userRows(sub) !== 1) throw new Error('deleted before the click');

  await rec.step('delete, sign out, wipe the device');
  await go.click();
  await page.locator('h1', { hasText: 'Anmelden' }).waitFor();
  await page.getByText('Ihr Konto und alle Ihre Daten wurden gelöscht.').waitFor();
  await rec.shot(page, 'geloescht');
  if (userRows(sub) !== 0) throw new Error('the user row is still there');
  const left = await page.evaluate(async (s) => {
    const db = await new Promise((res, rej) => { const r = indexedDB.open('easysks'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const count = (store) => new Promise((res) => { const q = db.transaction(store).objectStore(store).count(); q.onsuccess = () => res(q.result); });
    const keys = await new Promise((res) => { const q = db.transaction('kv').objectStore('kv').getAllKeys(); q.onsuccess = () => res(q.result); });
    return {
      session: localStorage.getItem('easysks.session'),
      lastEmail: localStorage.getItem('easysks.lastEmail'),
      outbox: await count('outbox'),
      kv: keys.filter((k) => String(k).startsWith(`${s}:`)).length,
      media: await caches.has('easysks-media'),
    };
  }, sub);
  if (left.session || left.lastEmail || left.outbox || left.kv || left.media) throw new Error(`left on the device: ${JSON.stringify(left)}`);
  ok('"Konto löschen" deletes on the server, signs out and wipes the device');

  await rec.step('the same credentials no longer sign in', [/status of 400/]);
  await signIn(email);
  await page.getByText('E-Mail-Adresse oder Passwort ist falsch.').waitFor();
  if (userRows(sub) !== 0) throw new Error('the account came back');
  await rec.shot(page, 'anmelden-nach-loeschen');
  ok('the same e-mail and password no longer sign in');

  await rec.step('a deletion whose Cognito step did not happen is finished at the next sign-in', [/status of 410/]);
  const email2 = `privacy-half-${Date.now()}@example.com`;
  const sub2 = await signUp(email2);
  const erased = await api('DELETE', '/me', { confirm: 'LÖSCHEN' });
  if (erased.status !== 200 || erased.json?.status !== 'deleted') throw new Error(`API delete: ${erased.status}`);
  await page.evaluate(() => { localStorage.removeItem('easysks.session'); });
  await signIn(email2);
  await page.locator('h1', { hasText: 'Konto gelöscht' }).waitFor();
  await axe(page, rec, 'account gone');
  await rec.shot(page, 'konto-geloescht-abschliessen');
  await page.getByRole('button', { name: 'Löschen abschließen' }).click();
  await page.getByText('Ihr Konto und alle Ihre Daten wurden gelöscht.').waitFor();
  if (userRows(sub2) !== 0) throw new Error('the erased learner came back');
  await rec.step('…and then it no longer signs in either', [/status of 400/]);
  await signIn(email2);
  await page.getByText('E-Mail-Adresse oder Passwort ist falsch.').waitFor();
  ok('a half-finished deletion is offered and finished at the next sign-in');
  await until(() => true, 'nothing');
  rec.check();
} catch (e) {
  console.log(`not ok ${passed + 1} - ${rec.current}: ${e.message}`);
  if (opt.out) await rec.shot(page, 'failure', true).catch(() => {});
  process.exitCode = 1;
} finally {
  await close();
}
