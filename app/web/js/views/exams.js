// Prüfung (premium; sheet 1 of each kind free): the 15 official question
// sheets and the 10 chart tasks, taken against the clock; chart tasks with
// one answer field per sub-question. The result walks the learner through
// what the grader could not judge (self-assessment, the official solution
// beside the answer). Loaded on demand (dynamic import) so the first screen
// does not wait for it.
//
// While a sheet is open every answer is kept on the device first (IndexedDB)
// and sent with PUT …/answers/… a moment after typing stops; what could not
// be sent (offline, server trouble) is sent again when the connection
// returns and before submitting. The countdown runs from the server's
// remaining time (not the device clock); at zero the sheet is handed in.

import { api, ApiError, describe, isOffline } from '../api.js';
import { currentSub } from '../auth.js';
import { cached } from '../catalogue.js';
import { kvGet, kvSet } from '../db.js';
import { figure } from '../media.js';
import { PREMIUM_BENEFITS } from './plan.js';
import { micButton } from '../voice.js';
import {
  actionButton, announce, fmtDate, fmtNum, h, loading, mount, note,
} from '../dom.js';

const KINDS = {
  bogen: {
    base: '/exam-sessions', list: '/exams', name: 'Fragebogen', item: 'card_id', count: 'question_count',
    pass: 39, oral: 33, max: 60,
  },
  karte: {
    base: '/navigation-sessions', list: '/navigation-exams', name: 'Kartenaufgabe', item: 'task_id', count: 'task_count',
    pass: 20, oral: 17, max: 30,
  },
};

const OUTCOMES = {
  passed: ['Bestanden', 'ok'],
  oral: ['Mündliche Prüfung', 'oral'],
  oral_exam: ['Mündliche Prüfung', 'oral'],
  failed: ['Nicht bestanden', 'fail'],
};

// The official three-way result: the API's own field when it sends one,
// else from the points (question sheet 39/33, chart task 20/17).
function outcome(kind, r) {
  const given = r.outcome || r.result;
  if (typeof given === 'string' && OUTCOMES[given]) return OUTCOMES[given];
  const k = KINDS[kind];
  if (r.time_over && !r.passed) return OUTCOMES.failed;
  if (r.total_score >= k.pass) return OUTCOMES.passed;
  if (r.total_score >= k.oral) return OUTCOMES.oral;
  return OUTCOMES.failed;
}

const sheetName = (kind, n) => `${KINDS[kind].name} ${n}`;
const draftKey = (kind, sid) => `${currentSub()}:draft:${kind}:${sid}`;

let teasers = 0;
function teaser() {
  const id = `h-teaser-${++teasers}`;
  return h('section', { class: 'card teaser', 'aria-labelledby': id },
    h('h2', { id, text: 'Mit Premium' }),
    h('ul', { class: 'benefits' }, PREMIUM_BENEFITS.map((b) => h('li', { text: b }))),
    h('a', { class: 'button primary', href: '/konto', text: 'Premium holen' }));
}

// Where a start was refused: a line, not a second teaser.
const premiumLine = () => h('p', { class: 'note note-warn', role: 'status' },
  'Dieser Bogen gehört zu Premium; Bogen 1 ist kostenlos. ', h('a', { href: '/konto', text: 'Premium holen' }));

// Before a chart sheet: the allowed materials as the sheet lists them.
function materials(s) {
  if (!s.allowed_materials?.length) return null;
  return h('div', { class: 'materials' },
    h('h3', { text: 'Erlaubte Hilfsmittel' }),
    h('ul', null, s.allowed_materials.map((m) => h('li', { text: m }))),
    s.material_rules ? h('p', { class: 'muted small', text: s.material_rules }) : null);
}

async function start(kind, sheet, out, ctx) {
  mount(out, loading('Prüfung wird gestartet …'));
  try {
    const s = await api(KINDS[kind].base, {
      method: 'POST',
      body: { sheet_number: sheet },
      headers: { 'Idempotency-Key': crypto.randomUUID() },
    });
    await kvSet(`${currentSub()}:session:${kind}:${s.session_id}`, { data: s, at: Date.now() });
    ctx.navigate(`/pruefung/${kind}/${s.session_id}`);
  } catch (e) {
    mount(out, e.code === 'premium_required' ? premiumLine() : note(describe(e), 'error'));
  }
}

