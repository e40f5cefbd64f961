// Konto: the plan (upgrade through Stripe Checkout, manage through the
// Customer Portal; both URLs come from the API), the study settings and
// sign-out. Also the pages Stripe returns to: /abo/erfolg, /abo/abbruch.

import {
  api, ApiError, describe, download,
} from '../api.js';
import {
  currentEmail, currentSub, deleteCognitoUser, forgetLearner, signOut,
} from '../auth.js';
import { cached } from '../catalogue.js';
import { kvClear, outboxClear } from '../db.js';
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

// The licence variant (GET/PUT /api/settings `variant`).
const VARIANTS = [['sail', 'Segeln: Antriebsmaschine und unter Segel (Seemannschaft I)'], ['motor', 'Motor: nur Antriebsmaschine (Seemannschaft II)']];

function settingsSection(s, me = {}) {
  const status = h('div', { class: 'form-status' });
  const form = h('form', { class: 'form', novalidate: true },
    aiField(s, me),
    h('div', { class: 'field' },
      h('label', { for: 's-exam', text: 'Prüfungstermin' }),
      h('input', { id: 's-exam', name: 'exam_date', type: 'date', value: s.exam_date || '', 'aria-describedby': 's-exam-hint' }),
      h('p', { id: 's-exam-hint', class: 'hint', text: 'Die Prüfungsreife wird für diesen Tag geschätzt. Leer: heute.' })),
    h('div', { class: 'field' },
      h('label', { for: 's-variant', text: 'Führerschein' }),
      h('select', { id: 's-variant', name: 'variant', 'aria-describedby': 's-variant-hint' },
        VARIANTS.map(([v, label]) => h('option', { value: v, text: label, selected: v === (s.variant || 'sail') }))),
      h('p', { id: 's-variant-hint', class: 'hint', text: 'Bestimmt, welche Seemannschaftsfragen Sie lernen. Ihr Lernstand bleibt beim Wechsel erhalten.' })),
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
          variant: data.get('variant'),
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

// --- Your data: export and deletion (docs/privacy.md) ----------------------

const CONFIRM_WORD = 'LÖSCHEN';

async function exportData(out) {
  mount(out, loading('Export wird erstellt …'));
  try {
    const { blob, filename } = await download('/me/export');
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: filename, class: 'sr-only', text: filename });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    mount(out, note(`Ihre Daten wurden als ${filename} heruntergeladen.`));
  } catch (e) {
    mount(out, note(describe(e), 'error'));
  }
}

// After the API erased the data: the sign-in at Cognito, then everything on
// this device. A DeleteUser that fails leaves the sign-in, which the next
// sign-in finds (the API answers 410 account_deleted) and offers to remove.
export async function finishDeletion(ctx, sub) {
  let cognitoDone = true;
  try {
    await deleteCognitoUser();
  } catch {
    cognitoDone = false;
  }
  await kvClear(sub).catch(() => {});
  await outboxClear(sub).catch(() => {});
  await clearMedia().catch(() => {});
  forgetLearner();
  ctx.navigate(cognitoDone ? '/anmelden?geloescht=1' : '/anmelden?geloescht=teilweise', { replace: true });
}

function deleteDialog(ctx, out) {
  const status = h('div', { class: 'form-status' });
  const input = h('input', {
    id: 'd-confirm', name: 'confirm', type: 'text', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'd-confirm-hint',
  });
  const go = h('button', { type: 'submit', class: 'danger', text: 'Konto endgültig löschen', disabled: true });
  input.addEventListener('input', () => { go.disabled = input.value.trim() !== CONFIRM_WORD; });
  const form = h('form', { class: 'form delete-confirm', novalidate: true },
    note('Das Löschen kann nicht rückgängig gemacht werden. Alle Lerndaten, Prüfungen und Einstellungen werden sofort '
      + 'entfernt. Ein laufendes Abo wird sofort beendet; bereits bezahlte Zeit wird nicht automatisch erstattet.', 'warn'),
    h('div', { class: 'field' },
      h('label', { for: 'd-confirm', text: `Zur Bestätigung ${CONFIRM_WORD} eingeben` }),
      input,
      h('p', { id: 'd-confirm-hint', class: 'hint', text: 'Tipp: Laden Sie vorher Ihre Daten herunter.' })),
    h('div', { class: 'actions' },
      go,
      h('button', { type: 'button', text: 'Abbrechen', onclick: () => mount(out) })),
    status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (input.value.trim() !== CONFIRM_WORD) return;
    go.disabled = true;
    go.setAttribute('aria-busy', 'true');
    mount(status, loading('Konto wird gelöscht …'));
    const sub = currentSub();
    try {
      await api('/me', { method: 'DELETE', body: { confirm: CONFIRM_WORD } });
    } catch (err) {
      let text = describe(err);
      if (err instanceof ApiError && (err.status === 502 || err.status === 504)) {
        text = 'Das Abo konnte beim Zahlungsdienst nicht beendet werden. Es wurde nichts gelöscht; bitte versuchen Sie es später erneut.';
      }
      mount(status, note(text, 'error'));
      go.disabled = false;
      go.removeAttribute('aria-busy');
      return;
    }
    await finishDeletion(ctx, sub);
  });
  return form;
}

function dataSection(ctx) {
  const out = h('div', { class: 'data-out' });
  const dialog = h('div');
  return h('section', { class: 'card', 'aria-labelledby': 'h-data' },
    h('h2', { id: 'h-data', text: 'Ihre Daten' }),
    h('p', { class: 'muted small', text: 'Alles, was wir über Sie speichern, als Datei (JSON).' }),
    actionButton('Daten exportieren', () => exportData(out)),
    out,
    h('div', { class: 'actions' },
      h('button', {
        type: 'button',
        class: 'danger-outline',
        text: 'Konto löschen',
        onclick: () => {
          mount(dialog, deleteDialog(ctx, dialog));
          dialog.querySelector('input').focus();
        },
      })),
    dialog,
    h('p', { class: 'links' },
      h('a', { href: '/datenschutz', text: 'Datenschutz' }),
      h('a', { href: '/impressum', text: 'Impressum' })));
}

// Signed in to an account whose data is gone (the deletion's last step,
// Cognito's DeleteUser, did not go through): offer to finish it.
export function accountGoneView(main, _p, ctx) {
  ctx.title('Konto gelöscht');
  const out = h('div');
  mount(main, h('h1', { tabindex: '-1', text: 'Konto gelöscht' }),
    h('p', { text: 'Die Daten dieses Kontos sind bereits gelöscht. Die Anmeldung besteht noch; '
      + 'entfernen Sie sie jetzt, um das Löschen abzuschließen.' }),
    h('div', { class: 'actions' },
      actionButton('Löschen abschließen', async () => {
        mount(out, loading('Anmeldung wird gelöscht …'));
        await finishDeletion(ctx, currentSub());
      }, { class: 'danger' }),
      actionButton('Abmelden', async () => {
        const sub = currentSub();
        await kvClear(sub).catch(() => {});
        await outboxClear(sub).catch(() => {});
        signOut();
      })),
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
    planSection(me.data), settingsSection(settings.data, me.data), accountSection(),
    dataSection(ctx));
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
