// Issue 20 in the browser: the free sheet for a free learner and the premium
// offer on sheet 2; a premium learner answering a card by voice (Chromium's
// fake microphone plays a WAV file) and checking it with AI (the OpenAI
// stand-in); chart sheet 1 with one answer per sub-question, the allowed
// materials before it starts, and the self-assessment walk-through that
// turns a provisional fail into a pass.
import { axe, until } from './lib.mjs';

async function apiGet(page, path) {
  return page.evaluate(async (p) => {
    const s = JSON.parse(localStorage.getItem('easysks.session'));
    const res = await fetch(`/api${p}`, { headers: { Authorization: `Bearer ${s.access}` } });
    return res.json();
  }, path);
}

// A 2-second WAV (16 kHz mono): a vowel-like tone that changes pitch, for
// Chromium's --use-file-for-fake-audio-capture.
export function speechLikeWav() {
  const rate = 16000;
  const n = rate * 2;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const f = 140 + 40 * Math.sin(2 * Math.PI * 1.5 * t);
    const v = 0.4 * Math.sin(2 * Math.PI * f * t) + 0.2 * Math.sin(2 * Math.PI * 2 * f * t);
    buf.writeInt16LE(Math.round(v * 32767 * (0.5 + 0.5 * Math.abs(Math.sin(Math.PI * 3 * t)))), 44 + i * 2);
  }
  return buf;
}

// A free learner: sheet 1 taken and handed in, sheet 2 offers premium.
export async function freeSheetFlow(page, rec) {
  await page.locator('#tabs a', { hasText: 'Prüfung' }).click();
  await page.getByRole('button', { name: 'Fragebogen 1 starten (kostenlos)' }).click();
  await page.getByRole('button', { name: 'Jetzt starten' }).click();
  await page.locator('.exam-bar .timer').waitFor();
  await page.locator('#a-0').fill('Seekarten berichtigen, Wetterbericht einholen');
  await page.locator('#a-1').focus();
  await page.locator('.save-state.ok').first().waitFor();
  await rec.shot(page, 'frei-bogen-1');
  await page.locator('.submit-area > button.primary').click();
  await page.locator('.confirm').getByRole('button', { name: 'Abgeben' }).click();
  await page.locator('.outcome h2').waitFor();
  await rec.shot(page, 'frei-bogen-1-ergebnis');
  await page.locator('#tabs a', { hasText: 'Prüfung' }).click();
  await page.getByRole('button', { name: 'Fragebogen 2 starten' }).click();
  await page.locator('.start-out .offer', { hasText: 'Premium schaltet frei' }).waitFor();
  await page.locator('.start-out .offer li', { hasText: 'KI' }).first().waitFor();
  await page.locator('.start-out .offer').scrollIntoViewIfNeeded();
  await rec.shot(page, 'frei-bogen-2-premium');
  await axe(page, rec, 'free learner offered premium');
  return 'sheet 1 taken, sheet 2 offers premium';
}

// A premium learner: an answer spoken into the fake microphone, transcribed
// by the stand-in, corrected, and checked by the AI.
export async function voiceFlow(page, rec, stub, exhaustQuota) {
  await page.context().grantPermissions(['microphone']);
  // Practice: cards whether or not any are due.
  await page.goto(`${new URL(page.url()).origin}/lernen?modus=ueben`);
  await page.locator('.study-card').waitFor();
  await page.locator('.self-check > summary').click();
  await page.getByRole('button', { name: 'Antwort sprechen' }).click();
  await page.locator('.mic[aria-pressed="true"]').waitFor();
  await rec.shot(page, 'sprechen-aufnahme');
  await page.waitForTimeout(1500);
  await page.getByRole('button', { name: 'Antwort sprechen' }).click();
  await until(async () => (await page.locator('#own-answer').inputValue()).trim().length > 0, 'the transcript in the answer field');
  const transcript = await page.locator('#own-answer').inputValue();
  await page.locator('.mic-status', { hasText: 'Text eingefügt' }).waitFor();
  await rec.shot(page, 'sprechen-text');
  const sent = await (await fetch(`${stub}/_requests?endpoint=transcription`)).json();
  const last = sent[sent.length - 1]?.transcription;
  if (!last || !(last.size > 500) || !/webm|ogg|mp4/.test(last.content_type || last.filename || '')) {
    throw new Error(`the recording did not reach the transcription service: ${JSON.stringify(last)}`);
  }
  // Each way it can fail has its own message: offline, the daily quota (the
  // learner's usage raised in the database), and, with getUserMedia made to
  // fail as browsers do, a refused permission and no microphone.
  const micError = async (text) => {
    const message = page.locator('.mic-status .note', { hasText: text });
    await page.getByRole('button', { name: 'Antwort sprechen' }).click();
    // Refused before recording, or recorded and refused on sending.
    await until(async () => (await message.count()) || (await page.locator('.mic[aria-pressed="true"]').count()), 'the microphone');
    if (!(await message.count())) {
      await page.waitForTimeout(300);
      await page.getByRole('button', { name: 'Antwort sprechen' }).click();
    }
    await message.waitFor();
  };
  await page.context().setOffline(true);
  await micError('Sie sind offline');
  await page.context().setOffline(false);
  await until(() => page.evaluate(() => navigator.onLine), 'online again');
  exhaustQuota(true);
  await micError('KI-Kontingent für heute ist aufgebraucht');
  await rec.shot(page, 'sprechen-kontingent');
  exhaustQuota(false);
  await page.evaluate(() => {
    window.realGetUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
  });
  await micError('Zugriff auf das Mikrofon wurde nicht erlaubt');
  await page.evaluate(() => {
    navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('none', 'NotFoundError'));
  });
  await micError('kein Mikrofon gefunden');
  await page.evaluate(() => { navigator.mediaDevices.getUserMedia = window.realGetUserMedia; });
  await page.locator('#own-answer').fill(`${transcript} Korrigiert.`);
  await page.getByRole('button', { name: 'Mit KI prüfen' }).click();
  await page.locator('.verdict-box', { hasText: 'geprüft von KI' }).waitFor();
  await page.locator('.verdict-box').evaluate((el) => el.scrollIntoView({ block: 'center' }));
  await rec.shot(page, 'mit-ki-geprueft');
  await axe(page, rec, 'study with voice and AI');
  return `transcribed "${transcript.slice(0, 40)}" (${last.size} bytes ${last.content_type}), checked by AI`;
}