function sheetGrid(kind, sheets, premium, ctx) {
  const out = h('div', { class: 'start-out', 'aria-live': 'polite' });
  const k = KINDS[kind];
  const confirmStart = (s) => {
    if (!premium && !s.free) {
      mount(out, premiumLine(), h('div', { class: 'card offer' },
        h('p', null, h('strong', { text: 'Premium schaltet frei:' })),
        h('ul', { class: 'benefits' }, PREMIUM_BENEFITS.map((b) => h('li', { text: b }))),
        h('a', { class: 'button primary', href: '/konto', text: 'Premium holen' })));
      out.scrollIntoView({ block: 'nearest' });
      return;
    }
    mount(out, h('div', { class: 'card confirm' },
      h('p', null, h('strong', { text: sheetName(kind, s.sheet_number) }),
        ` · ${s[k.count]} ${kind === 'bogen' ? 'Fragen' : 'Aufgaben'} · ${s.time_limit_minutes} Minuten`),
      kind === 'karte' ? materials(s) : null,
      h('p', { text: 'Die Zeit läuft ab dem Start. Ihre Antworten werden laufend gespeichert.' }),
      h('div', { class: 'actions' },
        actionButton('Jetzt starten', () => start(kind, s.sheet_number, out, ctx), { class: 'primary' }),
        h('button', { type: 'button', text: 'Abbrechen', onclick: () => mount(out) }))));
    out.querySelector('button.primary').focus();
  };
  return [h('ul', { class: 'sheet-grid' }, sheets.map((s) => h('li', null, h('button', {
    type: 'button',
    class: s.free ? 'free' : (premium ? null : 'locked'),
    'aria-label': `${sheetName(kind, s.sheet_number)} starten${s.free ? ' (kostenlos)' : ''}`,
    text: String(s.sheet_number),
    onclick: () => confirmStart(s),
  }), s.free ? h('span', { class: 'badge', 'aria-hidden': 'true', text: 'frei' }) : null))), out];
}

const STATUS = { expired: 'abgelaufen', abandoned: 'abgebrochen', submitted: 'wird ausgewertet' };

function historyList(kind, items) {
  if (!items.length) return null;
  return h('ul', { class: 'history' }, items.slice(0, 10).map((s) => {
    const base = `/pruefung/${kind}/${s.session_id}`;
    const head = [h('strong', { text: sheetName(kind, s.sheet_number) }), ` · ${fmtDate(s.started_at)} · `];
    if (s.status === 'in_progress') return h('li', null, h('a', { href: base }, ...head, 'läuft, fortsetzen'));
    if (s.status !== 'evaluated') return h('li', null, ...head, STATUS[s.status] || s.status);
    return h('li', null, h('a', { href: `${base}/ergebnis` }, ...head,
      `${fmtNum(s.total_score ?? 0, 1)} von ${fmtNum(s.max_score ?? KINDS[kind].max)} Punkten · ${outcome(kind, s)[0]}`,
      s.self_assessed ? ' · selbst bewertet' : '', s.provisional ? ' · vorläufig' : ''));
  }));
}

// Chart-task texts come from a PDF: hard line breaks, words split with a
// hyphen. Joined again for reading; paragraphs stay.
const prose = (t) => (t || '').replace(/(\p{Ll})-\n(\p{Ll})/gu, '$1$2').replace(/([^\n])\n(?!\n)/g, '$1 ');

// The model solutions use **bold** and line breaks; nothing else is rendered.
function richText(t) {
  const p = h('p', { class: 'text' });
  (t || '').split('**').forEach((part, i) => p.append(i % 2 ? h('strong', { text: part }) : part));
  return p;
}

const listOf = (r) => (Array.isArray(r) ? r : r?.items || r?.sessions || []);

