// Katalog: every question of the learner's licence variant, searchable
// (GET /api/cards: word prefixes, umlauts and ß folded by the server),
// filtered by topic, official sheet, flags and mistakes, a page at a time;
// a card's detail with the official answer, the figures, the learner's
// state and the flag (PUT/DELETE /api/cards/{id}/flag) with an optional
// note to report a wrong answer. Offline, the pages and cards already
// fetched answer from their stored copies (catalogue.js). Imported on demand.

import { api, describe, isOffline } from '../api.js';
import { currentSub } from '../auth.js';
import {
  cached, topics, topicLabel, variant, variantTopics,
} from '../catalogue.js';
import { kvGet, kvSet } from '../db.js';
import { figure } from '../media.js';
import {
  announce, fmtDate, fmtNum, h, loading, mount, note,
} from '../dom.js';

const PAGE = 30;
const NOTE_MAX = 500;
const STATES = { new: 'neu', learning: 'in Arbeit', review: 'gelernt' };
const cardNumber = (id) => id.slice(id.lastIndexOf('_') + 1);

// The learner's state of a card as the last list showed it, kept for the
// detail screen (also offline).
const stateKey = (id) => `${currentSub()}:cardstate:${id}`;
async function keepStates(items) {
  await Promise.all(items.map((c) => kvSet(stateKey(c.card.card_id), { ...c, card: undefined })));
}

function filtersOf(params) {
  const f = {
    q: (params.get('q') || '').slice(0, 200),
    thema: params.get('thema') || '',
    bogen: params.get('bogen') || '',
    markiert: params.get('markiert') === '1',
    fehler: params.get('fehler') === '1',
  };
  return f;
}

function apiQuery(f, cursor) {
  const q = new URLSearchParams({ limit: String(PAGE) });
  if (f.q.trim()) q.set('q', f.q.trim());
  if (f.thema) q.set('topic', f.thema);
  if (f.bogen) q.set('sheet', f.bogen);
  if (f.markiert) q.set('flagged', 'true');
  if (f.fehler) q.set('mistakes', 'true');
  if (cursor) q.set('cursor', cursor);
  return q.toString();
}

function addressOf(f) {
  const q = new URLSearchParams();
  if (f.q.trim()) q.set('q', f.q.trim());
  if (f.thema) q.set('thema', f.thema);
  if (f.bogen) q.set('bogen', f.bogen);
  if (f.markiert) q.set('markiert', '1');
  if (f.fehler) q.set('fehler', '1');
  return `/katalog${q.toString() ? `?${q}` : ''}`;
}

function badges(c) {
  return [h('span', { class: `badge state-${c.state}`, text: STATES[c.state] || c.state }),
    c.flagged ? h('span', { class: 'badge flagged', text: 'markiert' }) : null];
}

