// The EasySKS API (docs/api.md): JSON in and out, the bearer token from
// auth.js, errors as ApiError with the API's stable code and request id.
// Offline, no request is attempted at all (status 0, code "offline").

import { cfg } from './config.js';
import { accessToken, currentSub, refresh } from './auth.js';

const OFFLINE = 'Keine Verbindung. Bitte versuchen Sie es wieder, sobald Sie online sind.';
const MESSAGES = {
  offline: OFFLINE,
  session_expired: 'Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.',
  premium_required: 'Diese Funktion gehört zu Premium.',
  billing_unconfigured: 'Die Bezahlung ist in dieser Umgebung nicht eingerichtet.',
  rate_limited: 'Zu viele Anfragen. Bitte warten Sie einen Moment.',
  upstream_unavailable: 'Der Dienst ist gerade nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.',
  invalid_timezone: 'Diese Zeitzone kennt der Server nicht.',
  invalid_new_cards_per_day: 'Neue Karten pro Tag: bitte eine Zahl von 0 bis 1000.',
  invalid_exam_date: 'Bitte geben Sie ein gültiges Prüfungsdatum an.',
  answer_too_long: 'Die Antwort ist zu lang (höchstens 10 000 Zeichen).',
  card_not_found: 'Diese Karte gibt es nicht mehr.',
  deadline_passed: 'Die Zeit ist abgelaufen; Antworten werden nicht mehr angenommen.',
  session_not_editable: 'Diese Prüfung ist bereits abgegeben oder abgebrochen.',
  session_not_submittable: 'Diese Prüfung ist abgelaufen und kann nicht mehr abgegeben werden.',
  session_not_in_progress: 'Diese Prüfung läuft nicht mehr.',
  result_not_available: 'Das Ergebnis liegt noch nicht vor.',
  session_not_found: 'Diese Prüfung gibt es nicht (mehr).',
};
const BY_STATUS = {
  400: 'Die Anfrage war ungültig.',
  403: 'Dafür fehlt die Berechtigung.',
  404: 'Nicht gefunden.',
  409: 'Das ist in diesem Zustand nicht möglich.',
  413: 'Die Eingabe ist zu groß.',
  422: 'Bitte prüfen Sie Ihre Eingaben.',
  429: MESSAGES.rate_limited,
};

export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId || null;
  }
}

function failure(status, data) {
  const code = data?.code || `http_${status}`;
  const text = MESSAGES[code] || BY_STATUS[status]
    || (status >= 500 ? 'Ein Fehler auf dem Server. Bitte versuchen Sie es später erneut.' : 'Das hat nicht geklappt.');
  return new ApiError(status, code, text, data?.request_id);
}

export const isOffline = (e) => e instanceof ApiError && e.status === 0;

// The server's clock, from the Date header of its answers: offline reviews
// carry their time, and the server refuses times too far in the future.
// Only an offset beyond 30 s is used (the header has whole seconds).
let skew = Number(localStorage.getItem('easysks.skew')) || 0;
function noteClock(res) {
  const d = Date.parse(res.headers.get('Date') || '');
  if (Number.isNaN(d)) return;
  const s = d - Date.now();
  skew = Math.abs(s) > 30000 ? s : 0;
  localStorage.setItem('easysks.skew', String(skew));
}
export const serverNow = () => Date.now() + skew;

// `asSub`: send only as this learner (queued reviews): if someone else has
// signed in meanwhile, the request is not sent with their token.
export async function api(path, { method = 'GET', body, headers: extra, asSub } = {}) {
  if (!navigator.onLine) throw new ApiError(0, 'offline', OFFLINE);
  for (let attempt = 0; ; attempt++) {
    const token = await accessToken();
    if (!token || (asSub && currentSub() !== asSub)) {
      throw new ApiError(401, 'session_expired', MESSAGES.session_expired);
    }
    const headers = { ...extra, Authorization: `Bearer ${token}` };
    // FormData (a recording) goes as multipart with the browser's boundary.
    const form = typeof FormData !== 'undefined' && body instanceof FormData;
    if (body !== undefined && !form) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(cfg().apiBase + path, {
        method,
        headers,
        body: body === undefined || form ? body : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'offline', OFFLINE);
    }
    // A token the server refuses although it looked valid here (clock
    // skew, a rotated key): renew once and retry.
    if (res.status === 401 && attempt === 0) {
      if (await refresh()) continue;
      throw new ApiError(401, 'session_expired', MESSAGES.session_expired);
    }
    noteClock(res);
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) throw failure(res.status, data);
    return data;
  }
}

// A message for the user, with the request id for support where there is one.
export function describe(e) {
  if (e instanceof ApiError) return e.requestId ? `${e.message} (Fehler-ID ${e.requestId.slice(0, 8)})` : e.message;
  return e?.message || 'Unbekannter Fehler.';
}