export async function examsView(main, _p, ctx) {
  ctx.title('Prüfung');
  const heading = h('h1', { tabindex: '-1', text: 'Prüfung' });
  mount(main, heading, loading());
  let me; let exams; let navs;
  try {
    [me, exams, navs] = await Promise.all([cached('me', '/me'), cached('exams', '/exams'), cached('navexams', '/navigation-exams')]);
  } catch (e) {
    const soon = e instanceof ApiError && e.status === 404;
    mount(main, heading, note(soon ? 'Die Prüfungssimulation ist bald verfügbar.' : describe(e), soon ? 'info' : 'error'),
      soon ? teaser() : h('button', { type: 'button', text: 'Erneut versuchen', onclick: () => examsView(main, _p, ctx) }));
    return;
  }
  const premium = me.data.plan === 'premium';
  const [hist, navHist] = await Promise.all([
    api('/exam-sessions?limit=10').catch(() => []), api('/navigation-sessions?limit=10').catch(() => [])]);
  mount(main, heading,
    h('p', { text: 'Wie in der Theorieprüfung: ein amtlicher Fragebogen mit 30 Fragen oder eine Kartenaufgabe, je 90 Minuten.' }),
    premium ? null : note('Kostenlos: Fragebogen 1 und Kartenaufgabe 1, so oft Sie möchten.'),
    premium ? null : teaser(),
    h('section', { class: 'card', 'aria-labelledby': 'h-sheets' },
      h('h2', { id: 'h-sheets', text: 'Fragebögen' }),
      h('p', { class: 'muted small', text: 'Bestanden ab 39 von 60 Punkten, 33 bis 38: mündliche Prüfung.' }),
      sheetGrid('bogen', exams.data, premium, ctx),
      historyList('bogen', listOf(hist))),
    h('section', { class: 'card', 'aria-labelledby': 'h-charts' },
      h('h2', { id: 'h-charts', text: 'Kartenaufgaben' }),
      h('p', { class: 'muted small', text: 'Bestanden ab 20 von 30 Punkten, 17 bis 19: mündliche Prüfung.' }),
      sheetGrid('karte', navs.data, premium, ctx),
      historyList('karte', listOf(navHist))));
}

// A chart task's answers, one per sub-question: the server's sub_answers,
// or an old single answer in the first field.
function subAnswers(q, saved) {
  const n = Math.max(1, q.sub_questions?.length || 0);
  if (Array.isArray(saved)) return Array.from({ length: n }, (_, i) => saved[i] || '');
  const a = Array(n).fill('');
  a[0] = saved || '';
  return a;
}
const filled = (v) => (Array.isArray(v) ? v.some((t) => t.trim()) : v.trim() !== '');
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// Minutes and seconds, as exam clocks show them ("89:59").
function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

