// EasySKS service worker: the app shell offline.
//
// The shell (this list) is cached at install. Every same-origin GET outside
// /api/, /media/ and /cognito/ is answered network first (with a time limit,
// for a weak signal at sea) and the answer is kept, so a client is never
// older than what nginx serves when it is online and works from the cache
// when it is not; navigations fall back to the cached index.html. API data
// and figures are cached by the app itself (IndexedDB, Cache API), tokens
// never pass through here. /config.json is cached too, but outside the
// list: a host without it must not break the install. The list is checked
// against app/web by the tests.
const SHELL_CACHE = 'easysks-shell-v1';
const SHELL = [
  '/',
  '/index.html',
  '/app.js',
  '/style.css',
  '/manifest.json',
  '/js/api.js',
  '/js/auth.js',
  '/js/catalogue.js',
  '/js/config.js',
  '/js/db.js',
  '/js/dom.js',
  '/js/media.js',
  '/js/sync.js',
  '/js/voice.js',
  '/js/views/account.js',
  '/js/views/dashboard.js',
  '/js/views/exams.js',
  '/js/views/plan.js',
  '/js/views/study.js',
  '/icons/icon.svg',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/maskable-512.png',
];
const TIMEOUT_MS = 4000;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    await cache.addAll(SHELL.map((u) => new Request(u, { cache: 'no-cache' })));
    await cache.add(new Request('/config.json', { cache: 'no-cache' })).catch(() => {});
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('easysks-shell') && key !== SHELL_CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

async function networkFirst(request, key) {
  const cache = await caches.open(SHELL_CACHE);
  const network = fetch(request).then((res) => {
    // A navigation to /health or /manifest.json must not become the app's
    // offline page: only HTML is kept under /index.html.
    const html = (res.headers.get('Content-Type') || '').startsWith('text/html');
    if (res.ok && (key !== '/index.html' || html)) cache.put(key, res.clone());
    return res;
  });
  network.catch(() => {}); // a late failure after the cache answered
  try {
    return await Promise.race([
      network,
      new Promise((_, reject) => { setTimeout(() => reject(new Error('timeout')), TIMEOUT_MS); }),
    ]);
  } catch (e) {
    const hit = await cache.match(key);
    if (hit) return hit;
    return network; // nothing cached: wait for the network after all
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (/^\/(api|media|cognito)\//.test(url.pathname)) return;
  if (request.mode === 'navigate') {
    event.respondWith(networkFirst(request, '/index.html'));
  } else {
    event.respondWith(networkFirst(request, url.pathname));
  }
});