export async function katalogView(main, _p, ctx) {
  ctx.title('Katalog');
  const f = filtersOf(new URLSearchParams(location.search));
  const heading = h('h1', { tabindex: '-1', text: 'Katalog' });
  const [all, v] = await Promise.all([topics(), variant()]);
  const list = variantTopics(all, v);

  const search = h('input', {
    id: 'k-q', type: 'search', name: 'q', value: f.q, maxlength: '200', autocomplete: 'off', enterkeyhint: 'search', 'aria-describedby': 'k-q-hint',
  });
  const topicSel = h('select', { id: 'k-topic', name: 'thema' },
    h('option', { value: '', text: 'Alle Themen' }),
    list.map((t) => h('option', { value: t.value, text: t.label, selected: t.value === f.thema })));
  const sheetSel = h('select', { id: 'k-sheet', name: 'bogen' },
    h('option', { value: '', text: 'Alle Bögen' }),
    Array.from({ length: 15 }, (_, i) => h('option', { value: String(i + 1), text: `Bogen ${i + 1}`, selected: String(i + 1) === f.bogen })));
  const check = (name, label, on) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name, checked: on }), ` ${label}`);
  const form = h('form', { class: 'katalog-form', role: 'search', 'aria-label': 'Fragen suchen' },
    h('div', { class: 'field' },
      h('label', { for: 'k-q', text: 'Suche' }),
      search,
      h('p', { id: 'k-q-hint', class: 'hint', text: 'Wortanfänge genügen, z. B. „kardinal“ oder „massnahme“.' })),
    h('div', { class: 'filters' },
      h('div', { class: 'field inline' }, h('label', { for: 'k-topic', text: 'Thema' }), topicSel),
      h('div', { class: 'field inline' }, h('label', { for: 'k-sheet', text: 'Bogen' }), sheetSel),
      check('markiert', 'Markiert', f.markiert),
      check('fehler', 'Fehler', f.fehler)),
    h('button', { type: 'submit', class: 'sr-only', text: 'Suchen' }));
  const count = h('p', { class: 'result-count', role: 'status', 'aria-live': 'polite' });
  const results = h('ul', { class: 'card-list', 'aria-label': 'Fragen' });
  const more = h('div', { class: 'more' });
  const study = h('div', { class: 'actions study-links' });
  mount(main, heading, form, study, count, results, more);

  const current = () => ({
    q: search.value,
    thema: topicSel.value,
    bogen: sheetSel.value,
    markiert: form.elements.markiert.checked,
    fehler: form.elements.fehler.checked,
  });

  // Study what the filters show (the study screen takes one of them).
  function studyLinks(x) {
    const links = [];
    if (x.markiert) links.push(['/lernen?markiert=1&modus=ueben', 'Markierte lernen']);
    if (x.fehler) links.push(['/lernen?fehler=1&modus=ueben', 'Fehler wiederholen']);
    if (x.bogen) links.push([`/lernen?bogen=${x.bogen}&modus=ueben`, `Bogen ${x.bogen} lernen`]);
    if (x.thema && !links.length) links.push([`/lernen?thema=${x.thema}`, `${topicLabel(list, x.thema)} lernen`]);
    mount(study, links.map(([href, text]) => h('a', { class: 'button', href, text })));
  }

  let run = 0;
  async function load(cursor) {
    const id = ++run;
    const x = current();
    const qs = apiQuery(x, cursor);
    if (!cursor) {
      mount(results);
      mount(count, loading('Sucht …'));
    }
    mount(more);
    let r;
    try {
      r = await cached(`cards:${qs}`, `/cards?${qs}`);
    } catch (e) {
      if (id !== run) return;
      mount(count, note(isOffline(e) ? 'Offline: Diese Suche ist auf dem Gerät nicht gespeichert.' : describe(e), isOffline(e) ? 'warn' : 'error'));
      return;
    }
    if (id !== run) return;
    const page = r.data;
    keepStates(page.cards).catch(() => {});
    const text = page.total === 0 ? 'Keine Frage gefunden.' : `${fmtNum(page.total)} ${page.total === 1 ? 'Frage' : 'Fragen'}`;
    mount(count, r.at ? `${text} (offline gespeichert)` : text);
    if (!cursor) announce(text);
    for (const c of page.cards) {
      results.append(h('li', null, h('a', { href: `/katalog/${c.card.card_id}`, class: 'card-link' },
        h('span', { class: 'meta', text: `${topicLabel(all, c.card.tags[0])} · Frage ${cardNumber(c.card.card_id)}` }),
        h('span', { class: 'q-text', text: c.card.front.text }),
        h('span', { class: 'badges' }, badges(c)))));
    }
    if (page.next_cursor) {
      mount(more, h('button', {
        type: 'button',
        text: 'Weitere laden',
        onclick: () => load(page.next_cursor).then(() => results.querySelector(`li:nth-child(${results.children.length - page.cards.length + 1}) a`)?.focus()),
      }));
    }
  }

  let timer = null;
  const refresh = () => {
    const x = current();
    history.replaceState(null, '', addressOf(x));
    studyLinks(x);
    load(null);
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(timer); refresh(); });
  form.addEventListener('change', (e) => { if (e.target !== search) refresh(); });
  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(refresh, 300); });
  studyLinks(f);
  await load(null);
  return () => clearTimeout(timer);
}

