// Static checks of the web client (tests/lint.sh), no browser needed:
// - the service worker's shell list is exactly the files in app/web (less
//   sw.js itself), so nothing is missing offline and nothing 404s at install;
// - every module the first screen imports is modulepreloaded by index.html
//   (one request step for all of them, not a waterfall), and nothing else;
// - no inline script, no inline style, no event-handler attribute anywhere
//   (the CSP forbids them), and no innerHTML in the modules;
// - JS+CSS of the first load (everything but what is imported on demand and
//   sw.js) stays under 100 KB before compression.
// Prints the sizes; exits 1 on a problem.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../app/web/', import.meta.url));
const problems = [];
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else files.push(`/${relative(root, p)}`);
  }
}(root));

const sw = readFileSync(join(root, 'sw.js'), 'utf8');
const shell = [...sw.slice(sw.indexOf('const SHELL = ['), sw.indexOf('];', sw.indexOf('const SHELL = ['))).matchAll(/'([^']+)'/g)].map((m) => m[1]);
const want = files.filter((f) => f !== '/sw.js');
for (const f of want) if (!shell.includes(f)) problems.push(`sw.js: ${f} is not in SHELL`);
for (const f of shell) if (f !== '/' && !files.includes(f)) problems.push(`sw.js: SHELL lists ${f}, which does not exist`);

// Static imports from app.js, transitively; dynamic import() is on demand.
const staticImports = new Set();
(function follow(file) {
  const src = readFileSync(join(root, file), 'utf8');
  for (const m of src.matchAll(/^import[^'"]*from\s+'([^']+)';/gm)) {
    const target = new URL(m[1], `file:///x${file}`).pathname.slice(2);
    if (!staticImports.has(target)) {
      staticImports.add(target);
      follow(target);
    }
  }
}('/app.js'));
const html = readFileSync(join(root, 'index.html'), 'utf8');
const preloaded = [...html.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => m[1]);
for (const f of staticImports) if (!preloaded.includes(f)) problems.push(`index.html: ${f} is imported by the first screen but not modulepreloaded`);
for (const f of preloaded) if (!staticImports.has(f)) problems.push(`index.html: ${f} is modulepreloaded but not imported by the first screen`);

for (const f of files.filter((x) => /\.(html|js|svg)$/.test(x))) {
  const src = readFileSync(join(root, f), 'utf8');
  if (/<script(?![^>]*\bsrc=)[^>]*>/i.test(src) && f.endsWith('.html')) problems.push(`${f}: inline <script>`);
  if (/<style[\s>]/i.test(src)) problems.push(`${f}: <style> element`);
  if (/\sstyle="/i.test(src)) problems.push(`${f}: style attribute`);
  if (/\son[a-z]+="/i.test(src)) problems.push(`${f}: event-handler attribute`);
  if (f.endsWith('.js') && /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write/.test(src)) problems.push(`${f}: HTML from strings`);
}

const size = (f) => statSync(join(root, f)).size;
const first = ['/app.js', '/style.css', ...staticImports];
const firstBytes = first.reduce((n, f) => n + size(f), 0);
const allBytes = files.filter((f) => /\.(js|css)$/.test(f)).reduce((n, f) => n + size(f), 0);
if (firstBytes >= 100 * 1024) problems.push(`first load is ${firstBytes} bytes of JS+CSS (limit 102400)`);

console.log(`# first load: ${firstBytes} bytes of JS+CSS in ${first.length} files; all JS+CSS incl. on-demand and sw.js: ${allBytes} bytes`);
for (const p of problems) console.log(`# ${p}`);
process.exitCode = problems.length ? 1 : 0;
