// Catalogue figures: /media/… needs the bearer token, so they are fetched
// here and shown from blob: URLs. Each figure is kept in the Cache API
// (they never change) so the cached queue can be studied offline; sign-out
// deletes the cache.

import { accessToken } from './auth.js';
import { h } from './dom.js';

const CACHE = 'easysks-media';
const urls = new Set();

async function response(key) {
  if (!key.startsWith('/media/')) return null; // the token goes nowhere else
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key);
  if (hit) return hit;
  if (!navigator.onLine) return null;
  const token = await accessToken();
  let res;
  try {
    res = await fetch(key, { headers: { Authorization: `Bearer ${token}` } });
  } catch {
    return null;
  }
  if (!res.ok) return null;
  await cache.put(key, res.clone());
  return res;
}

// Warm the cache for the figures of a queue, a few at a time.
export async function prefetch(keys) {
  const todo = [...new Set(keys)];
  const worker = async () => {
    while (todo.length && navigator.onLine) await response(todo.shift()).catch(() => null);
  };
  await Promise.all([worker(), worker(), worker()]);
}

export function figure(image) {
  const img = h('img', { alt: image.alt_text || 'Abbildung zur Frage', class: 'pending', decoding: 'async' });
  const fig = h('figure', { class: 'figure' }, img);
  response(image.storage_key).then(async (res) => {
    if (!res) {
      fig.replaceChildren(h('p', { class: 'muted small', text: 'Abbildung offline nicht verfügbar.' }));
      return;
    }
    const url = URL.createObjectURL(await res.blob());
    urls.add(url);
    img.addEventListener('load', () => {
      // Some figures are tiny (a sound signal is 44x11): enlarge them crisply.
      if (img.naturalWidth < 150) {
        img.style.width = `${img.naturalWidth * 3}px`;
        img.classList.add('tiny');
      }
    }, { once: true });
    img.src = url;
    img.classList.remove('pending');
  }).catch(() => {});
  return fig;
}

export const figureKeys = (cards) => cards.flatMap((c) => [...c.front.images, ...c.answer.images])
  .map((i) => i.storage_key);

// Called when a screen is left.
export function releaseFigures() {
  for (const u of urls) URL.revokeObjectURL(u);
  urls.clear();
}

export const clearMedia = () => caches.delete(CACHE);
