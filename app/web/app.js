// EasySKS web client: the shell. Loads the runtime configuration, routes
// between screens (History API; nginx and the service worker answer every
// client path with index.html), shows the connection and the pending
// reviews, registers the service worker. No framework, no build step.

import { loadConfig } from './js/config.js';
import { authEvents, initAuth, signedIn } from './js/auth.js';
import { flush, syncEvents, pendingCount } from './js/sync.js';
import { h, mount, announce } from './js/dom.js';
import { releaseFigures } from './js/media.js';
import * as account from './js/views/account.js';
import { dashboardView } from './js/views/dashboard.js';
import { studyView } from './js/views/study.js';
import { apiEvents } from './js/api.js';

const main = document.getElementById('main');
const lazyExams = () => import('./js/views/exams.js');
const lazyLegal = () => import('./js/views/legal.js');
// Konto and the billing returns: not the first screen of a signed-in learner.
const lazyPlan = () => import('./js/views/plan.js');
const lazyKatalog = () => import('./js/views/katalog.js');

// [pattern, view, public?]; a view is (main, params, ctx) => cleanup?
const routes = [
  [/^\/$/, dashboardView],
  [/^\/lernen$/, studyView],
  [/^\/pruefung$/, async (...a) => (await lazyExams()).examsView(...a)],
  [/^\/pruefung\/(bogen|karte)\/([\w-]+)$/, async (...a) => (await lazyExams()).sessionView(...a)],
  [/^\/pruefung\/(bogen|karte)\/([\w-]+)\/ergebnis$/, async (...a) => (await lazyExams()).resultView(...a)],
  [/^\/katalog$/, async (...a) => (await lazyKatalog()).katalogView(...a)],
  [/^\/katalog\/([a-z_]+_\d+)$/, async (...a) => (await lazyKatalog()).cardView(...a)],
  [/^\/konto$/, async (...a) => (await lazyPlan()).planView(...a)],
  [/^\/abo\/(erfolg|abbruch)$/, async (...a) => (await lazyPlan()).billingReturnView(...a)],
  [/^\/anmelden$/, account.signInView, true],
  [/^\/registrieren$/, account.signUpView, true],
  [/^\/bestaetigen$/, account.confirmView, true],
  [/^\/passwort$/, account.forgotView, true],
  [/^\/impressum$/, async (...a) => (await lazyLegal()).impressumView(...a), true],
  [/^\/datenschutz$/, async (...a) => (await lazyLegal()).datenschutzView(...a), true],
  [/^\/konto-geloescht$/, async (...a) => (await lazyPlan()).accountGoneView(...a)],
];

let cleanup = null;
let renderId = 0;

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render(true);
}

const ctx = {
  navigate,
  title(text) {
    document.title = `${text} · EasySKS`;
  },
};

// The screen being rendered: a later navigation that must not be
// overwritten by it can wait for it.
let lastRender = Promise.resolve();
function render(moveFocus) {
  lastRender = renderNow(moveFocus);
  return lastRender;
}

async function renderNow(moveFocus) {
  const id = ++renderId;
  if (typeof cleanup === 'function') cleanup();
  cleanup = null;
  releaseFigures();
  const path = location.pathname.replace(/\/+$/, '') || '/';
  // Stripe's return URLs may also be set as /?billing=done|cancelled.
  const billing = new URLSearchParams(location.search).get('billing');
  if (path === '/' && billing) return navigate(billing === 'done' ? '/abo/erfolg' : '/abo/abbruch', { replace: true });
  let match = null;
  for (const [re, view, pub] of routes) {
    const m = path.match(re);
    if (m) { match = { view, pub, params: m.slice(1) }; break; }
  }
  if (!match) return navigate('/', { replace: true });
  if (match.pub && signedIn() && /^\/(anmelden|registrieren)$/.test(path)) return navigate('/', { replace: true });
  if (!match.pub && !signedIn()) {
    sessionStorage.setItem('easysks.after', location.pathname + location.search);
    return navigate('/anmelden', { replace: true });
  }
  document.body.classList.toggle('signed-in', signedIn() && !match.pub);
  markTab(path);
  main.setAttribute('aria-busy', 'true');
  try {
    const c = await match.view(main, match.params, ctx);
    if (id === renderId) cleanup = c;
    else if (typeof c === 'function') c();
  } catch (e) {
    if (id === renderId) {
      mount(main, h('h1', { tabindex: '-1', text: 'Fehler' }),
        h('p', { role: 'alert', text: e.message || 'Unbekannter Fehler.' }));
    }
  }
  if (id !== renderId) return;
  main.removeAttribute('aria-busy');
  if (moveFocus) (main.querySelector('h1') || main).focus();
}

function markTab(path) {
  for (const a of document.querySelectorAll('#tabs a')) {
    const href = a.getAttribute('href');
    const on = href === '/' ? path === '/' : path.startsWith(href);
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

// In-app links: <a href="/…"> on this origin without target or download.
document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download') || e.defaultPrevented) return;
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', () => render(true));

// Header: connection and reviews waiting to be sent.
const net = document.getElementById('net');
const pending = document.getElementById('pending');
function showNet() {
  net.hidden = navigator.onLine;
}
function showPending(n) {
  pending.hidden = n === 0;
  pending.textContent = `${n} ausstehend`;
  const full = n === 1 ? '1 Wiederholung nicht übertragen' : `${n} Wiederholungen nicht übertragen`;
  pending.setAttribute('aria-label', full);
  pending.title = `${full}. ${navigator.onLine ? 'Jetzt übertragen' : 'Wird übertragen, sobald Sie online sind.'}`;
}
window.addEventListener('online', () => { showNet(); announce('Wieder online.'); });
window.addEventListener('offline', () => { showNet(); announce('Offline. Ihre Wiederholungen werden gespeichert.'); });
syncEvents.addEventListener('pending', (e) => showPending(e.detail));
syncEvents.addEventListener('rejected', (e) => {
  announce(`${e.detail} Wiederholungen hat der Server abgelehnt.`);
});
pending.addEventListener('click', () => flush());

authEvents.addEventListener('expired', () => {
  sessionStorage.setItem('easysks.after', location.pathname + location.search);
  navigate('/anmelden?abgelaufen=1', { replace: true });
});
// The learner's data was erased but the sign-in still works (the deletion's
// Cognito step failed): offer to finish. After the screen that asked has
// shown its own error, so that it does not overwrite this one.
apiEvents.addEventListener('account_deleted', async () => {
  await lastRender.catch(() => {});
  if (location.pathname !== '/konto-geloescht') navigate('/konto-geloescht', { replace: true });
});
authEvents.addEventListener('signedout', async () => {
  showPending(await pendingCount());
  navigate('/anmelden', { replace: true });
});

async function start() {
  try {
    await loadConfig();
  } catch (e) {
    mount(main, h('h1', { text: 'EasySKS' }), h('p', { role: 'alert', text: e.message }));
    return;
  }
  initAuth();
  showNet();
  await render(false);
  showPending(await pendingCount());
  if (signedIn()) flush();
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js').catch(() => {});
  }
}

start();