export async function cardView(main, [cardId], ctx) {
  ctx.title('Frage');
  const heading = h('h1', { tabindex: '-1', text: 'Frage' });
  mount(main, heading, loading());
  let card;
  try {
    card = (await cached(`card:${cardId}`, `/cards/${encodeURIComponent(cardId)}`)).data;
  } catch (e) {
    mount(main, heading, note(isOffline(e) ? 'Offline: Diese Frage ist auf dem Gerät nicht gespeichert.' : describe(e), 'error'),
      h('a', { href: '/katalog', text: 'Zum Katalog' }));
    return;
  }
  const all = await topics();
  let state = await kvGet(stateKey(cardId));
  if (!state && navigator.onLine) {
    // Opened directly: whether it is flagged comes from the flagged list.
    try {
      const flagged = await api('/cards?flagged=true&limit=100');
      const hit = flagged.cards.find((c) => c.card.card_id === cardId);
      state = hit ? { ...hit, card: undefined } : null;
    } catch { /* the detail still shows */ }
  }
  state = state || { state: 'new', due: null, flagged: false, note: null };
  heading.textContent = `${topicLabel(all, card.tags[0])} · Frage ${cardNumber(card.card_id)}`;

  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const stateLine = h('p', { class: 'state-line' });
  const flagBtn = h('button', { type: 'button', class: 'flag' });
  const noteBox = h('textarea', {
    id: 'flag-note', rows: '3', maxlength: String(NOTE_MAX), 'aria-describedby': 'flag-note-hint',
  });
  noteBox.value = state.note || '';
  const counter = h('p', { id: 'flag-note-hint', class: 'hint' });
  const showCount = () => { counter.textContent = `${noteBox.value.length} von ${NOTE_MAX} Zeichen. Die Notiz sehen auch unsere Redakteure.`; };
  noteBox.addEventListener('input', showCount);
  showCount();

  function showState() {
    mount(stateLine, badges(state),
      state.due ? h('span', { class: 'muted small', text: ` fällig ${fmtDate(state.due, true)}` }) : null);
    flagBtn.textContent = state.flagged ? 'Markiert' : 'Markieren';
    flagBtn.setAttribute('aria-pressed', String(state.flagged));
  }

  async function setFlag(on, withNote) {
    if (!navigator.onLine) { mount(status, note('Markieren geht nur online.', 'warn')); return; }
    flagBtn.disabled = true;
    try {
      if (on) {
        const text = withNote ? noteBox.value.trim() : state.note;
        const r = await api(`/cards/${encodeURIComponent(cardId)}/flag`, { method: 'PUT', body: { note: text || null } });
        state = { ...state, flagged: true, note: r.note };
      } else {
        await api(`/cards/${encodeURIComponent(cardId)}/flag`, { method: 'DELETE' });
        state = { ...state, flagged: false, note: null };
        noteBox.value = '';
        showCount();
      }
      await kvSet(stateKey(cardId), state);
      showState();
      const msg = on ? (withNote ? 'Gemeldet und markiert. Danke!' : 'Markiert.') : 'Markierung entfernt.';
      mount(status, note(msg));
      announce(msg);
    } catch (e) {
      mount(status, note(describe(e), 'error'));
    } finally {
      flagBtn.disabled = false;
    }
  }
  flagBtn.addEventListener('click', () => setFlag(!state.flagged, false));

  const report = h('details', { class: 'report' },
    h('summary', { text: 'Fehler in der Antwort melden' }),
    h('label', { for: 'flag-note', text: 'Was stimmt nicht?' }),
    noteBox, counter,
    h('button', { type: 'button', text: 'Melden', onclick: () => setFlag(true, true) }));
  if (state.note) report.open = true;

  mount(main, heading,
    h('p', null, h('a', { href: '/katalog', text: '← Zum Katalog' })),
    h('article', { class: 'card detail', 'aria-labelledby': 'd-q' },
      h('h2', { id: 'd-q', class: 'sr-only', text: 'Frage' }),
      h('p', { class: 'q-text text', text: card.front.text }),
      card.front.images.map(figure),
      h('section', { class: 'answer', 'aria-labelledby': 'd-a' },
        h('h3', { id: 'd-a', text: 'Amtliche Antwort' }),
        h('p', { class: 'text', text: card.answer.text }),
        card.answer.images.map(figure),
        card.short_answer.length ? h('details', { class: 'keypoints' },
          h('summary', { text: 'Kernpunkte (nicht amtlich)' }),
          h('ul', null, card.short_answer.map((k) => h('li', { text: k })))) : null),
      card.exam_sheets?.length ? h('p', { class: 'muted small', text: `Auf den amtlichen Bögen ${card.exam_sheets.join(', ')}.` }) : null),
    h('section', { class: 'card', 'aria-labelledby': 'd-mine' },
      h('h2', { id: 'd-mine', text: 'Ihr Stand' }),
      stateLine,
      h('div', { class: 'actions' }, flagBtn),
      report,
      status));
  showState();
  kvSet(stateKey(cardId), state).catch(() => {});
}
