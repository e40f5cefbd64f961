// Cached reads of the learner's data: each online answer is stored in
// IndexedDB (under the learner's sub), and offline the stored copy answers
// with the time it was fetched.

import { api, isOffline } from './api.js';
import { currentSub } from './auth.js';
import { kvGet, kvSet } from './db.js';

// The five topics of the SKS catalogue (fixed by the API contract); the
// API's labels replace these once fetched.
export const TOPICS = [
  { value: 'navigation', label: 'Navigation' },
  { value: 'schifffahrtsrecht', label: 'Schifffahrtsrecht' },
  { value: 'wetterkunde', label: 'Wetterkunde' },
  { value: 'seemannschaft_i', label: 'Seemannschaft I' },
  { value: 'seemannschaft_ii', label: 'Seemannschaft II' },
];

// {data, at}: at is null for a fresh answer, else when the copy was made.
export async function cached(key, path) {
  const k = `${currentSub()}:${key}`;
  try {
    const data = await api(path);
    await kvSet(k, { data, at: Date.now() });
    return { data, at: null };
  } catch (e) {
    const copy = await kvGet(k);
    if (copy && (isOffline(e) || e.status >= 500)) return copy;
    throw e;
  }
}

export async function topics() {
  try {
    return (await cached('topics', '/topics')).data;
  } catch {
    return TOPICS;
  }
}

export const topicLabel = (list, value) => (list.find((t) => t.value === value) || { label: value }).label;

// The learner's licence variant ("sail" or "motor"): the other variant's
// seamanship topic is never studied, so the client hides it.
const OTHER = { sail: 'seemannschaft_ii', motor: 'seemannschaft_i' };
export const variantTopics = (list, variant) => list.filter((t) => t.value !== OTHER[variant || 'sail']);

// The variant chosen on the sign-up screen, saved with the first signed-in
// request (there is no token before the e-mail is confirmed).
const PENDING_VARIANT = 'easysks.variant';
export const rememberVariant = (v) => localStorage.setItem(PENDING_VARIANT, v);
export async function applyPendingVariant() {
  const v = localStorage.getItem(PENDING_VARIANT);
  if (v !== 'sail' && v !== 'motor') return;
  await api('/settings', { method: 'PUT', body: { variant: v } });
  localStorage.removeItem(PENDING_VARIANT);
}

// The variant from the settings (stored copy offline), "sail" if unknown.
export async function variant() {
  try {
    return (await cached('settings', '/settings')).data.variant || 'sail';
  } catch {
    return 'sail';
  }
}
