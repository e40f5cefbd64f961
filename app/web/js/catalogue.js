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
