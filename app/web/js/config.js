// Runtime configuration: /config.json, rendered per environment at deploy
// time (deploy/render-web-config.sh). index.html preloads it, so it arrives
// together with the scripts. A host that does not render it yet still works
// through /api/client-config (same values, one request later); offline, the
// service worker or the last copy in localStorage answers.

const KEY = 'easysks.config';
let config = null;

function normalise(raw) {
  const auth = raw.auth || {};
  return {
    env: raw.env || 'prod',
    apiBase: (raw.api_base || '/api').replace(/\/$/, ''),
    endpoint: auth.endpoint || null,
    clientId: auth.client_id || null,
    legal: raw.legal || null, // the Impressum's and Datenschutz's details (views/legal.js)
  };
}

async function fetchJson(url) {
  const res = await fetch(url);
  if (!res.ok) return null;
  return res.json();
}

export async function loadConfig() {
  let raw = null;
  try {
    raw = (await fetchJson('/config.json')) || (await fetchJson('/api/client-config'));
  } catch {
    raw = null; // offline and nothing cached by the service worker
  }
  if (raw) {
    localStorage.setItem(KEY, JSON.stringify(raw));
  } else {
    const saved = localStorage.getItem(KEY);
    if (saved) raw = JSON.parse(saved);
  }
  if (!raw) throw new Error('Konfiguration nicht erreichbar. Bitte prüfen Sie die Verbindung.');
  config = normalise(raw);
  return config;
}

export const cfg = () => config;
