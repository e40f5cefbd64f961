// A learner's path to passing (issue 19) in headless Chromium, against the
// integration stack: sign up choosing "Segeln" (saved as the variant with
// the first signed-in request), "Jetzt lernen" studies 5 cards of all
// topics mixed (at least two topics, never Seemannschaft II), the Katalog
// finds "Kardinal", a card's detail shows the official answer and is
// flagged, "Markiert" lists it and studies it, the card opens offline from
// its stored copy, and the dashboard shows the plan for an exam date.
// axe-core on every new screen; any console error or CSP violation fails.
// Screenshots at 390x844.
//
//   node tests/e2e/learn.mjs --base https://127.0.0.1:PORT --cert cert.pem \
//     --cognito-state COGNITO_STATE_DIR --db OWNER_URL [--out DIR]
import { parseArgs } from 'node:util';
import {
  axe, confirmationCode, launch, recorder, sql, until, watchCsp,
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
for (const k of ['base', 'cert', 'cognito-state', 'db']) {
  if (!opt[k]) throw new Error(`--${k} is required`);
}

const email = `e2e-learn-${Date.now()}@example.com`;
const password = 'Segel-Passw0rt!';
const tab = (page, name) => page.locator('#tabs a', { hasText: name }).click();

const { context, close } = await launch({ cert: opt.cert });
const rec = recorder(context, opt.out);
await watchCsp(context, rec);
const page = context.pages()[0] || await context.newPage();
page.setDefaultTimeout(15000);
let sub = null;
let passed = 0;
const ok = (what) => { passed += 1; console.log(`ok ${passed} - ${what}`); };
const q = (query) => sql(opt.db, query.replaceAll(':sub', `'${sub}'`));

try {
  await rec.step('sign up as a sailor');
  await page.goto(`${opt.base}/registrieren`);
  await page.locator('h1', { hasText: 'Konto anlegen' }).waitFor();
  const sail = page.getByRole('radio', { name: /Segeln/ });
  const motor = page.getByRole('radio', { name: /Motor/ });
  if (!(await sail.isChecked()) || (await motor.isChecked())) throw new Error('"Segeln" is not the default');
  await motor.check();
  await sail.check(); // a learner who looked at both and chose Segeln
  await page.getByLabel('E-Mail-Adresse').fill(email);
  await page.getByLabel('Passwort').fill(password);
  await axe(page, rec, 'sign-up with the variant');
  await rec.shot(page, 'registrieren-segeln');
  await page.getByRole('button', { name: 'Konto anlegen' }).click();
  await page.locator('h1', { hasText: 'E-Mail bestätigen' }).waitFor();
  await page.getByLabel('Bestätigungscode').fill(await confirmationCode(opt['cognito-state'], email));
  await page.getByRole('button', { name: 'Bestätigen' }).click();
  await page.locator('.stats').waitFor();
  sub = await page.evaluate(() => JSON.parse(localStorage.getItem('easysks.session')).sub);
  await until(() => q("SELECT s.variant FROM user_settings s JOIN users u ON u.id = s.user_id WHERE u.cognito_sub = :sub") === 'sail', 'variant sail stored');
  const topicNames = await page.locator('.topics .topic-name').allTextContents();
  if (topicNames.includes('Seemannschaft II') || !topicNames.includes('Seemannschaft I')) {
    throw new Error(`dashboard topics of a sailor: ${topicNames}`);
  }
  await page.locator('#h-pass-plan').waitFor();
  await rec.shot(page, 'uebersicht-neu');
  await axe(page, rec, 'dashboard with the plan');
  ok('sign-up picks "Segeln"; the variant is stored; the dashboard hides Seemannschaft II');

  await rec.step('"Jetzt lernen": five cards, all topics mixed');
  const cta = page.getByRole('link', { name: 'Jetzt lernen' });
  if ((await cta.getAttribute('href')) !== '/lernen') throw new Error(`"Jetzt lernen" goes to ${await cta.getAttribute('href')}`);
  await cta.click();
  await page.locator('.study-card').waitFor();
  if ((await page.locator('#topic').inputValue()) !== '') throw new Error('study does not start with all topics');
  const seen = [];
  for (let i = 1; i <= 5; i++) {
    await until(async () => (await page.locator('.progress-line span').textContent()).startsWith(`Karte ${i} `), `card ${i}`);
    seen.push((await page.locator('.study-card .meta').textContent()).split(' · ')[0]);
    if (i === 1) await rec.shot(page, 'lernen-gemischt');
    await page.keyboard.press('Space');
    await page.locator('.ratings').waitFor({ state: 'visible' });
    await page.keyboard.press('3');
  }
  await until(() => q("SELECT count(*) FROM review_logs r JOIN users u ON u.id = r.user_id WHERE u.cognito_sub = :sub") === '5', 'five reviews on the server');
  const topicsSeen = new Set(seen);
  if (topicsSeen.size < 2 || topicsSeen.has('Seemannschaft II')) throw new Error(`topics of the first five: ${seen}`);
  ok(`"Jetzt lernen": five cards from ${topicsSeen.size} topics (${[...topicsSeen].join(', ')})`);

  await rec.step('Katalog: search "Kardinal"');
  await tab(page, 'Katalog');
  await page.locator('h1', { hasText: 'Katalog' }).waitFor();
  await until(async () => /^\d+ Fragen$/.test(await page.locator('.result-count').textContent()), 'the whole catalogue');
  const everything = Number((await page.locator('.result-count').textContent()).split(' ')[0]);
  if (everything !== 492) throw new Error(`a sailor's catalogue lists ${everything} cards`);
  await page.getByLabel('Suche', { exact: true }).fill('Kardinal'); // searched as typed (debounced)
  await until(async () => page.url().includes('q=Kardinal')
    && /^\d+ Fragen?$/.test(await page.locator('.result-count').textContent())
    && Number((await page.locator('.result-count').textContent()).split(' ')[0]) < 10, 'search results');
  const hits = await page.locator('.card-list .q-text').allTextContents();
  if (!(await page.locator('.result-count').textContent()).match(/^\d+ Fragen?/)) throw new Error('no count');
  if (!page.url().includes('q=Kardinal')) throw new Error(`the address does not keep the search: ${page.url()}`);
  await rec.shot(page, 'katalog-kardinal');
  await axe(page, rec, 'Katalog');
  ok(`Katalog: "Kardinal" finds ${hits.length} card(s)`);

  await rec.step('card detail: official answer and flag');
  const first = page.locator('.card-list a').first();
  const cardId = (await first.getAttribute('href')).split('/').pop();
  await first.click();
  await page.locator('h3', { hasText: 'Amtliche Antwort' }).waitFor();
  const answer = await page.locator('.detail .answer .text').textContent();
  if (!/Kardinal/i.test(`${await page.locator('.detail .q-text').textContent()} ${answer}`)) throw new Error('the detail is not the card found');
  const flag = page.getByRole('button', { name: 'Markieren' });
  if ((await flag.getAttribute('aria-pressed')) !== 'false') throw new Error('flag button state');
  await flag.click();
  await page.getByRole('button', { name: 'Markiert' }).waitFor();
  if ((await page.getByRole('button', { name: 'Markiert' }).getAttribute('aria-pressed')) !== 'true') throw new Error('not pressed');
  await until(() => q(`SELECT count(*) FROM card_flags f JOIN users u ON u.id = f.user_id WHERE u.cognito_sub = :sub AND f.card_id = '${cardId}'`) === '1', 'the flag on the server');
  await page.getByText('Fehler in der Antwort melden').click();
  await page.getByLabel('Was stimmt nicht?').fill('Die Abbildung fehlt hier.');
  await page.getByRole('button', { name: 'Melden' }).click();
  await until(() => q(`SELECT f.note FROM card_flags f JOIN users u ON u.id = f.user_id WHERE u.cognito_sub = :sub AND f.card_id = '${cardId}'`) === 'Die Abbildung fehlt hier.', 'the note on the server');
  await rec.shot(page, 'karte-markiert', true);
  await axe(page, rec, 'card detail');
  ok(`detail of ${cardId}: official answer shown, flagged with a note`);

  await rec.step('"Markiert" lists it and studies it');
  await page.getByRole('link', { name: '← Zum Katalog' }).click();
  await page.getByLabel('Suche', { exact: true }).fill('');
  await page.getByLabel('Markiert').check();
  await until(async () => (await page.locator('.result-count').textContent()) === '1 Frage', 'one flagged card');
  if ((await page.locator('.card-list a').first().getAttribute('href')) !== `/katalog/${cardId}`) throw new Error('another card under Markiert');
  await page.locator('.card-list .badge.flagged').first().waitFor();
  await rec.shot(page, 'katalog-markiert');
  await page.getByRole('link', { name: 'Markierte lernen' }).click();
  await page.locator('.study-card').waitFor();
  if ((await page.locator('.progress-line span').textContent()) !== 'Karte 1 von 1') throw new Error('flagged study is not the one card');
  if ((await page.locator('#topic').inputValue()) !== 'markiert') throw new Error('study selection is not "Markiert"');
  await rec.shot(page, 'lernen-markiert');
  ok('"Markiert" lists the flagged card, and studies exactly it');

  await rec.step('offline: the flagged card from its stored copy');
  await page.goto(`${opt.base}/katalog/${cardId}`);
  await page.locator('h3', { hasText: 'Amtliche Antwort' }).waitFor();
  await context.setOffline(true);
  await page.reload();
  await page.locator('h3', { hasText: 'Amtliche Antwort' }).waitFor();
  await page.getByRole('button', { name: 'Markiert' }).waitFor();
  await rec.shot(page, 'karte-offline');
  await context.setOffline(false);
  ok('offline, the card and its flag come from the stored copies');

  await rec.step('the plan on the dashboard');
  await tab(page, 'Konto');
  const exam = new Date(Date.now() + 30 * 86400000).toLocaleDateString('sv-SE', { timeZone: 'Europe/Berlin' });
  await page.getByLabel('Prüfungstermin').fill(exam);
  if ((await page.getByLabel('Führerschein').inputValue()) !== 'sail') throw new Error('settings show another variant');
  await page.getByRole('button', { name: 'Speichern' }).click();
  await page.locator('.note', { hasText: 'Gespeichert.' }).waitFor();
  await tab(page, 'Übersicht');
  await page.locator('.plan-today').waitFor();
  const today = await page.locator('.plan-today').textContent();
  if (!/^Heute: \d+ neue, \d+ Wiederholungen · (im Plan|nicht im Plan)$/.test(today)) throw new Error(`plan line: ${today}`);
  const weakest = await page.locator('.plan-weakest').textContent();
  if (!/^Schwächster Bogen: \d+ .* · diese Karten zuerst$/.test(weakest)) throw new Error(`weakest: ${weakest}`);
  const link = page.getByRole('link', { name: /Karten lernen$/ });
  const href = await link.getAttribute('href');
  await page.locator('#h-pass-plan').scrollIntoViewIfNeeded();
  await rec.shot(page, 'uebersicht-plan');
  await axe(page, rec, 'dashboard with an exam date');
  await link.click();
  await page.locator('.study-card').waitFor();
  const n = href.match(/karten=([^&]+)/)[1].split(',').length;
  if (!(await page.locator('.progress-line span').textContent()).endsWith(`von ${n}`)) throw new Error('focus session size');
  await rec.shot(page, 'lernen-plan-karten');
  ok(`dashboard: "${today}", "${weakest}", a session on those ${n} cards`);
  rec.check();
} catch (e) {
  await rec.shot(page, 'fehler').catch(() => {});
  console.error(`not ok - [${rec.current}] ${e.message}`);
  await close();
  process.exit(1);
}
await close();
console.log(`1..${passed}`);
