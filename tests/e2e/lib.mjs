// Shared by the browser tests: Debian's headless Chromium through
// playwright-core with a fresh profile, the stack's self-signed certificate
// trusted by its key (service workers refuse a certificate error, so
// ignoring errors alone is not enough), a step log that fails on any console
// error, page error or CSP violation not expected by the current step,
// numbered screenshots, axe-core, and small helpers for the throwaway stack.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { X509Certificate, createHash } from 'node:crypto';
import {
  mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

// `audio`: a WAV file that Chromium's fake microphone plays (spoken answers).
export async function launch({ cert, viewport = { width: 390, height: 844 }, audio }) {
  const args = ['--headless', '--lang=de-DE', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  if (audio) {
    args.push('--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${audio}`);
  }
  if (cert) {
    const spki = new X509Certificate(readFileSync(cert)).publicKey.export({ type: 'spki', format: 'der' });
    args.push(`--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'easysks-e2e-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args,
    ignoreHTTPSErrors: true,
    viewport,
    deviceScaleFactor: 1,
    locale: 'de-DE',
    timezoneId: 'Europe/Berlin',
  });
  const close = async () => {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

// Steps, expected console errors, problems, screenshots.
export function recorder(context, outDir) {
  const problems = [];
  let step = 'start';
  let allowed = [];
  let shots = 0;
  if (outDir) mkdirSync(outDir, { recursive: true });
  const watch = (page) => {
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const text = `${m.text()} ${m.location()?.url || ''}`;
      if (!allowed.some((re) => re.test(text))) problems.push(`[${step}] console: ${text}`);
    });
    page.on('pageerror', (e) => problems.push(`[${step}] page error: ${e.message}`));
  };
  context.on('page', watch);
  for (const p of context.pages()) watch(p);
  return {
    problems,
    // Begins a step; `allow` lists console errors this step expects.
    async step(name, allow = []) {
      this.check();
      step = name;
      allowed = allow;
    },
    get current() { return step; },
    check() {
      if (problems.length) throw new Error(`${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
    },
    async shot(page, name, full = false) {
      if (!outDir) return;
      shots += 1;
      await page.screenshot({ path: join(outDir, `${String(shots).padStart(2, '0')}-${name}.png`), fullPage: full });
    },
  };
}

export async function watchCsp(context, rec) {
  await context.exposeBinding('__cspViolation', (_src, text) => rec.problems.push(`[${rec.current}] CSP: ${text}`));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolation(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
    });
  });
}

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
// axe-core on the current page (WCAG 2.1 A/AA and best practices).
export async function axe(page, rec, what) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  const r = await page.evaluate(() => window.axe.run(document, {
    runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
  }));
  for (const v of r.violations) {
    rec.problems.push(`[${rec.current}] axe (${what}): ${v.id} ${v.impact}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  }
  return r.violations.length;
}

// The confirmation code cognito-local "sent" to an address. It prints each
// code in a box in its log, but that record reaches the file only when the
// next one is logged (its pretty-printer lags by one record), so the code is
// read where cognito-local keeps it: on the unconfirmed user in its data
// file, STATE/.cognito/db/<pool id>.json, until ConfirmSignUp clears it.
export async function confirmationCode(state, email, timeoutMs = 10000) {
  const dir = join(state, '.cognito', 'db');
  const end = Date.now() + timeoutMs;
  for (;;) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json') && n !== 'clients.json')) {
      let db;
      try {
        db = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      } catch {
        continue; // being rewritten
      }
      for (const u of Object.values(db.Users || {})) {
        const mail = (u.Attributes || []).find((a) => a.Name === 'email')?.Value;
        if (mail === email && u.ConfirmationCode) return u.ConfirmationCode;
      }
    }
    if (Date.now() > end) throw new Error(`no confirmation code for ${email} in ${dir}`);
    await new Promise((r) => { setTimeout(r, 200); });
  }
}

export function sql(dbUrl, query) {
  return execFileSync('psql', [dbUrl, '-Atq', '-v', 'ON_ERROR_STOP=1', '-c', query], { encoding: 'utf8' }).trim();
}

export async function until(fn, what, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => { setTimeout(r, 150); });
  }
}

// A request from this process to the stack, trusting its self-signed
// certificate (and nothing else). Resolves {status, json}.
export function stackRequest(cert, url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, headers, ca: readFileSync(cert) }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { data += c; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(data); } catch { json = null; }
        resolve({ status: res.statusCode, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
