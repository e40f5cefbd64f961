// Konto: the plan (upgrade through Stripe Checkout, manage through the
// Customer Portal; both URLs come from the API), the study settings and
// sign-out. Also the pages Stripe returns to: /abo/erfolg, /abo/abbruch.

import { api, ApiError, describe } from '../api.js';
import { currentEmail, currentSub, signOut } from '../auth.js';
import { cached } from '../catalogue.js';
import { kvClear } from '../db.js';
import { clearMedia } from '../media.js';
import { pendingCount } from '../sync.js';
import {
  actionButton, fmtDate, h, loading, mount, note,
} from '../dom.js';

const BILLING_MESSAGES = {
  billing_unconfigured: 'Die Bezahlung ist in dieser Umgebung nicht eingerichtet.',
  already_subscribed: 'Sie haben bereits ein Abo. Unter „Abo verwalten“ finden Sie es.',
  no_billing_customer: 'Zu Ihrem Konto gibt es noch kein Abo, das sich verwalten ließe.',
  http_404: 'Die Bezahlung ist noch nicht verfügbar.',
};

// POST /billing/checkout or /billing/portal, then leave for Stripe.
async function toStripe(path, out) {
  mount(out);
  try {
    const { url } = await api(path, { method: 'POST' });
    if (typeof url !== 'string' || !url.startsWith('https://')) throw new Error('Ungültige Antwort des Servers.');
    location.assign(url);
  } catch (e) {
    let text = describe(e);
    if (e instanceof ApiError && BILLING_MESSAGES[e.code]) text = BILLING_MESSAGES[e.code];
    else if (e instanceof ApiError && e.status === 404) text = BILLING_MESSAGES.http_404;
    else if (e instanceof ApiError && (e.status === 502 || e.status === 504)) {
      text = 'Der Zahlungsdienst ist gerade nicht erreichbar. Bitte versuchen Sie es später erneut.';
    }
    mount(out, note(text, 'error'));
  }
}

export const PREMIUM_BENEFITS = [
  'Prüfungssimulation mit allen 15 amtlichen Fragebögen, mit Zeitlimit und Auswertung (Fragebogen 1 ist kostenlos)',
  'Alle 10 Kartenaufgaben (Navigation) mit Lösungen und den amtlichen Toleranzen (Kartenaufgabe 1 ist kostenlos)',
  'Bewertung durch KI: Prüfungsantworten und eigene Antworten beim Lernen („Mit KI prüfen“)',
  'Antworten sprechen statt tippen: das Mikrofon schreibt Ihre Antwort mit',
  'Ergebnis wie in der Prüfung: bestanden, mündliche Prüfung oder nicht bestanden',
];

function planSection(me) {
  const out = h('div', { class: 'billing-out' });
  const premium = me.plan === 'premium';
  return h('section', { class: 'card', 'aria-labelledby': 'h-plan' },
    h('h2', { id: 'h-plan', text: 'Tarif' }),
    h('p', { class: 'plan-name' }, h('strong', { text: premium ? 'Premium' : 'Kostenlos' }),
      premium && me.premium_until ? ` · bis ${fmtDate(me.premium_until)}` : ''),
    premium ? null : h('ul', { class: 'benefits' }, PREMIUM_BENEFITS.map((b) => h('li', { text: b }))),
    premium
      ? actionButton('Abo verwalten', () => toStripe('/billing/portal', out))
      : actionButton('Premium holen', () => toStripe('/billing/checkout', out), { class: 'primary' }),
    h('p', { class: 'muted small', text: premium ? 'Kündigen, Zahlungsart und Rechnungen bei unserem Zahlungsdienstleister Stripe.'
      : 'Sie werden zur Bezahlung an Stripe weitergeleitet.' }),
    out);
}

function zones(current) {
  let list = [];
  try { list = Intl.supportedValuesOf('timeZone'); } catch { list = []; }
  if (!list.includes('UTC')) list = [...list, 'UTC'];
  if (current && !list.includes(current)) list = [current, ...list];
  return list;
}

// Exams graded by the AI model (premium, and only when the server has AI).
function aiField(s, me) {
  if (!me.ai_available) return null;
  const premium = me.plan === 'premium';
  return h('div', { class: 'field switch' },
    h('input', {
      id: 's-ai', name: 'ai_enabled', type: 'checkbox', role: 'switch', checked: Boolean(s.ai_enabled) && premium,
      disabled: !premium, 'aria-describedby': 's-ai-hint',
    }),
    h('label', { for: 's-ai', text: 'Prüfungen mit KI bewerten' }),
    h('p', { id: 's-ai-hint', class: 'hint', text: premium
      ? 'Ihre Prüfungsantworten werden nach der Abgabe zusätzlich von einem KI-Modell bewertet, mit Begründung.'
      : 'Gehört zu Premium.' }));
}