export async function sessionView(main, [kind, sid], ctx) {
  const k = KINDS[kind];
  ctx.title(k.name);
  const heading = h('h1', { tabindex: '-1', text: k.name });
  mount(main, heading, loading());
  let session;
  try {
    session = await cached(`session:${kind}:${sid}`, `${k.base}/${sid}`);
  } catch (e) {
    mount(main, heading, note(describe(e), 'error'), h('a', { href: '/pruefung', text: 'Zur Übersicht der Prüfungen' }));
    return undefined;
  }
  const s = session.data;
  if (s.status === 'evaluated' || s.status === 'submitted') {
    ctx.navigate(`/pruefung/${kind}/${sid}/ergebnis`, { replace: true });
    return undefined;
  }
  if (s.status !== 'in_progress') {
    mount(main, heading, note(s.status === 'expired'
      ? 'Diese Prüfung wurde nicht rechtzeitig abgegeben und ist abgelaufen.'
      : 'Diese Prüfung wurde abgebrochen.', 'warn'), h('a', { class: 'button', href: '/pruefung', text: 'Neue Prüfung' }));
    return undefined;
  }
  heading.textContent = sheetName(kind, s.sheet_number);
  ctx.title(sheetName(kind, s.sheet_number));
  // Spoken answers on a question sheet: premium, with AI on the server.
  const me = await cached('me', '/me').then((x) => x.data).catch(() => ({}));
  const speak = kind === 'bogen' && me.ai_available && me.plan === 'premium';

  // Answers: the server's, overlaid with unsent local drafts.
  const drafts = (await kvGet(draftKey(kind, sid))) || {};
  const answers = {};
  for (const q of s.questions) {
    const id = q[k.item];
    const text = drafts[id]?.dirty ? drafts[id].text : (q.sub_answers ?? q.student_answer ?? '');
    answers[id] = kind === 'karte' ? subAnswers(q, text) : String(text);
  }
  const saveDrafts = () => kvSet(draftKey(kind, sid), drafts).catch(() => {});

  const deadline = session.at ? Date.parse(s.deadline_at) : Date.now() + s.time_remaining_seconds * 1000;
  const timer = h('span', { class: 'timer', role: 'timer', 'aria-label': 'Verbleibende Zeit' });
  const answered = h('span', { class: 'answered' });
  const saveLine = h('span', { class: 'save-line', 'aria-live': 'polite' });
  const bar = h('div', { class: 'exam-bar' }, timer, answered, saveLine);
  const states = {};
  const timers = {};
  let closed = false;

  const countAnswered = () => {
    const n = Object.values(answers).filter(filled).length;
    answered.textContent = `${n} von ${s.questions.length} beantwortet`;
    return n;
  };
  const setState = (id, text, cls = '') => {
    states[id].textContent = text;
    states[id].className = `save-state ${cls}`;
  };
  const unsent = () => Object.entries(drafts).filter(([, d]) => d.dirty).map(([id]) => id);
  const showLine = () => {
    const n = unsent().length;
    saveLine.textContent = n ? `${n} nur auf dem Gerät gespeichert` : 'Alles gespeichert';
    saveLine.classList.toggle('warn', n > 0);
  };

  async function send(id) {
    const text = Array.isArray(answers[id]) ? [...answers[id]] : answers[id];
    if (!navigator.onLine) {
      setState(id, 'Auf dem Gerät gespeichert, wird gesendet, sobald Sie online sind.', 'warn');
      return false;
    }
    setState(id, 'Wird gespeichert …');
    try {
      await api(`${k.base}/${sid}/answers/${encodeURIComponent(id)}`, {
        method: 'PUT', body: Array.isArray(text) ? { sub_answers: text } : { student_answer: text },
      });
      if (same(answers[id], text)) {
        drafts[id] = { text, dirty: false };
        saveDrafts();
        setState(id, 'Gespeichert', 'ok');
      }
      return true;
    } catch (e) {
      if (isOffline(e) || e.status >= 500 || e.status === 429) {
        setState(id, 'Auf dem Gerät gespeichert, wird erneut gesendet.', 'warn');
      } else {
        setState(id, `Nicht gespeichert: ${describe(e)}`, 'error');
        if (e.status === 409) closed = true;
      }
      return false;
    } finally {
      showLine();
    }
  }
  const sendAll = async () => (await Promise.all(unsent().map(send))).every(Boolean);

  const items = s.questions.map((q, i) => {
    const id = q[k.item];
    const n = q.question_number ?? q.task_number ?? i + 1;
    states[id] = h('p', { id: `st-${i}`, class: 'save-state' });
    // One field per question; a chart task one per sub-question.
    const field = (areaId, value, onValue) => {
      const area = h('textarea', { id: areaId, rows: kind === 'bogen' ? '4' : '2', maxlength: '10000', 'aria-describedby': `st-${i}` });
      area.value = value;
      area.addEventListener('input', () => {
        onValue(area.value);
        drafts[id] = { text: answers[id], dirty: true };
        saveDrafts();
        countAnswered();
        showLine();
        setState(id, 'Geändert …');
        clearTimeout(timers[id]);
        timers[id] = setTimeout(() => send(id), 1200);
      });
      area.addEventListener('blur', () => {
        if (drafts[id]?.dirty) { clearTimeout(timers[id]); send(id); }
      });
      return area;
    };
    const body = kind === 'bogen'
      ? [h('p', { class: 'text', text: q.question_text }), (q.question_images || []).map(figure),
        h('label', { for: `a-${i}`, text: 'Ihre Antwort' })]
      : [];
    if (kind === 'bogen') {
      const area = field(`a-${i}`, answers[id], (v) => { answers[id] = v; });
      body.push(area, speak ? micButton(area, `Antwort zu Frage ${n} sprechen`) : null);
    }
    const chart = kind === 'bogen' ? null
      : [h('p', { class: 'text', text: prose(q.context) }),
        h('ol', { class: 'subq' }, (q.sub_questions?.length ? q.sub_questions : [{ text: '' }]).map((sq, j) => h('li', null,
          sq.text, sq.points ? h('span', { class: 'muted', text: ` (${sq.points} P.)` }) : null,
          h('label', { for: `a-${i}-${j}`, class: 'sub-label', text: `Ihre Antwort zu ${String.fromCharCode(97 + j)})` }),
          field(`a-${i}-${j}`, answers[id][j], (v) => { answers[id][j] = v; }))))];
    return h('section', { class: 'card question', id: `q-${n}`, 'aria-labelledby': `qh-${i}` },
      h('h2', { id: `qh-${i}` }, kind === 'bogen' ? `Frage ${n}` : `Aufgabe ${n}`,
        q.points ? h('span', { class: 'muted', text: ` · ${q.points} Punkte` }) : null),
      body, chart, states[id]);
  });

  const submitOut = h('div', { class: 'submit-out', 'aria-live': 'polite' });
  async function submit(auto = false) {
    mount(submitOut, loading(auto ? 'Die Zeit ist um. Ihre Antworten werden abgegeben …' : 'Wird abgegeben …'));
    const sent = await sendAll();
    if (!sent && !closed) {
      mount(submitOut, note('Noch nicht alle Antworten sind beim Server. Sie sind auf dem Gerät gespeichert; '
        + 'bitte geben Sie ab, sobald Sie wieder online sind.', 'warn'));
      return;
    }
    try {
      const r = await api(`${k.base}/${sid}/submit`, { method: 'POST' });
      await kvSet(`${currentSub()}:result:${kind}:${sid}`, { data: r, at: Date.now() });
      ctx.navigate(`/pruefung/${kind}/${sid}/ergebnis`, { replace: true });
    } catch (e) {
      mount(submitOut, note(describe(e), 'error'));
    }
  }
  const confirmSubmit = () => {
    const open = s.questions.length - countAnswered();
    mount(submitOut, h('div', { class: 'card confirm' },
      h('p', { text: open ? `Noch ${open} unbeantwortet. Trotzdem abgeben?` : 'Alle beantwortet. Jetzt abgeben?' }),
      h('div', { class: 'actions' },
        actionButton('Abgeben', () => submit(), { class: 'primary' }),
        h('button', { type: 'button', text: 'Weiter bearbeiten', onclick: () => mount(submitOut) }))));
    submitOut.querySelector('button.primary').focus();
  };

  const confirmAbandon = () => {
    mount(submitOut, h('div', { class: 'card confirm' },
      h('p', { text: 'Prüfung abbrechen? Ihre Antworten werden nicht bewertet.' }),
      h('div', { class: 'actions' },
        actionButton('Abbrechen', async () => {
          try {
            await api(`${k.base}/${sid}`, { method: 'DELETE' });
            ctx.navigate('/pruefung', { replace: true });
          } catch (e) {
            mount(submitOut, note(describe(e), 'error'));
          }
        }, { class: 'danger' }),
        h('button', { type: 'button', text: 'Weiter bearbeiten', onclick: () => mount(submitOut) }))));
    submitOut.querySelector('button.danger').focus();
  };

  mount(main, heading, bar,
    session.at ? note('Offline: Ihre Antworten werden auf dem Gerät gespeichert.', 'warn') : null,
    items,
    h('div', { class: 'submit-area' },
      h('button', { type: 'button', class: 'primary', text: 'Abgeben', onclick: confirmSubmit }),
      h('button', { type: 'button', class: 'link', text: 'Prüfung abbrechen', onclick: confirmAbandon }),
      submitOut));
  countAnswered();
  showLine();

  const warned = new Set();
  const tick = () => {
    const left = (deadline - Date.now()) / 1000;
    timer.textContent = `noch ${clock(left)}`;
    timer.classList.toggle('urgent', left < 300);
    for (const m of [10, 5, 1]) {
      if (left <= m * 60 && left > m * 60 - 2 && !warned.has(m)) {
        warned.add(m);
        announce(`Noch ${m} ${m === 1 ? 'Minute' : 'Minuten'}.`);
      }
    }
    if (left <= 0) {
      clearInterval(interval);
      timer.textContent = 'Zeit abgelaufen';
      submit(true);
    }
  };
  const interval = setInterval(tick, 1000);
  tick();
  const online = () => sendAll();
  window.addEventListener('online', online);
  if (unsent().length && navigator.onLine) sendAll();
  return () => {
    clearInterval(interval);
    window.removeEventListener('online', online);
    for (const t of Object.values(timers)) clearTimeout(t);
    if (unsent().length) sendAll();
  };
}

