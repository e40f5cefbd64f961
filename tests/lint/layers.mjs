// The layering of lib/ (lib/README.md), checked from the #include lines:
//   - a layer includes only its own headers and those of the layers below
//     it: core/ nothing of ours, infra/ core/, sks/ core/ and infra/;
//   - nothing in lib/ includes the application (app/: http/, api/, pool/,
//     cli/) or libfcgi;
//   - no two modules of lib/ include each other, directly or through others
//     (a module is x.c with x.h).
// Prints one line per violation and exits 1 if there is any.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2] ?? 'lib';
const layers = ['core', 'infra', 'sks'];
const bad = [];
const graph = new Map(); // "layer/module" -> Set of "layer/module"

for (const [rank, layer] of layers.entries()) {
  for (const file of readdirSync(join(root, layer)).filter((f) => /\.[ch]$/.test(f)).sort()) {
    const mod = `${layer}/${file.replace(/\.[ch]$/, '')}`;
    if (!graph.has(mod)) graph.set(mod, new Set());
    const lines = readFileSync(join(root, layer, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      const m = line.match(/^\s*#\s*include\s*([<"])([^>"]+)[>"]/);
      if (!m) return;
      const [, kind, path] = m;
      const where = `lib/${layer}/${file}:${i + 1}`;
      if (/fcgi/.test(path)) bad.push(`${where}: includes ${path}; lib/ never sees FastCGI`);
      if (kind === '<') return;
      const top = path.split('/')[0];
      if (!path.includes('/')) {
        bad.push(`${where}: "${path}" names no layer (write "core/…", "infra/…" or "sks/…")`);
        return;
      }
      if (!layers.includes(top)) {
        bad.push(`${where}: includes "${path}" from outside lib/ (the library never sees app/)`);
        return;
      }
      if (layers.indexOf(top) > rank) {
        bad.push(`${where}: ${layer}/ includes "${path}", a layer above it`);
      }
      const dep = path.replace(/\.h$/, '');
      if (dep !== mod) graph.get(mod).add(dep);
    });
  }
}

// Include circles between modules: a depth-first search reporting each
// cycle once (by its smallest member).
const seen = new Set();
const cycles = new Set();
function visit(node, stack) {
  if (stack.includes(node)) {
    const cyc = stack.slice(stack.indexOf(node));
    const start = cyc.indexOf([...cyc].sort()[0]);
    cycles.add([...cyc.slice(start), ...cyc.slice(0, start)].join(' -> '));
    return;
  }
  if (seen.has(node)) return;
  stack.push(node);
  for (const next of graph.get(node) ?? []) visit(next, stack);
  stack.pop();
  seen.add(node);
}
for (const node of [...graph.keys()].sort()) visit(node, []);
for (const c of cycles) bad.push(`include circle: ${c} -> ${c.split(' -> ')[0]}`);

for (const line of bad) console.log(line);
if (bad.length > 0) process.exit(1);
console.log(`${graph.size} modules in ${layers.length} layers, no upward include, no circle`);