// What the learner writes, per task and sub-question (chart sheet 1): the
// grader gives 12 of 30 points (t_exam_results.sh has the same answers).
const CHART_ANSWERS = {
  1: ['HWZ 08:53 BZ, HWH 3,2 m', 'FD 6:38 h, TF 2,5m'],
  2: ['StR 150°, StG 2,3 kn'],
  5: ['KaK = 287°', 'd = 9.5 sm'],
  7: ['StR 102°, StG 1,5 kn'],
  8: ['StR 322°, StG 0,5 kn'],
  11: ['KaK 061°', 'MgK 52 Grad'],
  13: ["Ob 10:45 BZ: 54° 04,2' N, 008° 20,3' O"],
  14: ['Stromdreieck gezeichnet', 'MgK 084°, BS = −7°', 'FüG 6,7 kn'],
};

export async function chartSelfAssessmentFlow(page, rec) {
  await page.locator('#tabs a', { hasText: 'Prüfung' }).click();
  await page.getByRole('button', { name: 'Kartenaufgabe 1 starten' }).click();
  await page.locator('.confirm .materials li', { hasText: 'Übungskarte 49 (INT 1463)' }).waitFor();
  await page.locator('.confirm').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await rec.shot(page, 'kartenaufgabe-hilfsmittel');
  await page.getByRole('button', { name: 'Jetzt starten' }).click();
  await page.locator('#a-0-1').waitFor();
  for (const [task, subs] of Object.entries(CHART_ANSWERS)) {
    for (const [j, text] of subs.entries()) await page.locator(`#a-${task - 1}-${j}`).fill(text);
  }
  await page.locator('#a-0-0').focus();
  await until(async () => (await page.locator('.save-line').textContent()) === 'Alles gespeichert'
    && (await page.locator('.save-state.ok').count()) === Object.keys(CHART_ANSWERS).length, 'every task saved');
  const sid = page.url().split('/').pop();
  const saved = await apiGet(page, `/navigation-sessions/${sid}`);
  const t14 = saved.questions.find((q) => q.task_id === 'nav_1_14');
  if (JSON.stringify(t14.sub_answers) !== JSON.stringify(CHART_ANSWERS[14])) throw new Error(`sub answers: ${JSON.stringify(t14.sub_answers)}`);
  await page.locator('#q-14').scrollIntoViewIfNeeded();
  await rec.shot(page, 'kartenaufgabe-teilantworten');
  await axe(page, rec, 'chart task by sub-question');

  await page.locator('.submit-area > button.primary').click();
  await page.locator('.confirm').getByRole('button', { name: 'Abgeben' }).click();
  await page.locator('.outcome h2').waitFor();
  const before = await page.locator('.outcome h2').textContent();
  const total0 = await page.locator('.outcome .big').textContent();
  if (before !== 'Nicht bestanden (vorläufig)' || total0 !== '12') throw new Error(`before: ${before}, ${total0}`);
  await page.locator('#selbst').waitFor();
  await rec.shot(page, 'kartenaufgabe-vorlaeufig');
  await axe(page, rec, 'provisional result with the walk-through');
  // Through every open sub-question: the official solution beside the
  // answer, full points each time.
  // One read of the walk-through's heading (null once it is gone): the
  // section is replaced after every answer.
  const walkHead = () => page.evaluate(() => document.querySelector('#h-walk')?.textContent ?? null);
  let steps = 0;
  for (let head = await walkHead(); head !== null; head = await walkHead()) {
    if (steps === 0) {
      await page.locator('#selbst .compare').waitFor();
      await page.locator('#selbst').scrollIntoViewIfNeeded();
      await rec.shot(page, 'selbst-bewerten');
    }
    await page.locator('#selbst .assess .pts-btn').last().click();
    await until(async () => (await walkHead()) !== head, 'the next open sub-question');
    steps += 1;
    if (steps > 20) throw new Error('the walk-through does not end');
  }
  const after = await page.locator('.outcome h2').textContent();
  const total1 = await page.locator('.outcome .big').textContent();
  if (after !== 'Bestanden') throw new Error(`after ${steps} assessments: ${after}, ${total1}`);
  const r = await apiGet(page, `/navigation-sessions/${sid}/result`);
  if (r.provisional || !r.self_assessed || String(r.total_score).replace('.', ',') !== total1) {
    throw new Error(`result: ${JSON.stringify({ p: r.provisional, s: r.self_assessed, t: r.total_score })}`);
  }
  await page.locator('.outcome').scrollIntoViewIfNeeded();
  await rec.shot(page, 'selbst-bewertet-bestanden');
  await page.locator('#tabs a', { hasText: 'Prüfung' }).click();
  await page.locator('.history li', { hasText: 'selbst bewertet' }).first().waitFor();
  return `chart sheet 1: ${total0} points provisional, ${steps} sub-questions self-assessed, ${total1} points: ${after}`;
}