function officialAnswer(cardId) {
  const box = h('div', { class: 'official' });
  const d = h('details', null, h('summary', { text: 'Amtliche Antwort' }), box);
  d.addEventListener('toggle', async () => {
    if (!d.open || box.childNodes.length) return;
    mount(box, loading());
    try {
      const c = await api(`/cards/${encodeURIComponent(cardId)}`);
      mount(box, h('p', { class: 'text', text: c.answer.text }), c.answer.images.map(figure));
    } catch (e) {
      mount(box, note(describe(e), 'error'));
    }
  });
  return d;
}

// Who graded an answer, and how far the AI grading is.
function graderLine(q) {
  if (q.counts === 'learner') {
    return h('p', { class: 'grader muted small', text: `Ihre eigene Bewertung zählt (Bewertung: ${fmtNum(q.grader_points ?? 0, 1)} Punkte).` });
  }
  if (q.ai_status === 'pending') return h('p', { class: 'grader muted small', text: 'KI-Bewertung läuft …' });
  if (q.grader === 'ai') {
    return h('p', { class: 'grader small' }, h('strong', { text: 'Bewertet von KI' }), q.model ? ` (${q.model})` : '');
  }
  if (q.ai_status === 'failed') return h('p', { class: 'grader muted small', text: 'KI-Bewertung nicht möglich; die automatische Bewertung gilt.' });
  return null;
}

