// Übersicht: due now, reviewed today, streak, due per topic, the
// recommended topic, the plan, and the exam readiness with a per-sheet
// chart (inline SVG from the API's numbers) shown on demand.

import { describe } from '../api.js';
import {
  applyPendingVariant, cached, topics, topicLabel, variantTopics,
} from '../catalogue.js';
import { pendingCount } from '../sync.js';
import { warmOffline } from './study.js';
import {
  fmtDate, fmtNum, fmtPct, h, loading, mount, note, svg,
} from '../dom.js';

function stat(label, value, extra) {
  return h('div', { class: 'stat' },
    h('span', { class: 'stat-value', text: value }),
    h('span', { class: 'stat-label', text: label }),
    extra ? h('span', { class: 'stat-extra', text: extra }) : null);
}

function bar(fraction, cls = '') {
  const fill = h('span', { class: `bar-fill ${cls}` });
  fill.style.width = `${Math.round(Math.max(0, Math.min(1, fraction)) * 100)}%`;
  return h('span', { class: 'bar', 'aria-hidden': 'true' }, fill);
}

function sheetChart(r) {
  const W = 330; const H = 170; const left = 26; const top = 8; const bottom = 24;
  const plotH = H - top - bottom; const n = r.sheets.length || 1;
  const step = (W - left - 4) / n; const bw = step * 0.66;
  const y = (p) => top + plotH * (1 - p / r.max_points);
  const chart = svg('svg', {
    viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
    'aria-label': `Erwartete Punkte je Fragebogen, Bestehensgrenze ${r.pass_points} von ${r.max_points} Punkten`,
  });
  for (const v of [0, 20, 40, 60].filter((x) => x <= r.max_points)) {
    chart.append(svg('line', { x1: left, x2: W, y1: y(v), y2: y(v), class: 'grid' }));
    chart.append(svg('text', { x: left - 4, y: y(v) + 3, class: 'axis', 'text-anchor': 'end', text: String(v) }));
  }
  r.sheets.forEach((s, i) => {
    const x = left + i * step + (step - bw) / 2;
    const rect = svg('rect', {
      x: x.toFixed(1), y: y(s.expected_points).toFixed(1), width: bw.toFixed(1),
      height: (plotH * (s.expected_points / r.max_points)).toFixed(1),
      class: s.expected_points >= r.pass_points ? 'bar-ok' : 'bar-low',
    }, svg('title', { text: `Bogen ${s.sheet_number}: ${fmtNum(s.expected_points, 1)} Punkte, ${fmtPct(s.pass_probability)}` }));
    chart.append(rect);
    chart.append(svg('text', { x: (x + bw / 2).toFixed(1), y: H - 8, class: 'axis', 'text-anchor': 'middle', text: String(s.sheet_number) }));
  });
  chart.append(svg('line', { x1: left, x2: W, y1: y(r.pass_points), y2: y(r.pass_points), class: 'pass-line' }));
  chart.append(svg('text', { x: W - 2, y: y(r.pass_points) - 4, class: 'axis pass-label', 'text-anchor': 'end', text: `Bestanden ab ${r.pass_points}` }));
  const table = h('details', { class: 'numbers' }, h('summary', { text: 'Als Tabelle' }), h('table', { class: 'sheet-table' },
    h('caption', { class: 'sr-only', text: 'Prüfungsreife je Fragebogen' }),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', text: 'Bogen' }),
      h('th', { scope: 'col', text: 'Erwartete Punkte' }),
      h('th', { scope: 'col', text: 'Chance' }))),
    h('tbody', null, r.sheets.map((s) => h('tr', null,
      h('th', { scope: 'row', text: String(s.sheet_number) }),
      h('td', { text: fmtNum(s.expected_points, 1) }),
      h('td', { text: fmtPct(s.pass_probability) }))))));
  return [chart, table];
}

// The pass plan (GET /api/dashboard/summary `plan`): today's work, the pace
// to the exam date, and the weakest sheet's cards to study first.
function planCard(p) {
  if (!p) return null;
  const track = p.on_track === null ? null : p.on_track ? 'im Plan' : 'nicht im Plan';
  const today = `Heute: ${fmtNum(p.today.new)} neue, ${fmtNum(p.today.reviews)} Wiederholungen${track ? ` · ${track}` : ''}`;
  const ids = p.focus_cards.map((c) => c.card_id);
  return h('section', { class: 'card plan', 'aria-labelledby': 'h-pass-plan' },
    h('h2', { id: 'h-pass-plan', text: 'Ihr Plan' }),
    h('p', { class: `plan-today${p.on_track === false ? ' behind' : ''}`, text: today }),
    p.exam_date
      ? h('p', { class: 'muted small', text: `Noch ${fmtNum(p.days_left)} Tage bis zur Prüfung am ${fmtDate(p.exam_date)}. `
        + `${fmtNum(p.target_met)} von ${fmtNum(p.target_cards)} Prüfungsfragen kennen Sie; alle bis zum ${fmtDate(p.deadline)} `
        + `heißt ${fmtNum(p.new_per_day_needed)} neue am Tag.` })
      : h('p', { class: 'muted small' }, 'Tragen Sie Ihren Prüfungstermin ein, dann rechnet der Plan Ihr Tagespensum aus. ',
        h('a', { href: '/konto', text: 'Termin eintragen' })),
    p.suggested_new_cards_per_day
      ? h('p', { class: 'note note-warn', role: 'status' },
        `Ihr Limit von ${fmtNum(p.new_cards_per_day)} neuen Karten am Tag reicht nicht: ${fmtNum(p.suggested_new_cards_per_day)} wären nötig. `,
        h('a', { href: '/konto', text: 'Limit ändern' }))
      : null,
    p.weakest_sheet ? h('p', { class: 'plan-weakest' },
      `Schwächster Bogen: ${p.weakest_sheet.sheet_number} (${fmtPct(p.weakest_sheet.pass_probability)} Chance)`,
      ids.length ? ' · diese Karten zuerst' : null) : null,
    ids.length ? h('a', { class: 'button', href: `/lernen?karten=${ids.join(',')}&modus=ueben`, text: `${ids.length} Karten lernen` }) : null);
}

