// The premium exam flow in the browser: sheet list, start, countdown,
// answers saved as you type, an answer typed offline kept on the device and
// sent when the connection returns, submit, the result with the three-way
// outcome and the official answer on demand.
//
// Against the real exam API when the build has it. A build without it
// (GET /api/exams answers 404) gets the same flow against a stand-in of the
// reference contract (ExamTemplateOut, ExamSessionOut, SaveAnswerOut,
// ExamResultOut), so the screens stay tested until the API lands.
import { axe, stackRequest, until } from './lib.mjs';

// Asked from here, not from the page: a 404 there is a console error.
async function apiStatus(page, { base, cert }, path) {
  const { access } = await page.evaluate(() => JSON.parse(localStorage.getItem('easysks.session')));
  return (await stackRequest(cert, `${base}/api${path}`, { headers: { Authorization: `Bearer ${access}` } })).status;
}

async function apiGet(page, path) {
  return page.evaluate(async (p) => {
    const s = JSON.parse(localStorage.getItem('easysks.session'));
    const res = await fetch(`/api${p}`, { headers: { Authorization: `Bearer ${s.access}` } });
    return res.json();
  }, path);
}

// A stand-in for the exam endpoints of the reference contract.
async function standIn(context) {
  const sid = '6f1c1f0e-3b1a-4c55-9a55-4b5a1f0b2c11';
  const started = new Date();
  const cards = Array.from({ length: 30 }, (_, i) => `navigation_${i + 1}`);
  const answers = Object.fromEntries(cards.map((c) => [c, { text: '', at: null }]));
  let submitted = null;
  const session = () => ({
    session_id: sid,
    sheet_number: 1,
    status: submitted ? 'evaluated' : 'in_progress',
    started_at: started.toISOString(),
    submitted_at: submitted,
    deadline_at: new Date(started.getTime() + 90 * 60000).toISOString(),
    time_limit_minutes: 90,
    time_remaining_seconds: Math.max(0, Math.floor((started.getTime() + 90 * 60000 - Date.now()) / 1000)),
    time_over: false,
    question_count: 30,
    questions: cards.map((c, i) => ({
      question_number: i + 1,
      card_id: c,
      question_text: `Prüfungsfrage ${i + 1} (Testbogen)`,
      // A real figure, fetched from /media with the token like any other.
      question_images: i === 0 ? [{ image_id: 'schifffahrtsrecht_q19_q1', storage_key: '/media/schifffahrtsrecht_q19_q1.gif', alt_text: 'Abbildung 1 zur Frage 1' }] : [],
      student_answer: answers[c].text,
      answered_at: answers[c].at,
    })),
  });
  const result = () => {
    const questions = cards.map((c, i) => {
      const score = answers[c].text.trim() ? 2 : 0;
      return {
        question_number: i + 1,
        card_id: c,
        question_text: `Prüfungsfrage ${i + 1} (Testbogen)`,
        reference_short_answer: ['Kernpunkt'],
        student_answer: answers[c].text,
        score,
        is_correct: score === 2,
        feedback: score ? 'Richtig.' : 'Keine Antwort.',
        errors: [],
      };
    });
    const total = questions.reduce((n, q) => n + q.score, 0);
    return {
      session_id: sid, sheet_number: 1, status: 'evaluated', started_at: started.toISOString(), submitted_at: submitted,
      time_limit_minutes: 90, time_over: false, total_score: total, max_score: 60, passed: total >= 39,
      pass_score_threshold: 39, questions,
    };
  };
  const json = (route, body, status = 200) => route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
  await context.route(/\/api\/(exams|navigation-exams|exam-sessions|navigation-sessions)(\/|\?|$)/, async (route) => {
    const req = route.request();
    const path = new URL(req.url()).pathname.replace(/^\/api/, '');
    const m = req.method();
    if (path === '/exams') {
      return json(route, Array.from({ length: 15 }, (_, i) => ({ sheet_number: i + 1, display_name: `Pruefungsbogen ${i + 1}`, question_count: 30, time_limit_minutes: 90 })));
    }
    if (path === '/navigation-exams') {
      return json(route, Array.from({ length: 10 }, (_, i) => ({ sheet_number: i + 1, display_name: `Navigationsaufgabe ${i + 1}`, task_count: 18, total_points: 30, time_limit_minutes: 90 })));
    }
    if ((path === '/exam-sessions' || path === '/navigation-sessions') && m === 'GET') return json(route, []);
    if (path === '/exam-sessions' && m === 'POST') return json(route, session());
    if (path === `/exam-sessions/${sid}` && m === 'GET') return json(route, session());
    const a = path.match(/^\/exam-sessions\/[^/]+\/answers\/(.+)$/);
    if (a && m === 'PUT') {
      const c = decodeURIComponent(a[1]);
      answers[c] = { text: req.postDataJSON().student_answer, at: new Date().toISOString() };
      return json(route, { session_id: sid, card_id: c, question_number: cards.indexOf(c) + 1, student_answer: answers[c].text, answered_at: answers[c].at });
    }
    if (path === `/exam-sessions/${sid}/submit` && m === 'POST') {
      submitted = submitted || new Date().toISOString();
      return json(route, result());
    }
    if (path === `/exam-sessions/${sid}/result`) return json(route, result());
    return json(route, { detail: 'not in the stand-in', code: 'not_found', request_id: '0'.repeat(32) }, 404);
  });
  return { answers, sid };
}

