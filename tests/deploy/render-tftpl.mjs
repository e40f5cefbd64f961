// Render a Terraform templatefile() template offline, for tests: the subset
// our templates use. Interpolation ${expr}; directives %{ for k, v in expr },
// %{ for v in expr }, %{ endfor }, %{ if expr }, %{ else }, %{ endif }; strip
// markers ~ on either side; escapes $${ and %%{. Expressions: a variable, .attr,
// ["key"] and [N] indexing, string and number literals, jsonencode(expr)
// (with Terraform's escaping of <, > and &). An unknown variable
// or an unsupported construct is an error (like terraform's "vars map does
// not contain key"). Maps iterate in lexical key order, as in Terraform.
//
//   node tests/deploy/render-tftpl.mjs TEMPLATE VARS.json > OUT
import { readFileSync } from 'node:fs';

const [tplPath, varsPath] = process.argv.slice(2);
if (!tplPath || !varsPath) {
  console.error('usage: render-tftpl.mjs TEMPLATE VARS.json');
  process.exit(2);
}
const src = readFileSync(tplPath, 'utf8');
const vars = JSON.parse(readFileSync(varsPath, 'utf8'));

function lineOf(pos) { return src.slice(0, pos).split('\n').length; }
function fail(pos, msg) { throw new Error(`${tplPath}:${lineOf(pos)}: ${msg}`); }

// 1. Tokens: text, interp, directive (with strip flags).
const tokens = [];
let i = 0, text = '';
while (i < src.length) {
  if (src.startsWith('$${', i)) { text += '${'; i += 3; continue; }
  if (src.startsWith('%%{', i)) { text += '%{'; i += 3; continue; }
  if (src.startsWith('${', i) || src.startsWith('%{', i)) {
    const kind = src[i] === '$' ? 'interp' : 'directive';
    const start = i;
    let j = i + 2, depth = 0, inStr = false;
    for (; j < src.length; j++) {
      const c = src[j];
      if (inStr) { if (c === '\\') j++; else if (c === '"') inStr = false; continue; }
      if (c === '"') inStr = true;
      else if (c === '{') depth++;
      else if (c === '}') { if (depth === 0) break; depth--; }
    }
    if (j >= src.length) fail(start, 'unterminated template sequence');
    let body = src.slice(i + 2, j);
    const stripL = body.startsWith('~'), stripR = body.endsWith('~');
    if (stripL) body = body.slice(1);
    if (stripR) body = body.slice(0, -1);
    tokens.push({ t: 'text', v: text }); text = '';
    tokens.push({ t: kind, v: body.trim(), stripL, stripR, pos: start });
    i = j + 1;
    continue;
  }
  text += src[i++];
}
tokens.push({ t: 'text', v: text });
for (let k = 0; k < tokens.length; k++) {
  const tk = tokens[k];
  if (tk.t === 'text') continue;
  if (tk.stripL && k > 0) tokens[k - 1].v = tokens[k - 1].v.replace(/\s+$/, '');
  if (tk.stripR && k + 1 < tokens.length) tokens[k + 1].v = tokens[k + 1].v.replace(/^\s+/, '');
}

// 2. Expressions.
function evalExpr(expr, scope, pos) {
  let s = expr.trim(), m;
  if ((m = /^jsonencode\((.*)\)$/s.exec(s))) {
    return { json: JSON.stringify(evalExpr(m[1], scope, pos))
      .replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026') };
  }
  if ((m = /^"((?:[^"\\]|\\.)*)"$/.exec(s))) return JSON.parse(`"${m[1]}"`);
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  m = /^([A-Za-z_][A-Za-z0-9_-]*)/.exec(s);
  if (!m) fail(pos, `unsupported expression: ${s}`);
  if (!(m[1] in scope)) fail(pos, `vars map does not contain key "${m[1]}"`);
  let v = scope[m[1]];
  s = s.slice(m[0].length);
  while (s.length) {
    if ((m = /^\.([A-Za-z_][A-Za-z0-9_-]*)/.exec(s)) || (m = /^\[\s*"([^"]*)"\s*\]/.exec(s)) || (m = /^\[\s*(\d+)\s*\]/.exec(s))) {
      if (v === null || typeof v !== 'object' || !(m[1] in v)) fail(pos, `no element "${m[1]}" in ${expr}`);
      v = v[m[1]];
      s = s.slice(m[0].length);
    } else fail(pos, `unsupported expression: ${expr}`);
  }
  return v;
}
function str(v, pos) {
  if (typeof v === 'string') return v;
  if (v && typeof v.json === 'string') return v.json;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  fail(pos, `cannot interpolate a ${Array.isArray(v) ? 'list' : typeof v}`);
}

// 3. Tree and evaluation.
let p = 0;
function parseBlock(ends) {
  const out = [];
  while (p < tokens.length) {
    const tk = tokens[p];
    if (tk.t === 'directive') {
      const word = tk.v.split(/\s+/)[0];
      if (ends.includes(word)) return out;
      p++;
      if (word === 'for') {
        const m = /^for\s+([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\s+(.+)$/.exec(tk.v);
        if (!m) fail(tk.pos, `bad for: ${tk.v}`);
        const body = parseBlock(['endfor']);
        if (p >= tokens.length) fail(tk.pos, 'missing endfor');
        p++;
        out.push({ t: 'for', k: m[2] ? m[1] : null, v: m[2] || m[1], expr: m[3], body, pos: tk.pos });
      } else if (word === 'if') {
        const yes = parseBlock(['else', 'endif']);
        let no = [];
        if (p < tokens.length && tokens[p].v === 'else') { p++; no = parseBlock(['endif']); }
        if (p >= tokens.length) fail(tk.pos, 'missing endif');
        p++;
        out.push({ t: 'if', expr: tk.v.slice(2), yes, no, pos: tk.pos });
      } else fail(tk.pos, `unexpected directive: ${tk.v}`);
      continue;
    }
    out.push(tk);
    p++;
  }
  if (ends.length) fail(src.length, `missing ${ends.join('/')}`);
  return out;
}
function render(nodes, scope) {
  let out = '';
  for (const n of nodes) {
    if (n.t === 'text') out += n.v;
    else if (n.t === 'interp') out += str(evalExpr(n.v, scope, n.pos), n.pos);
    else if (n.t === 'for') {
      const coll = evalExpr(n.expr, scope, n.pos);
      const entries = Array.isArray(coll) ? coll.map((x, idx) => [idx, x])
        : Object.keys(coll).sort().map((key) => [key, coll[key]]);
      for (const [key, val] of entries) {
        const s = { ...scope, [n.v]: val };
        if (n.k) s[n.k] = key;
        out += render(n.body, s);
      }
    } else if (n.t === 'if') {
      out += render(evalExpr(n.expr, scope, n.pos) ? n.yes : n.no, scope);
    }
  }
  return out;
}

try {
  const tree = parseBlock([]);
  process.stdout.write(render(tree, vars));
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
