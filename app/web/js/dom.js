// DOM helpers. Text from the API only ever reaches the page as textContent
// (never innerHTML), and no style attributes are written (the CSP forbids
// inline styles; CSSOM properties are allowed and used for bar widths).

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

const SVG = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) if (c) el.append(c);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

// Replace a container's content.
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const live = () => document.getElementById('live');
// Screen-reader announcement (polite live region).
export function announce(text) {
  const el = live();
  el.textContent = '';
  setTimeout(() => { el.textContent = text; }, 30);
}

const nf = (opts) => new Intl.NumberFormat('de-DE', opts);
export const fmtNum = (n, digits = 0) => nf({ maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(n);
export const fmtPct = (p) => nf({ style: 'percent', maximumFractionDigits: 0 }).format(p);
export function fmtDate(iso, withTime = false) {
  if (!iso) return '';
  const d = new Date(iso.length === 10 ? `${iso}T12:00:00` : iso);
  return d.toLocaleString('de-DE', withTime
    ? { day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit' }
    : { day: '2-digit', month: '2-digit', year: 'numeric' });
}

// A status message with role=alert for errors, role=status otherwise.
export function note(text, kind = 'info') {
  return h('p', { class: `note note-${kind}`, role: kind === 'error' ? 'alert' : 'status', text });
}

export function loading(text = 'Lädt …') {
  return h('p', { class: 'loading', role: 'status', 'aria-live': 'polite', text });
}

// A button that shows a busy state while its async action runs.
export function actionButton(label, action, attrs = {}) {
  const b = h('button', { type: 'button', ...attrs, text: label });
  b.addEventListener('click', async () => {
    if (b.disabled) return;
    b.disabled = true;
    b.setAttribute('aria-busy', 'true');
    try { await action(b); } finally {
      b.disabled = false;
      b.removeAttribute('aria-busy');
    }
  });
  return b;
}