export async function examFlow(page, rec, stack) {
  const context = page.context();
  const real = (await apiStatus(page, stack, '/exams')) !== 404;
  const mock = real ? null : await standIn(context);

  await page.locator('#tabs a', { hasText: 'Prüfung' }).click();
  await page.getByRole('button', { name: 'Fragebogen 1 starten' }).waitFor();
  await rec.shot(page, 'pruefung-liste');
  await axe(page, rec, 'exam list');
  await page.getByRole('button', { name: 'Fragebogen 1 starten' }).click();
  await page.getByRole('button', { name: 'Jetzt starten' }).click();
  await page.locator('.exam-bar .timer').waitFor();
  await until(async () => /^noch \d\d:\d\d$/.test(await page.locator('.exam-bar .timer').textContent()), 'the countdown');
  const t1 = await page.locator('.exam-bar .timer').textContent();
  if (!/^noch (89|90):/.test(t1)) throw new Error(`countdown starts at ${t1}`);
  const sid = page.url().split('/').pop();
  // Figures come from /media/ with the bearer token, shown from blob: URLs.
  const figures = await page.locator('.question .figure img').count();
  if (!real && figures === 0) throw new Error('the stand-in\'s figure is not shown');
  if (figures) {
    await until(() => page.locator('.question .figure img').first().evaluate(
      (img) => img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0), 'the first figure');
  }
  await rec.shot(page, 'pruefung-start');

  for (let i = 0; i < 3; i++) await page.locator(`#a-${i}`).fill(`Antwort ${i + 1}: Sichtzeichen und Schallsignale`);
  await page.locator('#a-3').focus(); // blur sends the last one at once
  await until(async () => (await page.locator('.save-state.ok').count()) === 3, 'three answers saved');
  await rec.shot(page, 'pruefung-bogen');
  await axe(page, rec, 'exam sheet');

  await context.setOffline(true);
  await page.locator('#net').waitFor({ state: 'visible' });
  await page.locator('#a-3').fill('Antwort 4, offline geschrieben');
  await page.locator('#a-0').focus();
  await page.locator('.save-line', { hasText: '1 nur auf dem Gerät gespeichert' }).waitFor();
  await page.locator('.save-state.warn').first().waitFor();
  await page.locator('#a-3').scrollIntoViewIfNeeded();
  await rec.shot(page, 'pruefung-offline');
  await context.setOffline(false);
  await page.locator('.save-line', { hasText: 'Alles gespeichert' }).waitFor();
  if (real) {
    const s = await apiGet(page, `/exam-sessions/${sid}`);
    if (s.questions[3].student_answer !== 'Antwort 4, offline geschrieben') throw new Error('the offline answer did not reach the server');
  } else if (mock.answers.navigation_4.text !== 'Antwort 4, offline geschrieben') {
    throw new Error('the offline answer did not reach the stand-in');
  }

  await page.locator('.submit-area > button.primary').click();
  await page.locator('.confirm').getByRole('button', { name: 'Abgeben' }).click();
  await page.locator('.outcome h2').waitFor();
  const outcome = await page.locator('.outcome h2').textContent();
  if (!['Bestanden', 'Mündliche Prüfung', 'Nicht bestanden'].includes(outcome)) throw new Error(`outcome ${outcome}`);
  await rec.shot(page, 'pruefung-ergebnis');
  await page.locator('.results > li > details > summary').first().click();
  await page.locator('.results details details summary').first().click();
  await page.locator('.official .text').first().waitFor();
  await axe(page, rec, 'exam result');
  await rec.shot(page, 'pruefung-ergebnis-frage');
  if (mock) await context.unroute(/\/api\/(exams|navigation-exams|exam-sessions|navigation-sessions)(\/|\?|$)/);
  return `${real ? 'real exam API' : 'exam API not in this build: reference-contract stand-in'}, outcome "${outcome}"`;
}
