// Lernen: the due or practice queue (optionally one topic), one card at a
// time: question with its figures, an optional typed answer checked by the
// server's grader, the official answer, a rating. Keyboard: Space or Enter
// reveals, 1-4 rate. Ratings go to the outbox (sync.js) first, so studying
// works the same online and offline. A summary closes the session.

import { api, describe, isOffline } from '../api.js';
import {
  cached, topics, topicLabel, TOPICS,
} from '../catalogue.js';
import { currentSub } from '../auth.js';
import { kvGet, kvSet, outboxList } from '../db.js';
import { figure, figureKeys, prefetch } from '../media.js';
import { flush, recordReview } from '../sync.js';
import { micButton } from '../voice.js';
import {
  announce, fmtDate, fmtNum, h, loading, mount, note,
} from '../dom.js';

const RATINGS = [
  { value: 1, label: 'Nochmal', cls: 'again' },
  { value: 2, label: 'Schwer', cls: 'hard' },
  { value: 3, label: 'Gut', cls: 'good' },
  { value: 4, label: 'Leicht', cls: 'easy' },
];
const VERDICTS = { full: 'Richtig', partial: 'Teilweise richtig', incorrect: 'Nicht richtig' };
const LIMIT = 100;

function queueKey(mode, topic) {
  return `queue:${mode}:${topic || 'all'}`;
}

async function loadQueue(mode, topic) {
  if (navigator.onLine) await flush().catch(() => {});
  const q = `?limit=${LIMIT}${topic ? `&topic=${encodeURIComponent(topic)}` : ''}`;
  let r;
  try {
    r = await cached(queueKey(mode, topic), `/study/${mode === 'ueben' ? 'practice' : 'due'}${q}`);
  } catch (e) {
    // Offline without a copy of this very queue: one topic out of the
    // copy of all topics, or all topics from the copies per topic.
    if (!isOffline(e)) throw e;
    r = await fallbackCopy(mode, topic);
    if (!r) throw e;
  }
  // Cards rated on this device but not yet confirmed are done for now.
  const done = new Set((await outboxList(currentSub())).map((i) => i.card_id));
  return { cards: r.data.filter((c) => !done.has(c.card.card_id)), at: r.at };
}

async function fallbackCopy(mode, topic) {
  const get = (t) => kvGet(`${currentSub()}:${queueKey(mode, t)}`);
  if (topic) {
    const all = await get('');
    return all && { data: all.data.filter((c) => c.card.tags.includes(topic)), at: all.at };
  }
  const parts = (await Promise.all(TOPICS.map((t) => get(t.value)))).filter(Boolean);
  if (!parts.length) return null;
  return { data: parts.flatMap((p) => p.data), at: Math.min(...parts.map((p) => p.at)) };
}

// The due queue of all topics and its figures, stored for offline study
// (the dashboard calls this once it has shown itself).
export async function warmOffline() {
  if (!navigator.onLine) return;
  const r = await cached(queueKey('faellig', ''), `/study/due?limit=${LIMIT}`);
  await prefetch(figureKeys(r.data.map((c) => c.card)));
}

// Keep the stored copies of the queues in step, so an offline restart does
// not offer a card again that was rated online.
async function dropFromCopies(cardId) {
  for (const mode of ['faellig', 'ueben']) {
    for (const t of ['', ...TOPICS.map((x) => x.value)]) {
      const k = `${currentSub()}:${queueKey(mode, t)}`;
      const copy = await kvGet(k);
      if (!copy || !copy.data.some((c) => c.card.card_id === cardId)) continue;
      copy.data = copy.data.filter((c) => c.card.card_id !== cardId);
      await kvSet(k, copy);
    }
  }
}

const cardNumber = (id) => id.slice(id.lastIndexOf('_') + 1);