// The AI switch in settings (premium, server AI): on, saved, and the API says so.
export async function aiSwitchFlow(page, rec) {
  await page.locator('#tabs a', { hasText: 'Konto' }).click();
  const sw = page.getByRole('switch', { name: 'Prüfungen mit KI bewerten' });
  await sw.waitFor();
  if (await sw.isChecked()) throw new Error('AI grading on before the learner chose it');
  await sw.check();
  await page.locator('#h-settings').locator('..').getByRole('button', { name: 'Speichern' }).click();
  await page.locator('.form-status', { hasText: 'Gespeichert' }).waitFor();
  const s = await apiGet(page, '/settings');
  if (s.ai_enabled !== true) throw new Error(`ai_enabled ${s.ai_enabled}`);
  await sw.scrollIntoViewIfNeeded();
  await rec.shot(page, 'einstellung-ki');
  await axe(page, rec, 'settings with the AI switch');
  return 'the AI switch saved ai_enabled';
}

// With the AI switch on: a sheet handed in is graded by the model in the
// background (the stand-in answers slowly); the result shows the progress,
// updates by itself, and then names the grader and its reasoning.
export async function aiGradedSheetFlow(page, rec, stub) {
  await fetch(`${stub}/_mode?mode=slow&delay_ms=1200&for=chat`);
  try {
    await page.locator('#tabs a', { hasText: 'Prüfung' }).click();
    await page.getByRole('button', { name: 'Fragebogen 2 starten' }).click();
    await page.getByRole('button', { name: 'Jetzt starten' }).click();
    await page.locator('#a-0').fill('Antwort 1 ist richtig');
    await page.locator('#a-1').fill('Antwort 2');
    await page.locator('#a-2').focus();
    // The third answer spoken: into its field, then saved like a typed one.
    const mic = page.getByRole('button', { name: 'Antwort zu Frage 3 sprechen' });
    await mic.click();
    await page.locator('#q-3 .mic[aria-pressed="true"]').waitFor();
    await page.waitForTimeout(1000);
    await mic.click();
    await until(async () => (await page.locator('#a-2').inputValue()).startsWith('Antwort aus'), 'the spoken third answer');
    await until(async () => (await page.locator('.save-state.ok').count()) === 3, 'three answers saved');
    await page.locator('#q-3').scrollIntoViewIfNeeded();
    await rec.shot(page, 'pruefung-gesprochen');
    await page.locator('.submit-area > button.primary').click();
    await page.locator('.confirm').getByRole('button', { name: 'Abgeben' }).click();
    await page.locator('.ai-progress', { hasText: 'KI-Bewertung läuft' }).waitFor();
    await rec.shot(page, 'ki-bewertung-laeuft');
    await page.locator('.ai-progress').waitFor({ state: 'detached', timeout: 30000 });
    const first = page.locator('.results > li').first();
    await first.locator(':scope > details > summary').click();
    await first.locator('.grader', { hasText: 'Bewertet von KI' }).waitFor();
    await first.locator('.feedback', { hasText: 'Begründung' }).waitFor();
    await first.locator('.grader').scrollIntoViewIfNeeded();
    await rec.shot(page, 'ki-bewertet');
    await axe(page, rec, 'AI-graded result');
    return `graded by AI in the background: "${(await first.locator('.feedback').textContent()).slice(0, 60)}"`;
  } finally {
    await fetch(`${stub}/_reset`);
  }
}
