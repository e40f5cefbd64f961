// Browser test of the web client's sign-in in headless Chromium (Debian's),
// driven by playwright-core: a wrong password is refused in German, the
// demo user signs in through the same-origin Cognito route, the dashboard
// and the plan come from the API, a reload keeps the session, sign-out ends
// it. Fails on any console error (a CSP violation, a failed request) and
// saves a screenshot. The learner's whole journey is tests/e2e/app.mjs.
//
//   node tests/e2e/signin.mjs --base https://127.0.0.1:PORT --cert cert.pem --screenshot out.png
import { parseArgs } from 'node:util';
import { launch } from './lib.mjs';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    cert: { type: 'string' },
    screenshot: { type: 'string' },
    user: { type: 'string', default: 'demo@easysks.local' },
    password: { type: 'string', default: 'Demo-Passw0rd!' },
  },
});

const { context, close } = await launch({ cert: values.cert });
const problems = [];
let step = 'start';
try {
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.setDefaultTimeout(10000);

  step = 'load';
  await page.goto(values.base + '/');
  await page.locator('h1', { hasText: 'Anmelden' }).waitFor();

  step = 'wrong password';
  await page.getByLabel('E-Mail-Adresse').fill(values.user);
  await page.getByLabel('Passwort').fill('not-the-password');
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.getByText('E-Mail-Adresse oder Passwort ist falsch.').waitFor();
  problems.length = 0; // the refused sign-in logs a 4xx to the console by design

  step = 'sign in';
  await page.getByLabel('Passwort').fill(values.password);
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.locator('.stats').waitFor();
  const plan = await page.locator('.plan-line p').textContent();
  if (!plan.startsWith('Kostenlos')) throw new Error(`plan shown as ${plan}`);
  if (values.screenshot) await page.screenshot({ path: values.screenshot });

  step = 'reload keeps the session';
  await page.reload();
  await page.locator('.stats').waitFor();

  step = 'sign out';
  await page.locator('#tabs a', { hasText: 'Konto' }).click();
  await page.getByRole('button', { name: 'Abmelden' }).click();
  await page.locator('h1', { hasText: 'Anmelden' }).waitFor();
  if (await page.evaluate(() => localStorage.getItem('easysks.session'))) throw new Error('tokens kept');
  if (problems.length) throw new Error(problems.join('; '));
  console.log('ok - browser sign-in, dashboard, plan, reload, sign-out');
} catch (e) {
  console.log(`not ok - ${step}: ${e.message}`);
  for (const p of problems) console.log(`#   ${p}`);
  process.exitCode = 1;
} finally {
  await close();
}
