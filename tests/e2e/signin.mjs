// Browser test of the web client in headless Chromium (Debian's), driven by
// playwright-core: sign-in through the same-origin Cognito route, the profile
// from /api/me, a figure fetched from /media/ with the token, sign-out, and a
// wrong password. Fails on any console error (a CSP violation, a failed
// request) and saves a screenshot.
//
//   node tests/e2e/signin.mjs --base https://127.0.0.1:PORT --screenshot out.png
import { chromium } from 'playwright-core';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    screenshot: { type: 'string' },
    user: { type: 'string', default: 'demo@easysks.local' },
    password: { type: 'string', default: 'Demo-Passw0rd!' },
  },
});

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const problems = [];
let step = 'start';
try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.setDefaultTimeout(10000);

  step = 'load';
  await page.goto(values.base + '/');
  await page.locator('#signin').waitFor({ state: 'visible' });

  step = 'wrong password';
  await page.fill('input[name=username]', values.user);
  await page.fill('input[name=password]', 'not-the-password');
  await page.click('button[type=submit]');
  await page.locator('#signin-error').waitFor({ state: 'visible' });
  problems.length = 0; // the refused sign-in logs a 4xx to the console by design

  step = 'sign in';
  await page.fill('input[name=username]', values.user);
  await page.fill('input[name=password]', values.password);
  await page.click('button[type=submit]');
  await page.locator('#profile').waitFor({ state: 'visible' });
  const plan = await page.textContent('#profile-plan');
  if (plan !== 'Kostenlos') throw new Error(`plan shown as ${plan}`);

  step = 'figure';
  await page.waitForFunction(() => {
    const img = document.getElementById('sample-figure');
    return img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0;
  });
  if (values.screenshot) await page.screenshot({ path: values.screenshot, fullPage: true });

  step = 'reload keeps the session';
  await page.reload();
  await page.locator('#profile').waitFor({ state: 'visible' });

  step = 'sign out';
  await page.click('#signout');
  await page.locator('#signin').waitFor({ state: 'visible' });
  if (problems.length) throw new Error(problems.join('; '));
  console.log('ok - browser sign-in, profile, figure, reload, sign-out');
} catch (e) {
  console.log(`not ok - ${step}: ${e.message}`);
  for (const p of problems) console.log(`#   ${p}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