function settingsSection(s, me = {}) {
  const status = h('div', { class: 'form-status' });
  const form = h('form', { class: 'form', novalidate: true },
    aiField(s, me),
    h('div', { class: 'field' },
      h('label', { for: 's-exam', text: 'Prüfungstermin' }),
      h('input', { id: 's-exam', name: 'exam_date', type: 'date', value: s.exam_date || '', 'aria-describedby': 's-exam-hint' }),
      h('p', { id: 's-exam-hint', class: 'hint', text: 'Die Prüfungsreife wird für diesen Tag geschätzt. Leer: heute.' })),
    h('div', { class: 'field' },
      h('label', { for: 's-new', text: 'Neue Karten pro Tag' }),
      h('input', { id: 's-new', name: 'new_cards_per_day', type: 'number', min: '0', max: '1000', step: '1', required: true, inputmode: 'numeric', value: String(s.new_cards_per_day) })),
    h('div', { class: 'field' },
      h('label', { for: 's-tz', text: 'Zeitzone' }),
      h('select', { id: 's-tz', name: 'timezone', 'aria-describedby': 's-tz-hint' },
        zones(s.timezone).map((z) => h('option', { value: z, text: z.replace(/_/g, ' '), selected: z === s.timezone }))),
      h('p', { id: 's-tz-hint', class: 'hint', text: 'Bestimmt, wann für Sie ein neuer Lerntag beginnt.' })),
    h('button', { type: 'submit', class: 'primary', text: 'Speichern' }),
    status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const n = Number(data.get('new_cards_per_day'));
    if (!Number.isInteger(n) || n < 0 || n > 1000) {
      mount(status, note('Neue Karten pro Tag: bitte eine Zahl von 0 bis 1000.', 'error'));
      form.elements.new_cards_per_day.focus();
      return;
    }
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      await api('/settings', {
        method: 'PUT',
        body: {
          timezone: data.get('timezone'),
          new_cards_per_day: n,
          exam_date: data.get('exam_date') || null,
          ...(form.elements.ai_enabled && !form.elements.ai_enabled.disabled
            ? { ai_enabled: form.elements.ai_enabled.checked } : {}),
        },
      });
      mount(status, note('Gespeichert.'));
    } catch (err) {
      mount(status, note(describe(err), 'error'));
    } finally {
      button.disabled = false;
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'h-settings' },
    h('h2', { id: 'h-settings', text: 'Einstellungen' }), form);
}

function accountSection() {
  const out = h('div');
  const doSignOut = async () => {
    const sub = currentSub();
    await kvClear(sub).catch(() => {});
    await clearMedia().catch(() => {});
    signOut();
  };
  return h('section', { class: 'card', 'aria-labelledby': 'h-account' },
    h('h2', { id: 'h-account', text: 'Konto' }),
    h('p', { class: 'email', text: currentEmail() || 'Angemeldet' }),
    actionButton('Abmelden', async () => {
      const n = await pendingCount();
      if (n === 0) return doSignOut();
      mount(out, note(`${n} Wiederholungen sind noch nicht übertragen. Sie bleiben auf diesem Gerät `
        + 'und werden bei Ihrer nächsten Anmeldung übertragen.', 'warn'),
      h('button', { type: 'button', class: 'danger', text: 'Trotzdem abmelden', onclick: doSignOut }));
      out.querySelector('button').focus();
      return undefined;
    }),
    out);
}

export async function planView(main, _p, ctx) {
  ctx.title('Konto');
  const heading = h('h1', { tabindex: '-1', text: 'Konto' });
  mount(main, heading, loading());
  let me; let settings;
  try {
    [me, settings] = await Promise.all([cached('me', '/me'), cached('settings', '/settings')]);
  } catch (e) {
    mount(main, heading, note(describe(e), 'error'));
    return;
  }
  mount(main, heading,
    me.at ? note('Offline: Änderungen sind erst wieder online möglich.', 'warn') : null,
    planSection(me.data), settingsSection(settings.data, me.data), accountSection());
}

export async function billingReturnView(main, [which], ctx) {
  const ok = which === 'erfolg';
  ctx.title(ok ? 'Danke' : 'Bezahlung abgebrochen');
  const heading = h('h1', { tabindex: '-1', text: ok ? 'Danke!' : 'Bezahlung abgebrochen' });
  if (!ok) {
    mount(main, heading, h('p', { text: 'Es wurde nichts berechnet. Sie können Premium jederzeit später holen.' }),
      h('a', { class: 'button', href: '/konto', text: 'Zurück zum Konto' }));
    return undefined;
  }
  const status = h('div', { role: 'status' }, loading('Ihre Zahlung wird bestätigt …'));
  mount(main, heading, status);
  // Stripe's webhook may arrive a moment after the redirect.
  let stop = false;
  (async () => {
    for (let i = 0; i < 15 && !stop; i++) {
      try {
        const me = await api('/me');
        if (me.plan === 'premium') {
          mount(status, note('Premium ist aktiv. Viel Erfolg bei der Prüfung!'),
            h('a', { class: 'button primary', href: '/pruefung', text: 'Zur Prüfungssimulation' }));
          return;
        }
      } catch { /* try again */ }
      await new Promise((r) => { setTimeout(r, 2000); });
    }
    if (!stop) {
      mount(status, note('Die Zahlung ist noch nicht bestätigt. Das kann einige Minuten dauern; '
        + 'Premium erscheint dann automatisch in Ihrem Konto.', 'warn'),
      h('a', { class: 'button', href: '/konto', text: 'Zum Konto' }));
    }
  })();
  return () => { stop = true; };
}
