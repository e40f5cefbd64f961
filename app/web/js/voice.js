// Spoken answers (premium, server AI): a microphone button that records
// with MediaRecorder, sends the recording to /api/ai/transcribe-audio and
// puts the text into an answer field for correction. Each way it can fail
// (microphone refused, none there, offline, quota, nothing understood) gets
// its own German message.

import { api, ApiError, describe } from './api.js';
import { h, mount, note } from './dom.js';

const MAX_SECONDS = 60;
// Formats the API accepts (WebM, Ogg, MP4 audio), in the order browsers prefer.
const TYPES = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus', 'audio/mp4'];

export const MIC_MESSAGES = {
  denied: 'Der Zugriff auf das Mikrofon wurde nicht erlaubt. Sie können ihn in den Einstellungen Ihres Browsers für diese Seite freigeben.',
  nomic: 'Es wurde kein Mikrofon gefunden. Bitte schließen Sie eines an oder tippen Sie Ihre Antwort.',
  unsupported: 'Dieser Browser kann keine Sprachaufnahme. Bitte tippen Sie Ihre Antwort.',
  offline: 'Sie sind offline. Die Spracheingabe braucht eine Verbindung; Ihre Aufnahme wurde nicht gesendet.',
  quota: 'Ihr KI-Kontingent für heute ist aufgebraucht. Morgen geht es wieder; bis dahin bitte tippen.',
  rate: 'Zu viele Anfragen in kurzer Zeit. Bitte warten Sie einen Moment und versuchen Sie es erneut.',
  empty: 'Es wurde nichts verstanden. Bitte sprechen Sie etwas lauter und deutlicher.',
  premium: 'Spracheingabe gehört zu Premium.',
};

function failure(e) {
  if (e instanceof ApiError) {
    if (e.status === 0) return MIC_MESSAGES.offline;
    if (e.code === 'ai_quota_exceeded') return MIC_MESSAGES.quota;
    if (e.code === 'ai_rate_limited' || e.code === 'ai_busy') return MIC_MESSAGES.rate;
    if (e.code === 'transcript_empty') return MIC_MESSAGES.empty;
    if (e.code === 'premium_required') return MIC_MESSAGES.premium;
  }
  return `Die Spracheingabe ist fehlgeschlagen: ${describe(e)}`;
}

// A button and its status line; the text goes into `field` (appended).
export function micButton(field, label = 'Antwort sprechen') {
  const status = h('div', { class: 'mic-status', 'aria-live': 'polite' });
  let recorder = null;
  let stopTimer = null;
  const button = h('button', {
    type: 'button', class: 'mic', 'aria-pressed': 'false', 'aria-label': label, text: '● Sprechen',
  });
  const idle = () => {
    button.setAttribute('aria-pressed', 'false');
    button.textContent = '● Sprechen';
    button.disabled = false;
  };

  async function transcribe(blob) {
    button.disabled = true;
    mount(status, note('Wird in Text umgewandelt …'));
    try {
      if (!navigator.onLine) throw new ApiError(0, 'offline', MIC_MESSAGES.offline);
      const form = new FormData();
      form.append('audio', blob, blob.type.includes('ogg') ? 'antwort.ogg' : blob.type.includes('mp4') ? 'antwort.m4a' : 'antwort.webm');
      form.append('language', 'de');
      const r = await api('/ai/transcribe-audio', { method: 'POST', body: form });
      field.value = field.value.trim() ? `${field.value.trim()} ${r.transcript}` : r.transcript;
      field.dispatchEvent(new Event('input', { bubbles: true }));
      field.focus();
      mount(status, note('Text eingefügt. Bitte prüfen und bei Bedarf korrigieren.'));
    } catch (e) {
      mount(status, note(failure(e), 'error'));
    } finally {
      idle();
    }
  }

  async function start() {
    if (!navigator.onLine) { mount(status, note(MIC_MESSAGES.offline, 'error')); return; }
    if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === 'undefined') {
      mount(status, note(MIC_MESSAGES.unsupported, 'error'));
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      const name = e?.name || '';
      mount(status, note(name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'NotReadableError'
        ? MIC_MESSAGES.nomic : MIC_MESSAGES.denied, 'error'));
      return;
    }
    const mimeType = TYPES.find((t) => MediaRecorder.isTypeSupported?.(t));
    const chunks = [];
    recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
    recorder.addEventListener('dataavailable', (ev) => { if (ev.data.size) chunks.push(ev.data); });
    recorder.addEventListener('stop', () => {
      clearTimeout(stopTimer);
      for (const t of stream.getTracks()) t.stop();
      recorder = null;
      transcribe(new Blob(chunks, { type: mimeType || chunks[0]?.type || 'audio/webm' }));
    });
    recorder.start();
    button.setAttribute('aria-pressed', 'true');
    button.textContent = '■ Aufnahme beenden';
    mount(status, note(`Aufnahme läuft … (höchstens ${MAX_SECONDS} Sekunden)`));
    stopTimer = setTimeout(() => recorder?.stop(), MAX_SECONDS * 1000);
  }

  button.addEventListener('click', () => (recorder ? recorder.stop() : start()));
  return h('div', { class: 'mic-row' }, button, status);
}
