// The premium exam flow in the browser: sheet list, start, countdown,
// answers saved as you type, an answer typed offline kept on the device and
// sent when the connection returns, submit, the result with the three-way
// outcome and the official answer.
//
// Then a chart task is started and abandoned.
import { axe, until } from './lib.mjs';

async function apiGet(page, path) {
  return page.evaluate(async (p) => {
    const s = JSON.parse(localStorage.getItem('easysks.session'));
    const res = await fetch(`/api${p}`, { headers: { Authorization: `Bearer ${s.access}` } });
    return res.json();
  }, path);
}

export async function examFlow(page, rec) {
  const context = page.context();

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
  // Sheet 1 has one question with a figure.
  await until(() => page.locator('.question .figure img').first().evaluate(
    (img) => img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0), 'the figure');
  await rec.shot(page, 'pruefung-start');

  // The first answer is the official one (the grader must give it points).
  const { questions } = await apiGet(page, `/exam-sessions/${sid}`);
  await page.locator('#a-0').fill((await apiGet(page, `/cards/${questions[0].card_id}`)).answer.text);
  for (let i = 1; i < 3; i++) await page.locator(`#a-${i}`).fill(`Antwort ${i + 1}: Sichtzeichen und Schallsignale`);
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
  const after = await apiGet(page, `/exam-sessions/${sid}`);
  if (after.questions[3].student_answer !== 'Antwort 4, offline geschrieben') throw new Error('the offline answer did not reach the server');

  await page.locator('.submit-area > button.primary').click();
  await page.locator('.confirm').getByRole('button', { name: 'Abgeben' }).click();
  await page.locator('.outcome h2').waitFor();
  const outcome = await page.locator('.outcome h2').textContent();
  if (!['Bestanden', 'Mündliche Prüfung', 'Nicht bestanden'].includes(outcome)) throw new Error(`outcome ${outcome}`);
  const q1 = await page.locator('.results > li .pts').first().textContent();
  if (!q1.startsWith('2 /')) throw new Error(`the official answer scored ${q1}`);
  await rec.shot(page, 'pruefung-ergebnis');
  const first = page.locator('.results > li').first();
  await first.locator(':scope > details > summary').click();
  // The official answer: in the result, or fetched when the API omits it.
  await first.getByText('Amtliche Antwort').first().waitFor();
  if (await first.locator('details details').count()) {
    await first.locator('details details summary').click();
    await first.locator('.official .text').waitFor();
  }
  await axe(page, rec, 'exam result');
  await first.getByText('Amtliche Antwort').first().scrollIntoViewIfNeeded();
  await rec.shot(page, 'pruefung-ergebnis-frage');

  // A chart task: the situation and its sub-questions, then abandoned.
  await page.locator('#tabs a', { hasText: 'Prüfung' }).click();
  await page.getByRole('link', { name: /Fragebogen 1 · .* Punkten/ }).first().waitFor();
  await page.getByRole('button', { name: 'Kartenaufgabe 1 starten' }).click();
  await page.getByRole('button', { name: 'Jetzt starten' }).click();
  await page.locator('.question .subq li').first().waitFor();
  await rec.shot(page, 'kartenaufgabe');
  await axe(page, rec, 'chart task');
  await page.getByRole('button', { name: 'Prüfung abbrechen' }).click();
  await page.locator('.confirm').getByRole('button', { name: 'Abbrechen' }).click();
  await page.getByRole('button', { name: 'Kartenaufgabe 1 starten' }).waitFor();
  return `outcome "${outcome}"; a chart task started and abandoned`;
}
