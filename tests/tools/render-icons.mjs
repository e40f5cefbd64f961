// Renders the web client's PNG icons from app/web/icons/icon.svg with
// headless Chromium (run by hand after changing the SVG; the PNGs are
// committed):  node tests/tools/render-icons.mjs
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../../app/web/icons/', import.meta.url));
const svg = readFileSync(`${dir}icon.svg`, 'utf8');
// Maskable: full-bleed background, the artwork inside the 80 % safe zone.
const maskable = svg.replace('rx="96"', 'rx="0"')
  .replace(/<path/g, '<path transform="translate(51.2 51.2) scale(0.8)"');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
try {
  for (const [name, size, source] of [['icon-192.png', 192, svg], ['icon-512.png', 512, svg], ['maskable-512.png', 512, maskable]]) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    await page.setContent(`<html><body style="margin:0;background:transparent">${source.replace('<svg ', `<svg width="${size}" height="${size}" `)}</body></html>`);
    await page.screenshot({ path: `${dir}${name}`, omitBackground: true });
    await page.close();
  }
} finally {
  await browser.close();
}