function readiness(r) {
  // Without a date of their own the API evaluates today.
  const today = new Date().toLocaleDateString('sv-SE');
  const when = r.exam_date && r.exam_date !== today
    ? `für Ihren Prüfungstermin am ${fmtDate(r.exam_date)}` : 'wenn die Prüfung heute wäre';
  const details = h('details', { class: 'sheets' }, h('summary', { text: 'Je Fragebogen anzeigen' }));
  details.addEventListener('toggle', () => {
    if (details.open && details.children.length === 1) details.append(...sheetChart(r));
  }, { once: false });
  return h('section', { class: 'card', 'aria-labelledby': 'h-ready' },
    h('h2', { id: 'h-ready', text: 'Prüfungsreife' }),
    h('p', { class: 'muted small', text: `Fragebogen-Teil, ${when}.` }),
    h('div', { class: 'ready' },
      h('div', null,
        h('span', { class: 'big', text: fmtNum(r.expected_points, 1) }),
        h('span', { text: ` von ${r.max_points} Punkten erwartet` })),
      h('div', null,
        h('span', { class: 'big', text: fmtPct(r.pass_probability) }),
        h('span', { text: ' Chance zu bestehen' }))),
    bar(r.expected_points / r.max_points, r.expected_points >= r.pass_points ? 'ok' : ''),
    h('p', { class: 'muted small', text: `Bestanden ab ${r.pass_points} Punkten. Geschätzt aus Ihren Wiederholungen; `
      + 'nie gelernte Fragen zählen 0 Punkte, die Kartenaufgabe ist nicht enthalten.' }),
    r.variant === 'motor' ? h('p', { class: 'muted small', text: 'Motor: Die amtlichen Bögen enthalten Seemannschaft I. '
      + 'Gezählt werden ihre 21 gemeinsamen Fragen und 9 Fragen Seemannschaft II mit Ihrem Durchschnitt in diesem Thema.' }) : null,
    details);
}

export async function dashboardView(main, _p, ctx) {
  ctx.title('Übersicht');
  const heading = h('h1', { tabindex: '-1', text: 'Übersicht' });
  mount(main, heading, loading());
  let sum; let me;
  const listed = topics();
  try {
    if (navigator.onLine) await applyPendingVariant().catch(() => {});
    [sum, me] = await Promise.all([cached('dashboard', '/dashboard/summary'), cached('me', '/me')]);
  } catch (e) {
    mount(main, heading, note(describe(e), 'error'),
      h('button', { type: 'button', text: 'Erneut versuchen', onclick: () => dashboardView(main, _p, ctx) }));
    return;
  }
  const d = sum.data;
  const [all, waiting] = await Promise.all([listed, pendingCount()]);
  const list = variantTopics(all, d.plan && d.plan.variant);
  const max = Math.max(1, ...Object.values(d.due_by_topic));
  const rec = d.recommended_topic;
  mount(main, heading,
    sum.at ? note(`Offline: Stand vom ${fmtDate(new Date(sum.at).toISOString(), true)}.`, 'warn') : null,
    h('div', { class: 'stats' },
      stat('jetzt fällig', fmtNum(d.due_now)),
      stat('heute gelernt', fmtNum(d.reviewed_today), waiting ? `+ ${waiting} offline` : null),
      stat(d.streak_days === 1 ? 'Tag in Folge' : 'Tage in Folge', fmtNum(d.streak_days))),
    h('div', { class: 'cta' },
      h('a', { class: 'button primary', href: d.due_now > 0 ? '/lernen' : '/lernen?modus=ueben', text: d.due_now > 0 ? 'Jetzt lernen' : 'Üben' }),
      rec ? h('p', { class: 'muted', text: `Alle Themen gemischt, wie in der Prüfung. Am meisten fällig: ${topicLabel(list, rec)} (${d.due_by_topic[rec]})` }) : h('p', { class: 'muted', text: 'Für heute ist alles gelernt. Üben geht immer.' })),
    planCard(d.plan),
    h('section', { class: 'card', 'aria-labelledby': 'h-topics' },
      h('h2', { id: 'h-topics', text: 'Fällig nach Thema' }),
      h('ul', { class: 'topics' }, list.map((t) => {
        const n = d.due_by_topic[t.value] ?? 0;
        return h('li', null,
          h('a', { href: `/lernen?thema=${t.value}` },
            h('span', { class: 'topic-name', text: t.label }),
            h('span', { class: 'topic-count', text: `${n} fällig` })),
          bar(n / max));
      }))),
    d.exam_readiness ? readiness(d.exam_readiness) : null,
    h('section', { class: 'card plan-line', 'aria-labelledby': 'h-plan' },
      h('h2', { id: 'h-plan', text: 'Tarif' }),
      h('p', null, me.data.plan === 'premium'
        ? `Premium${me.data.premium_until ? ` bis ${fmtDate(me.data.premium_until)}` : ''}: Prüfungssimulation und Kartenaufgaben freigeschaltet.`
        : 'Kostenlos: alle Fragen lernen, auch offline. Prüfungssimulation mit Premium.'),
      h('a', { href: '/konto', text: me.data.plan === 'premium' ? 'Abo verwalten' : 'Premium ansehen' })));
  if (!sum.at) warmOffline().catch(() => {});
}