export async function studyView(main, _p, ctx) {
  ctx.title('Lernen');
  const params = new URLSearchParams(location.search);
  const mode = params.get('modus') === 'ueben' ? 'ueben' : 'faellig';
  const topic = params.get('thema') || '';
  const heading = h('h1', { tabindex: '-1', text: mode === 'ueben' ? 'Üben' : 'Lernen' });
  // Both at once: the first question is one API round trip after the shell.
  const queued = loadQueue(mode, topic);
  queued.catch(() => {}); // handled below
  // The plan and whether the server has AI: AI checks and spoken answers.
  const me = await cached('me', '/me').then((r) => r.data).catch(() => ({}));
  const premium = me.plan === 'premium';
  const list = await topics();
  const change = (m, t) => {
    const q = new URLSearchParams();
    if (t) q.set('thema', t);
    if (m === 'ueben') q.set('modus', 'ueben');
    ctx.navigate(`/lernen${q.toString() ? `?${q}` : ''}`, { replace: true });
  };
  const select = h('select', { id: 'topic', onchange: (e) => change(mode, e.target.value) },
    h('option', { value: '', text: 'Alle Themen', selected: !topic }),
    list.map((t) => h('option', { value: t.value, text: t.label, selected: t.value === topic })));
  const modes = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Auswahl der Karten' },
    [['faellig', 'Fällig'], ['ueben', 'Üben']].map(([m, label]) => h('button', {
      type: 'button', 'aria-pressed': String(m === mode), text: label, onclick: () => change(m, topic),
    })));
  const controls = h('div', { class: 'study-controls' },
    h('div', { class: 'field inline' }, h('label', { for: 'topic', text: 'Thema' }), select), modes);
  const stage = h('div', { class: 'stage' }, loading('Karten werden geladen …'));
  mount(main, heading, controls, stage);

  let queue;
  try {
    queue = await queued;
  } catch (e) {
    mount(stage, note(describe(e), 'error'),
      h('button', { type: 'button', text: 'Erneut versuchen', onclick: () => studyView(main, _p, ctx) }));
    return undefined;
  }
  if (navigator.onLine) prefetch(figureKeys(queue.cards.map((c) => c.card)));

  const cards = queue.cards;
  const counts = { 1: 0, 2: 0, 3: 0, 4: 0 };
  let index = 0;
  let revealed = false;
  let busy = false;
  let current = null; // {article, reveal(), rate(n)}

  const offlineNote = queue.at
    ? note(`Offline: Sie lernen mit den gespeicherten Karten (Stand ${fmtDate(new Date(queue.at).toISOString(), true)}). `
      + 'Ihre Bewertungen werden übertragen, sobald Sie wieder online sind.', 'warn')
    : null;

  function summary() {
    current = null;
    const total = index;
    const empty = total === 0;
    mount(stage, offlineNote,
      h('section', { class: 'card summary', 'aria-labelledby': 'h-sum', tabindex: '-1' },
        h('h2', { id: 'h-sum', text: empty ? 'Nichts fällig' : 'Sitzung beendet' }),
        empty
          ? h('p', { text: mode === 'ueben' ? 'Keine Karten zum Üben gefunden.'
            : `Für ${topic ? topicLabel(list, topic) : 'heute'} ist nichts mehr fällig. Mit „Üben“ wiederholen Sie Karten vorzeitig.` })
          : h('p', { text: `${fmtNum(total)} ${total === 1 ? 'Karte' : 'Karten'} gelernt.` }),
        empty ? null : h('ul', { class: 'rating-summary' }, RATINGS.map((r) => h('li', { class: r.cls },
          h('span', { text: r.label }), h('strong', { text: fmtNum(counts[r.value]) })))),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'primary', text: empty && mode !== 'ueben' ? 'Üben' : 'Weiter lernen', onclick: () => (empty && mode !== 'ueben' ? change('ueben', topic) : studyView(main, _p, ctx)) }),
          h('a', { class: 'button', href: '/', text: 'Zur Übersicht' }))));
    stage.querySelector('.summary').focus();
    announce(empty ? 'Keine Karten fällig.' : `Sitzung beendet, ${total} Karten gelernt.`);
  }

  function show() {
    if (index >= cards.length) return summary();
    revealed = false;
    const { card } = cards[index];
    const sched = cards[index].scheduling_info;
    const answerBox = h('section', { class: 'answer', tabindex: '-1', 'aria-labelledby': 'h-answer', hidden: true },
      h('h3', { id: 'h-answer', text: 'Amtliche Antwort' }),
      h('p', { class: 'text', text: card.answer.text }),
      card.answer.images.map(figure),
      card.short_answer.length ? h('details', { class: 'keypoints' },
        h('summary', { text: 'Kernpunkte (nicht amtlich)' }),
        h('ul', null, card.short_answer.map((k) => h('li', { text: k })))) : null);
    const ratings = h('div', { class: 'ratings', role: 'group', 'aria-label': 'Wie gut wussten Sie die Antwort?', hidden: true },
      RATINGS.map((r) => h('button', {
        type: 'button', class: `rate ${r.cls}`, 'data-rating': String(r.value), 'aria-keyshortcuts': String(r.value),
        onclick: () => rate(r.value),
      }, h('span', { class: 'key', 'aria-hidden': 'true', text: String(r.value) }), r.label)));
    const revealBtn = h('button', {
      type: 'button', class: 'primary reveal', 'aria-keyshortcuts': 'Space Enter', onclick: () => reveal(),
    }, 'Antwort zeigen', h('span', { class: 'key-hint', 'aria-hidden': 'true', text: 'Leertaste' }));

    const answerInput = h('textarea', { id: 'own-answer', rows: '3', maxlength: '10000' });
    const verdict = h('div', { class: 'verdict', 'aria-live': 'polite' });
    // "Mit KI prüfen": absent without AI on the server; without premium it
    // says what premium adds.
    const aiCheck = me.ai_available ? h('button', {
      type: 'button',
      class: 'ai-check',
      text: 'Mit KI prüfen',
      onclick: async (e) => {
        if (!premium) {
          mount(verdict, h('div', { class: 'note note-warn' },
            h('p', { text: 'Mit Premium bewertet ein KI-Modell Ihre Antwort: was fehlt, wie viele Punkte sie bekäme und welche Bewertung passt. Dazu Spracheingabe und alle Prüfungsbögen.' }),
            h('a', { href: '/konto', text: 'Premium holen' })));
          return;
        }
        const text = answerInput.value.trim();
        if (!text) { mount(verdict, note('Bitte zuerst eine Antwort eingeben oder sprechen.', 'warn')); return; }
        e.target.disabled = true;
        mount(verdict, loading('Die KI prüft Ihre Antwort …'));
        try {
          showVerdict(await api('/study/evaluate-answer', { method: 'POST', body: { card_id: card.card_id, user_answer: text, mode: 'ai' } }));
        } catch (err) {
          mount(verdict, note(err.code === 'ai_quota_exceeded'
            ? 'Ihr KI-Kontingent für heute ist aufgebraucht. Morgen geht es wieder.' : describe(err), 'error'));
        } finally {
          e.target.disabled = false;
        }
      },
    }) : null;
    const check = h('details', { class: 'self-check' },
      h('summary', { text: 'Eigene Antwort prüfen (optional)' }),
      h('label', { for: 'own-answer', text: 'Ihre Antwort' }),
      answerInput,
      me.ai_available && premium ? micButton(answerInput) : null,
      aiCheck,
      h('button', {
        type: 'button',
        text: 'Antwort prüfen',
        onclick: async (e) => {
          const text = answerInput.value.trim();
          if (!text) { mount(verdict, note('Bitte zuerst eine Antwort eingeben.', 'warn')); return; }
          e.target.disabled = true;
          mount(verdict, loading('Wird geprüft …'));
          try {
            const r = await api('/study/evaluate-answer', { method: 'POST', body: { card_id: card.card_id, user_answer: text } });
            showVerdict(r);
          } catch (err) {
            mount(verdict, note(describe(err), 'error'));
          } finally {
            e.target.disabled = false;
          }
        },
      }),
      verdict);

    function showVerdict(r) {
      const suggested = RATINGS.find((x) => x.value === r.suggested_rating);
      mount(verdict, h('div', { class: `verdict-box v-${r.verdict}` },
        h('p', null, h('strong', { text: VERDICTS[r.verdict] || r.verdict }),
          ` · ${fmtNum(r.awarded_points, 1)} von ${fmtNum(r.max_points, 1)} Punkt`,
          r.grader === 'ai' ? h('span', { class: 'muted small', text: ` · geprüft von KI${r.model ? ` (${r.model})` : ''}` }) : null),
        r.grader === 'ai' && r.reasoning_summary ? h('p', { class: 'reasoning', text: r.reasoning_summary }) : null,
        r.fallback_reason ? h('p', { class: 'muted small', text: 'Die KI war nicht erreichbar; die automatische Prüfung hat bewertet.' }) : null,
        r.missing_points?.length ? h('div', null, h('p', { text: 'Es fehlt:' }),
          h('ul', null, r.missing_points.map((m) => h('li', { text: m })))) : null,
        suggested ? h('p', { text: `Vorschlag: „${suggested.label}“ (Taste ${suggested.value})` }) : null));
      for (const b of ratings.querySelectorAll('.rate')) b.classList.toggle('suggested', Number(b.dataset.rating) === r.suggested_rating);
      if (!revealed) reveal(false);
    }

    const article = h('article', { class: 'card study-card', tabindex: '-1', 'aria-labelledby': 'q-label' },
      h('div', { class: 'progress-line' },
        h('span', { text: `Karte ${index + 1} von ${cards.length}` }),
        h('progress', { max: String(cards.length), value: String(index), 'aria-hidden': 'true' })),
      h('h2', { class: 'meta', id: 'q-label' },
        `${topicLabel(list, card.tags[0])} · Frage ${cardNumber(card.card_id)}`,
        sched.state === 'NEW' ? h('span', { class: 'badge', text: 'neu' }) : null),
      h('p', { class: 'q-text text', text: card.front.text }),
      card.front.images.map(figure),
      navigator.onLine ? check : h('p', { class: 'muted small', text: 'Antworten prüfen geht nur online.' }),
      revealBtn, answerBox, ratings);

    function reveal(moveFocus = true) {
      if (revealed) return;
      revealed = true;
      revealBtn.hidden = true;
      answerBox.hidden = false;
      ratings.hidden = false;
      if (moveFocus) answerBox.focus();
      announce('Antwort angezeigt. Bewerten mit 1 bis 4.');
    }

    async function rate(value) {
      if (!revealed || busy) return;
      busy = true;
      try {
        await recordReview(card.card_id, value);
        dropFromCopies(card.card_id).catch(() => {});
        counts[value] += 1;
        index += 1;
        show();
      } catch (e) {
        mount(verdict, note(describe(e), 'error'));
      } finally {
        busy = false;
      }
    }

    current = { reveal, rate };
    mount(stage, offlineNote, article);
    article.focus();
    return undefined;
  }

  function onKey(e) {
    if (!current || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.target.closest('input, textarea, select')) return;
    if (e.key === ' ' || e.key === 'Enter') {
      if (revealed || e.target.closest('a, button, summary')) return;
      e.preventDefault();
      current.reveal();
    } else if (revealed && ['1', '2', '3', '4'].includes(e.key)) {
      e.preventDefault();
      current.rate(Number(e.key));
    }
  }
  document.addEventListener('keydown', onKey);
  show();
  return () => document.removeEventListener('keydown', onKey);
}