// Points buttons for the learner's own assessment of a question or a chart
// sub-question; `done(result)` gets the recomputed result.
function assessButtons(kind, sid, target, max, current, done) {
  const k = KINDS[kind];
  const step = kind === 'bogen' ? 1 : 0.5;
  const out = h('span', { class: 'assess-out', 'aria-live': 'polite' });
  const path = kind === 'bogen'
    ? `${k.base}/${sid}/results/${encodeURIComponent(target.id)}`
    : `${k.base}/${sid}/results/${encodeURIComponent(target.id)}/sub-questions/${target.sub}`;
  const values = [];
  for (let v = 0; v <= max + 1e-9; v += step) values.push(v);
  const set = async (v, btn) => {
    btn.disabled = true;
    try {
      done(await api(path, { method: 'PATCH', body: { self_points: v } }));
    } catch (e) {
      mount(out, note(describe(e), 'error'));
      btn.disabled = false;
    }
  };
  return h('div', { class: 'assess', role: 'group', 'aria-label': `Eigene Punkte für ${target.label}` },
    h('span', { class: 'small', text: 'Ihre Punkte: ' }),
    values.map((v) => h('button', {
      type: 'button',
      class: current === v ? 'pts-btn chosen' : 'pts-btn',
      'aria-pressed': current === v ? 'true' : 'false',
      text: fmtNum(v, 1),
      onclick: (e) => set(v, e.currentTarget),
    })),
    current != null ? h('button', { type: 'button', class: 'link small', text: 'Bewertung zurücknehmen', onclick: (e) => set(null, e.currentTarget) }) : null,
    out);
}

// What the learner still has to assess: questions (sheet) or sub-questions
// (chart) the grader could not judge and that have no learner's points.
function openItems(kind, r) {
  const list = [];
  for (const q of r.questions) {
    if (kind === 'bogen') {
      if (q.needs_self_assessment && q.self_points == null) list.push({ q });
    } else if (q.needs_self_assessment) {
      for (const sr of q.sub_results || []) if (sr.needs_self_assessment && sr.self_points == null) list.push({ q, sr });
    }
  }
  return list;
}

// The walk-through: one item at a time, the official solution beside the answer.
function walkThrough(kind, sid, r, rerender) {
  const open = openItems(kind, r);
  if (!open.length) return null;
  const { q, sr } = open[0];
  const label = kind === 'bogen' ? `Frage ${q.question_number}` : `Aufgabe ${q.task_number}, Teil ${String.fromCharCode(96 + sr.number)})`;
  return h('section', { class: 'card walk', id: 'selbst', 'aria-labelledby': 'h-walk' },
    h('h2', { id: 'h-walk', text: `Selbst bewerten (${open.length} offen)` }),
    h('p', { class: 'muted small', text: 'Diese Antworten kann die automatische Bewertung nicht prüfen. '
      + 'Vergleichen Sie mit der Musterlösung und vergeben Sie Ihre Punkte; das Ergebnis ist bis dahin vorläufig.' }),
    h('h3', { text: label }),
    h('p', { class: 'text', text: sr ? sr.text : q.question_text }),
    h('div', { class: 'compare' },
      h('div', null, h('h4', { text: 'Ihre Antwort' }),
        h('p', { class: 'text', text: (sr ? (sr.student_answer ?? q.student_answer) : q.student_answer) || '(keine Antwort)' })),
      h('div', null, h('h4', { text: 'Musterlösung' }),
        sr?.key_answers?.length ? h('ul', null, sr.key_answers.map((x) => h('li', { text: x }))) : null,
        q.solution_text ? richText(q.solution_text) : h('p', { class: 'text', text: q.reference_answer || '' }),
        q.reference_images?.length ? q.reference_images.map(figure) : null)),
    assessButtons(kind, sid, { id: q.card_id || q.task_id, sub: sr?.number, label },
      sr ? sr.max_points : (q.max_score ?? 2), null, rerender));
}

export async function resultView(main, [kind, sid], ctx) {
  const k = KINDS[kind];
  ctx.title('Ergebnis');
  const heading = h('h1', { tabindex: '-1', text: 'Ergebnis' });
  mount(main, heading, loading());
  let r;
  try {
    r = (await cached(`result:${kind}:${sid}`, `${k.base}/${sid}/result`)).data;
  } catch (e) {
    mount(main, heading, note(describe(e), 'error'), h('a', { href: '/pruefung', text: 'Zur Übersicht der Prüfungen' }));
    return undefined;
  }
  let poll = null;
  const render = (res, focusWalk = false) => {
    r = res;
    kvSet(`${currentSub()}:result:${kind}:${sid}`, { data: r, at: Date.now() }).catch(() => {});
    show(focusWalk);
  };
  const rerender = (res) => render(res, true);
  function show(focusWalk) {
    const [text, cls] = outcome(kind, r);
    const max = r.max_score || k.max;
    heading.textContent = `Ergebnis ${sheetName(kind, r.sheet_number)}`;
    const fill = h('span', { class: `bar-fill ${cls}` });
    fill.style.width = `${Math.round((r.total_score / max) * 100)}%`;
    const mark = h('span', { class: 'bar-mark' });
    mark.style.left = `${Math.round((k.pass / max) * 100)}%`;
    const pending = r.grading === 'pending';
    const aiDone = r.questions.filter((q) => q.ai_status && q.ai_status !== 'pending').length;
    const aiAll = r.questions.filter((q) => q.ai_status).length;
    mount(main, heading,
      h('section', { class: `card outcome outcome-${cls}`, 'aria-labelledby': 'h-outcome' },
        h('h2', { id: 'h-outcome', text: r.provisional ? `${text} (vorläufig)` : text }),
        h('p', { class: 'score' }, h('span', { class: 'big', text: fmtNum(r.total_score, 1) }), ` von ${fmtNum(max)} Punkten`),
        h('span', { class: 'bar', 'aria-hidden': 'true' }, fill, mark),
        h('p', { class: 'muted small', text: `Bestanden ab ${k.pass} Punkten, ${k.oral} bis ${k.pass - 1}: mündliche Prüfung.` }),
        r.self_assessed ? h('p', { class: 'small', text: `Mit Ihren eigenen Bewertungen; automatisch bewertet: ${fmtNum(r.grader_total_score ?? r.total_score, 1)} Punkte.` }) : null,
        r.provisional ? note('Vorläufig: einige Antworten müssen Sie selbst bewerten (unten).', 'warn') : null,
        pending ? h('div', { class: 'ai-progress', role: 'status' },
          h('progress', { max: String(aiAll || 1), value: String(aiDone) }),
          h('span', { text: ` KI-Bewertung läuft: ${aiDone} von ${aiAll} Antworten bewertet. Das Ergebnis aktualisiert sich.` })) : null,
        r.time_over ? note('Die Zeit wurde überschritten.', 'warn') : null),
      walkThrough(kind, sid, r, rerender),
      h('h2', { text: kind === 'bogen' ? 'Fragen' : 'Aufgaben' }),
      h('ol', { class: 'results' }, r.questions.map((q) => {
        const qmax = q.max_score ?? 2;
        const full = q.score >= qmax;
        const label = kind === 'bogen' ? `Frage ${q.question_number}` : `Aufgabe ${q.task_number}`;
        return h('li', { class: 'card' },
          h('details', null,
            h('summary', null,
              h('span', { text: label }),
              q.counts === 'learner' ? h('span', { class: 'badge', text: 'selbst bewertet' }) : null,
              q.needs_self_assessment && q.counts !== 'learner' ? h('span', { class: 'badge warn', text: 'selbst bewerten' }) : null,
              h('span', { class: `pts ${full ? 'ok' : q.score > 0 ? 'part' : 'zero'}`, text: `${fmtNum(q.score, 1)} / ${fmtNum(qmax, 1)}` })),
            h('p', { class: 'text', text: q.question_text || prose(q.context) }),
            kind === 'karte' && q.sub_results ? h('ol', { class: 'subq sub-results' }, q.sub_results.map((x) => h('li', null,
              h('p', { text: x.text }),
              h('p', { class: 'small' }, h('strong', { text: 'Ihre Antwort: ' }), x.student_answer ?? '(siehe Gesamtantwort)'),
              x.key_answers?.length ? h('p', { class: 'small' }, h('strong', { text: 'Lösungswerte: ' }), x.key_answers.join('; ')) : null,
              h('p', { class: 'small', text: `${fmtNum(x.points ?? 0, 1)} von ${fmtNum(x.max_points, 1)} Punkten${x.counts === 'learner' ? ' (Ihre Bewertung)' : x.needs_self_assessment ? ' (selbst bewerten)' : ''}` }),
              assessButtons(kind, sid, { id: q.task_id, sub: x.number, label: `${label}, Teil ${String.fromCharCode(96 + x.number)})` },
                x.max_points, x.self_points, rerender)))) : null,
            h('h3', { text: 'Ihre Antwort' }),
            h('p', { class: 'text', text: q.student_answer || '(keine Antwort)' }),
            graderLine(q),
            q.feedback ? h('p', { class: 'feedback' }, q.grader === 'ai' ? h('strong', { text: 'Begründung: ' }) : null, q.feedback) : null,
            q.errors?.length ? h('ul', { class: 'errors' }, q.errors.map((x) => h('li', { text: x }))) : null,
            q.reference_short_answer?.length ? [h('h3', { text: 'Kernpunkte' }),
              h('ul', null, q.reference_short_answer.map((x) => h('li', { text: x })))] : null,
            q.solution_text ? [h('h3', { text: 'Musterlösung' }), richText(q.solution_text)] : null,
            q.reference_answer ? [h('h3', { text: 'Amtliche Antwort' }), h('p', { class: 'text', text: q.reference_answer })]
              : q.card_id ? officialAnswer(q.card_id) : null,
            kind === 'bogen' ? assessButtons(kind, sid, { id: q.card_id, label }, qmax, q.self_points, rerender) : null));
      })),
      h('div', { class: 'actions' },
        h('a', { class: 'button primary', href: '/pruefung', text: 'Weitere Prüfung' }),
        h('a', { class: 'button', href: '/', text: 'Zur Übersicht' })));
    if (focusWalk) (main.querySelector('#selbst h3') || main.querySelector('#h-outcome'))?.scrollIntoView({ block: 'start' });
    clearTimeout(poll);
    if (pending) {
      poll = setTimeout(async () => {
        try { render(await api(`${k.base}/${sid}/result`)); } catch { show(false); }
      }, 3000);
    }
  }
  show(false);
  return () => clearTimeout(poll);
}
