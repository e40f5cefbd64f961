#!/usr/bin/env node
// Offline Terraform checker: there is no terraform binary (and no provider
// download) in CI, so this stands in for `terraform fmt -check`,
// `terraform validate` and a policy linter.
//
//   node tests/tf/check.mjs [dir...]      (default: terraform)
//
// Each argument is a tree checked on its own (the self-test passes every
// fixture in one run); every directory in it that holds *.tf files is a
// module, and modules called through a local `source` are loaded too.
// Files are parsed one by one with @cdktf/hcl2json (Go's HCL parser as wasm),
// which is purely syntactic; everything semantic is checked here against the
// AWS provider schema (EASYSKS_TF_SCHEMA, default
// ../shared/data/terraform/aws-provider-schema.json from the repository root).
//
// One line per finding, `file[:line[:col]]: rule-id: message`, then a summary
// line per tree (`tf-check: <dir>: ...`).
// Exit 0 when clean, 1 with findings, 2 when the checker itself cannot run.
// Rule ids are stable (tests/tf/selftest.sh relies on them):
//   parse                 HCL syntax error
//   fmt                   indentation or `=` alignment differs from terraform fmt
//   unknown-block         unknown top-level block type
//   block-arg             unknown argument in a variable, output or lifecycle block
//   doc                   variable without type/description, output without description
//   var-default           variable default that is not a literal
//   duplicate             resource, data source, module, variable, output or local defined twice
//   ref-var, ref-local, ref-resource, ref-data, ref-module, ref-module-output,
//   ref-unknown, ref-each, ref-count
//                         reference to something not declared (or out of context)
//   module-source         local module source missing
//   module-arg            argument not declared as a variable of the called module
//   module-missing-arg    variable without default not passed to the module
//   schema-type           resource or data source type unknown to the provider
//   schema-arg            unknown argument
//   schema-block          unknown nested block
//   schema-required       required argument or block missing
//   imdsv2                launch template/instance without metadata_options.http_tokens = "required"
//   rds-encryption        aws_db_instance without storage_encrypted = true
//   rds-public            aws_db_instance publicly accessible
//   rds-master-password   password in Terraform instead of manage_master_user_password = true
//   prod-rds              prod database without deletion protection, Multi-AZ or >= 7 days of backups
//   s3-public-access-block, s3-versioning, s3-encryption
//                         bucket without a (complete) companion resource
//   hardcoded-secret      secret value in the configuration
//   log-retention         log group without retention_in_days
//   backend-missing, backend-lockfile, backend-key
//                         environment state not in S3 with locking under a distinct key
//   asg-tags              Auto Scaling group without tag blocks (default_tags do not reach it)

import { parse } from "@cdktf/hcl2json";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const schemaPath =
  process.env.EASYSKS_TF_SCHEMA ??
  path.resolve(repoRoot, "../shared/data/terraform/aws-provider-schema.json");

const UNRESOLVED = Symbol("unresolved");
const META_ARGS = new Set(["count", "for_each", "depends_on", "provider", "lifecycle", "provisioner", "connection"]);
const LIFECYCLE_ARGS = new Set([
  "create_before_destroy", "prevent_destroy", "ignore_changes", "replace_triggered_by", "precondition", "postcondition",
]);
const MODULE_META_ARGS = new Set(["source", "version", "count", "for_each", "depends_on", "providers"]);
const VARIABLE_ARGS = new Set(["type", "default", "description", "validation", "sensitive", "nullable", "ephemeral"]);
const OUTPUT_ARGS = new Set(["value", "description", "sensitive", "depends_on", "precondition", "ephemeral"]);
const TOP_LEVEL = new Set([
  "resource", "data", "variable", "output", "locals", "module", "terraform", "provider", "moved", "import", "removed", "check",
]);
// Roots of references that need no declaration.
const BUILTIN_ROOTS = new Set(["path", "terraform", "self"]);
const KEYWORDS = new Set(["for", "in", "if", "true", "false", "null"]);
const SECRET_ARG = /(^|_)(password|passwd|secret|token|api_key|apikey|access_key|secret_key|private_key)$/i;
// Values such arguments legitimately take (token_validity_units { access_token = "minutes" }).
const NOT_A_SECRET = /^(seconds|minutes|hours|days)$/;
const SECRET_PATTERNS = [
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, "an AWS access key id"],
  [/\bwhsec_[A-Za-z0-9+/=]{8,}/, "a Stripe webhook signing secret"],
  [/\b[sr]k_(live|test)_[A-Za-z0-9]{8,}/, "a Stripe API key"],
  [/\bsk-(proj-)?[A-Za-z0-9_-]{20,}/, "an OpenAI API key"],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a private key"],
];

const findings = [];

function report(file, line, rule, message, col) {
  const where = line ? (col ? `${file}:${line}:${col}` : `${file}:${line}`) : file;
  findings.push(`${where}: ${rule}: ${message}`);
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isBlockList = (v) => Array.isArray(v) && v.length > 0 && v.every(isObject);
const isLiteralString = (v) => typeof v === "string" && !/(^|[^$])\$\{/.test(v) && !/(^|[^%])%\{/.test(v);
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// ---------------------------------------------------------------------------
// Locating things in the source (hcl2json returns no positions).

function lineAt(text, index) {
  return text.slice(0, index).split("\n").length;
}

// Byte offset of the nth (0-based) block header matching `labels`, or -1.
function blockOffset(text, kind, labels, nth = 0) {
  const header = [kind, ...labels.map((l) => `"${escapeRe(l)}"`)].join("\\s+");
  const re = new RegExp(`^[ \\t]*${header}\\s*\\{`, "gm");
  let m;
  for (let i = 0; (m = re.exec(text)); i++) if (i === nth) return m.index;
  return -1;
}

// Line of `key =` (or `key {`) after offset, else the line of offset itself.
function argLine(text, offset, key) {
  if (offset < 0) return undefined;
  if (key) {
    const re = new RegExp(`^[ \\t]*("?)${escapeRe(key)}\\1\\s*(=|\\{|")`, "gm");
    re.lastIndex = offset;
    const m = re.exec(text);
    if (m) return lineAt(text, m.index);
  }
  return lineAt(text, offset);
}

// ---------------------------------------------------------------------------
// Loading modules.

const modules = new Map(); // absolute dir -> module

function tfFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".tf"))
    .map((e) => path.join(dir, e.name))
    .sort();
}

function moduleDirs(dir, out = []) {
  if (tfFiles(dir).length) out.push(dir);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory() && !e.name.startsWith(".")) moduleDirs(path.join(dir, e.name), out);
  }
  return out;
}

async function parseFile(abs) {
  const rel = path.relative(process.cwd(), abs) || abs;
  const text = fs.readFileSync(abs, "utf8");
  try {
    return { abs, rel, text, body: await parse(rel, text) };
  } catch (err) {
    const msg = String(err.message ?? err).replace(/^parse config: \[|\]$/g, "");
    const m = /:(\d+),(\d+)-[\d,]+: (.*)$/s.exec(msg);
    if (m) report(rel, m[1], "parse", m[3].split("\n")[0].trim(), m[2]);
    else report(rel, 0, "parse", msg.split("\n")[0]);
    return { abs, rel, text, body: null };
  }
}

async function loadModule(dir) {
  if (modules.has(dir)) return modules.get(dir);
  const mod = {
    dir, rel: path.relative(process.cwd(), dir) || ".", files: [], parseFailed: false,
    variables: new Map(), locals: new Map(), outputs: new Map(), resources: new Map(),
    data: new Map(), calls: new Map(), terraform: [], tfvars: {},
  };
  modules.set(dir, mod);
  for (const abs of tfFiles(dir)) {
    const f = await parseFile(abs);
    mod.files.push(f);
    if (!f.body) mod.parseFailed = true;
  }
  for (const name of fs.readdirSync(dir).sort()) {
    if (name !== "terraform.tfvars" && !name.endsWith(".auto.tfvars")) continue;
    const f = await parseFile(path.join(dir, name));
    if (f.body) Object.assign(mod.tfvars, f.body);
  }
  index(mod);
  for (const call of mod.calls.values()) {
    const src = call.body.source;
    if (typeof src === "string" && /^\.\.?\//.test(src)) {
      const target = path.resolve(dir, src);
      if (fs.existsSync(target) && tfFiles(target).length) call.target = await loadModule(target);
      else report(call.file.rel, argLine(call.file.text, call.offset, "source"), "module-source", `module "${call.name}": no Terraform files at ${src}`);
    }
  }
  return mod;
}

// Collect the declarations of a module, reporting duplicates.
function index(mod) {
  const declare = (map, key, entry, what) => {
    if (map.has(key)) {
      const first = map.get(key);
      report(entry.file.rel, argLine(entry.file.text, entry.offset), "duplicate",
        `${what} already defined at ${first.file.rel}:${argLine(first.file.text, first.offset)}`);
      return;
    }
    map.set(key, entry);
  };
  for (const file of mod.files) {
    if (!file.body) continue;
    const seen = {}; // header -> count, to locate the nth identical header
    const nth = (k) => (seen[k] = (seen[k] ?? -1) + 1);
    for (const key of Object.keys(file.body)) {
      if (!TOP_LEVEL.has(key)) report(file.rel, argLine(file.text, blockOffset(file.text, key, [])), "unknown-block", `unknown block type "${key}"`);
    }
    for (const [type, byName] of Object.entries(file.body.resource ?? {})) {
      for (const [name, bodies] of Object.entries(byName)) {
        bodies.forEach((body) => {
          const offset = blockOffset(file.text, "resource", [type, name], nth(`r ${type} ${name}`));
          declare(mod.resources, `${type}.${name}`, { type, name, body, file, offset }, `resource ${type}.${name}`);
        });
      }
    }
    for (const [type, byName] of Object.entries(file.body.data ?? {})) {
      for (const [name, bodies] of Object.entries(byName)) {
        bodies.forEach((body) => {
          const offset = blockOffset(file.text, "data", [type, name], nth(`d ${type} ${name}`));
          declare(mod.data, `${type}.${name}`, { type, name, body, file, offset }, `data.${type}.${name}`);
        });
      }
    }
    for (const [kind, map] of [["variable", mod.variables], ["output", mod.outputs], ["module", mod.calls]]) {
      for (const [name, bodies] of Object.entries(file.body[kind] ?? {})) {
        bodies.forEach((body) => {
          const offset = blockOffset(file.text, kind, [name], nth(`${kind} ${name}`));
          declare(map, name, { name, body, file, offset }, `${kind} "${name}"`);
        });
      }
    }
    const localsRe = /^[ \t]*locals\s*\{/gm;
    for (const block of file.body.locals ?? []) {
      const offset = localsRe.exec(file.text)?.index ?? -1;
      for (const [name, value] of Object.entries(block)) {
        declare(mod.locals, name, { name, value, file, offset: offsetOfArg(file.text, offset, name) }, `local.${name}`);
      }
    }
    for (const block of file.body.terraform ?? []) mod.terraform.push({ body: block, file, offset: blockOffset(file.text, "terraform", []) });
  }
}

function offsetOfArg(text, from, key) {
  if (from < 0) return -1;
  const re = new RegExp(`^[ \\t]*${escapeRe(key)}\\s*=`, "gm");
  re.lastIndex = from;
  return re.exec(text)?.index ?? from;
}

// ---------------------------------------------------------------------------
// References. hcl2json hands expressions back as "${...}" template strings;
// this scanner finds traversals (root.name...) in them, skipping string
// literals and honouring for-expression variables.

function interpolations(str) {
  const out = [];
  for (let i = 0; i < str.length - 1; i++) {
    if ((str[i] === "$" || str[i] === "%") && str[i + 1] === "{") {
      if (str[i - 1] === str[i]) continue; // $${ and %%{ are escapes
      const end = matchBrace(str, i + 1);
      out.push(str.slice(i + 2, end));
      i = end;
    }
  }
  return out;
}

// Index of the brace closing the one at `open`, skipping strings.
function matchBrace(s, open) {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '"') i = skipString(s, i);
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return i;
  }
  return s.length;
}

function skipString(s, start) {
  for (let i = start + 1; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === "$" && s[i + 1] === "{") i = matchBrace(s, i + 1);
    else if (s[i] === '"') return i;
  }
  return s.length;
}

// Traversals in one expression: [{ root, names: [...] }].
function traversals(expr, bound = new Set()) {
  const out = [];
  const scope = new Set(bound);
  for (const m of expr.matchAll(/\bfor\s+([A-Za-z_][\w-]*)(?:\s*,\s*([A-Za-z_][\w-]*))?\s+in\b/g)) {
    scope.add(m[1]);
    if (m[2]) scope.add(m[2]);
  }
  const ident = /[A-Za-z_][\w-]*/y;
  for (let i = 0; i < expr.length;) {
    const c = expr[i];
    if (c === '"') {
      const end = skipString(expr, i);
      for (const inner of interpolations(expr.slice(i, end + 1))) out.push(...traversals(inner, scope));
      i = end + 1;
      continue;
    }
    if (/[A-Za-z_]/.test(c) && !/[\w.-]/.test(expr[i - 1] ?? "")) {
      ident.lastIndex = i;
      const root = ident.exec(expr)[0];
      let j = i + root.length;
      const names = [];
      for (;;) {
        if (expr[j] === "." && /[A-Za-z_*]/.test(expr[j + 1] ?? "")) {
          ident.lastIndex = j + 1;
          const m = ident.exec(expr);
          if (!m) { j += 2; continue; } // .* splat
          names.push(m[0]);
          j += 1 + m[0].length;
        } else if (expr[j] === "[") {
          let depth = 0, k = j;
          for (; k < expr.length; k++) {
            if (expr[k] === '"') k = skipString(expr, k);
            else if (expr[k] === "[") depth++;
            else if (expr[k] === "]" && --depth === 0) break;
          }
          out.push(...traversals(expr.slice(j + 1, k), scope));
          j = k + 1;
        } else break;
      }
      const rest = expr.slice(j).trimStart();
      const isCall = rest.startsWith("(") || rest.startsWith("::");
      const isKey = !names.length && /^(=(?!=)|:(?!:))/.test(rest);
      if (!isCall && !isKey && !KEYWORDS.has(root) && !scope.has(root)) out.push({ root, names });
      i = j;
      continue;
    }
    i++;
  }
  return out;
}

// Walk a JSON value, yielding every string (object keys included).
function* strings(value) {
  if (typeof value === "string") yield value;
  else if (Array.isArray(value)) for (const v of value) yield* strings(v);
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) { if (k.includes("${")) yield k; yield* strings(v); }
}

function checkRefs(mod, ctx, value) {
  for (const str of strings(value)) {
    for (const expr of interpolations(str)) {
      for (const ref of traversals(expr, ctx.bound)) checkRef(mod, ctx, ref);
    }
  }
}

function checkRef(mod, ctx, { root, names }) {
  const at = (rule, msg) => report(ctx.file.rel, argLine(ctx.file.text, ctx.offset, ctx.key), rule, msg);
  const [first, second] = names;
  switch (root) {
    case "var":
      if (first && !mod.variables.has(first)) at("ref-var", `var.${first} is not declared in ${mod.rel}`);
      return;
    case "local":
      if (first && !mod.locals.has(first)) at("ref-local", `local.${first} is not defined in ${mod.rel}`);
      return;
    case "module": {
      const call = mod.calls.get(first);
      if (!call) at("ref-module", `module.${first} is not declared in ${mod.rel}`);
      else if (second && call.target && !call.target.parseFailed && !call.target.outputs.has(second)) {
        at("ref-module-output", `module.${first}.${second}: ${call.target.rel} has no output "${second}"`);
      }
      return;
    }
    case "data":
      if (second && !mod.data.has(`${first}.${second}`)) at("ref-data", `data.${first}.${second} is not declared in ${mod.rel}`);
      return;
    case "each":
      if (!ctx.each) at("ref-each", `each.${first} used outside a for_each block`);
      return;
    case "count":
      if (!ctx.count) at("ref-count", `count.${first} used outside a block with count`);
      return;
  }
  if (BUILTIN_ROOTS.has(root) || !first) return;
  if (/^[a-z][a-z0-9]*_[a-z0-9_]+$/.test(root)) {
    if (!mod.resources.has(`${root}.${first}`)) at("ref-resource", `${root}.${first} is not declared in ${mod.rel}`);
  } else {
    at("ref-unknown", `unknown reference ${[root, ...names].join(".")}`);
  }
}

// ---------------------------------------------------------------------------
// Schema.

function checkBlock(entry, body, schema, ctx, where) {
  for (const [key, value] of Object.entries(body)) {
    if (key === "dynamic") {
      for (const [name, dyns] of Object.entries(value)) {
        const spec = schema[name];
        if (!spec?.block) {
          report(ctx.file.rel, argLine(ctx.file.text, ctx.offset, name), "schema-block", `${where}: no nested block "${name}"`);
          continue;
        }
        for (const dyn of dyns) {
          const iterator = typeof dyn.iterator === "string" ? dyn.iterator.replace(/^\$\{(.*)\}$/, "$1") : name;
          checkRefs(entry.mod, { ...ctx, key: name }, { for_each: dyn.for_each, labels: dyn.labels });
          const inner = { ...ctx, bound: new Set([...ctx.bound, iterator]) };
          for (const content of dyn.content ?? []) {
            checkBlock(entry, content, spec.block, inner, `${where}.${name}`);
          }
        }
      }
      continue;
    }
    const spec = schema[key];
    if (!spec) {
      const blockish = isBlockList(value);
      report(ctx.file.rel, argLine(ctx.file.text, ctx.offset, key), blockish ? "schema-block" : "schema-arg",
        `${where}: unknown ${blockish ? "nested block" : "argument"} "${key}"`);
      continue;
    }
    if (spec.block && isBlockList(value)) {
      for (const nested of value) checkBlock(entry, nested, spec.block, { ...ctx, key }, `${where}.${key}`);
    } else {
      checkRefs(entry.mod, { ...ctx, key }, value);
    }
  }
  for (const [key, spec] of Object.entries(schema)) {
    if (spec.required && !(key in body) && !(body.dynamic && key in body.dynamic)) {
      report(ctx.file.rel, argLine(ctx.file.text, ctx.offset), "schema-required",
        `${where}: missing required ${spec.block ? "block" : "argument"} "${key}"`);
    }
  }
}

function checkResources(mod, schema) {
  for (const [kind, map, types] of [["resource", mod.resources, schema.resource], ["data", mod.data, schema.data]]) {
    for (const entry of map.values()) {
      const { type, name, body, file, offset } = entry;
      entry.mod = mod;
      const label = kind === "data" ? `data.${type}.${name}` : `${type}.${name}`;
      const ctx = { file, offset, bound: new Set(), each: "for_each" in body, count: "count" in body };
      if ("count" in body && "for_each" in body) report(file.rel, argLine(file.text, offset), "schema-arg", `${label}: count and for_each are mutually exclusive`);
      for (const meta of ["count", "for_each", "depends_on"]) if (meta in body) checkRefs(mod, { ...ctx, key: meta }, body[meta]);
      for (const lc of body.lifecycle ?? []) {
        for (const [key, value] of Object.entries(lc)) {
          if (!LIFECYCLE_ARGS.has(key)) report(file.rel, argLine(file.text, offset, key), "block-arg", `${label}: unknown lifecycle argument "${key}"`);
          else if (key !== "ignore_changes") checkRefs(mod, { ...ctx, key }, value);
        }
      }
      const spec = types[type];
      if (!spec) {
        report(file.rel, argLine(file.text, offset), "schema-type",
          type.startsWith("aws_") ? `${label}: unknown ${kind} type` : `${label}: no offline schema for this provider (only aws)`);
        continue;
      }
      const attrs = Object.fromEntries(Object.entries(body).filter(([k]) => !META_ARGS.has(k)));
      checkBlock(entry, attrs, spec, ctx, label);
    }
  }
}

// ---------------------------------------------------------------------------
// Variables, outputs, locals, module calls, providers.

function checkDeclarations(mod) {
  for (const v of mod.variables.values()) {
    const at = (key) => argLine(v.file.text, v.offset, key);
    for (const key of Object.keys(v.body)) {
      if (!VARIABLE_ARGS.has(key)) report(v.file.rel, at(key), "block-arg", `variable "${v.name}": unknown argument "${key}"`);
    }
    if (!("type" in v.body) || !v.body.description) report(v.file.rel, at(), "doc", `variable "${v.name}" needs a type and a description`);
    if ("default" in v.body && [...strings(v.body.default)].some((s) => interpolations(s).length)) {
      report(v.file.rel, at("default"), "var-default", `variable "${v.name}": default must be a literal value`);
    }
    for (const validation of v.body.validation ?? []) checkRefs(mod, { file: v.file, offset: v.offset, key: "condition", bound: new Set() }, validation);
  }
  for (const o of mod.outputs.values()) {
    for (const key of Object.keys(o.body)) {
      if (!OUTPUT_ARGS.has(key)) report(o.file.rel, argLine(o.file.text, o.offset, key), "block-arg", `output "${o.name}": unknown argument "${key}"`);
    }
    if (!o.body.description) report(o.file.rel, argLine(o.file.text, o.offset), "doc", `output "${o.name}" needs a description`);
    checkRefs(mod, { file: o.file, offset: o.offset, key: "value", bound: new Set() }, o.body);
  }
  for (const l of mod.locals.values()) checkRefs(mod, { file: l.file, offset: l.offset, bound: new Set() }, l.value);
  for (const call of mod.calls.values()) {
    const ctx = { file: call.file, offset: call.offset, bound: new Set(), each: "for_each" in call.body, count: "count" in call.body };
    for (const [key, value] of Object.entries(call.body)) {
      if (key === "providers") continue;
      checkRefs(mod, { ...ctx, key }, value);
      if (MODULE_META_ARGS.has(key) || !call.target || call.target.parseFailed) continue;
      if (!call.target.variables.has(key)) {
        report(call.file.rel, argLine(call.file.text, call.offset, key), "module-arg", `module "${call.name}": ${call.target.rel} declares no variable "${key}"`);
      }
    }
    if (!call.target || call.target.parseFailed) continue;
    for (const v of call.target.variables.values()) {
      if (!("default" in v.body) && !(v.name in call.body)) {
        report(call.file.rel, argLine(call.file.text, call.offset), "module-missing-arg", `module "${call.name}": required variable "${v.name}" is not passed`);
      }
    }
  }
  for (const file of mod.files) {
    for (const [name, bodies] of Object.entries(file.body?.provider ?? {})) {
      for (const body of bodies) checkRefs(mod, { file, offset: blockOffset(file.text, "provider", [name]), bound: new Set() }, body);
    }
  }
}

// ---------------------------------------------------------------------------
// Policy.

// Value of an expression that is a literal or a chain of plain `var.x`
// references; `lookup(name)` resolves a variable of the module.
function resolve(value, lookup) {
  if (typeof value === "boolean" || typeof value === "number") return value;
  if (typeof value !== "string") return UNRESOLVED;
  const m = /^\$\{\s*var\.([\w-]+)\s*\}$/.exec(value);
  if (m) return lookup(m[1]);
  return isLiteralString(value) ? value : UNRESOLVED;
}

function defaultsLookup(mod) {
  return (name) => {
    const v = mod.variables.get(name);
    return v && "default" in v.body ? resolve(v.body.default, () => UNRESOLVED) : UNRESOLVED;
  };
}

function rootLookup(mod) {
  const defaults = defaultsLookup(mod);
  return (name) => (name in mod.tfvars ? resolve(mod.tfvars[name], () => UNRESOLVED) : defaults(name));
}

function callLookup(call, parentLookup) {
  const defaults = defaultsLookup(call.target);
  return (name) => (name in call.body ? resolve(call.body[name], parentLookup) : defaults(name));
}

// Resources of `type` pointing at aws_s3_bucket.<name>, directly or by
// iterating over it (for_each = aws_s3_bucket.x, bucket = each.value.id).
function bucketCompanions(mod, type, bucketName) {
  const re = new RegExp(`\\baws_s3_bucket\\.${escapeRe(bucketName)}(?![\\w-])`);
  const points = (body) => typeof body.bucket === "string" &&
    (re.test(body.bucket) || (/\beach\.value\b/.test(body.bucket) && re.test(String(body.for_each))));
  return [...mod.resources.values()].filter((r) => r.type === type && points(r.body));
}

function checkPolicy(mod) {
  const lookup = defaultsLookup(mod);
  for (const r of mod.resources.values()) {
    const { type, name, body, file, offset } = r;
    const label = `${type}.${name}`;
    const at = (key) => argLine(file.text, offset, key);
    switch (type) {
      case "aws_launch_template":
      case "aws_instance": {
        const tokens = body.metadata_options?.[0]?.http_tokens;
        if (resolve(tokens, lookup) !== "required") {
          report(file.rel, at("metadata_options"), "imdsv2", `${label}: metadata_options { http_tokens = "required" } (IMDSv2 only) is missing`);
        }
        break;
      }
      case "aws_db_instance":
        if (resolve(body.storage_encrypted, lookup) !== true) report(file.rel, at("storage_encrypted"), "rds-encryption", `${label}: storage_encrypted must be true`);
        if ("publicly_accessible" in body && resolve(body.publicly_accessible, lookup) !== false) {
          report(file.rel, at("publicly_accessible"), "rds-public", `${label}: publicly_accessible must be false or absent`);
        }
        if (resolve(body.manage_master_user_password, lookup) !== true) {
          report(file.rel, at("manage_master_user_password"), "rds-master-password", `${label}: set manage_master_user_password = true (RDS keeps the password in Secrets Manager)`);
        }
        for (const key of ["password", "password_wo"]) {
          if (key in body) report(file.rel, at(key), "rds-master-password", `${label}: "${key}" puts the master password into Terraform`);
        }
        break;
      case "aws_s3_bucket": {
        const pab = bucketCompanions(mod, "aws_s3_bucket_public_access_block", name);
        const flags = ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"];
        if (!pab.length) report(file.rel, at(), "s3-public-access-block", `${label}: no aws_s3_bucket_public_access_block`);
        for (const p of pab) {
          const off = flags.filter((f) => resolve(p.body[f], lookup) !== true);
          if (off.length) report(p.file.rel, argLine(p.file.text, p.offset), "s3-public-access-block", `${p.type}.${p.name}: ${off.join(", ")} must be true`);
        }
        const versioning = bucketCompanions(mod, "aws_s3_bucket_versioning", name);
        if (!versioning.some((v) => v.body.versioning_configuration?.[0]?.status === "Enabled")) {
          report(file.rel, at(), "s3-versioning", `${label}: no aws_s3_bucket_versioning with status = "Enabled"`);
        }
        if (!bucketCompanions(mod, "aws_s3_bucket_server_side_encryption_configuration", name).length) {
          report(file.rel, at(), "s3-encryption", `${label}: no aws_s3_bucket_server_side_encryption_configuration`);
        }
        break;
      }
      case "aws_secretsmanager_secret_version":
        for (const key of ["secret_string", "secret_binary"]) {
          if (isLiteralString(body[key])) report(file.rel, at(key), "hardcoded-secret", `${label}: ${key} is a literal; set secret values outside Terraform`);
        }
        break;
      case "aws_cloudwatch_log_group": {
        const days = resolve(body.retention_in_days, lookup);
        if (!("retention_in_days" in body) || days === 0) report(file.rel, at("retention_in_days"), "log-retention", `${label}: set retention_in_days (logs hold personal data)`);
        break;
      }
      case "aws_autoscaling_group":
        if (!body.tag && !body.dynamic?.tag) report(file.rel, at(), "asg-tags", `${label}: needs tag blocks with propagate_at_launch (ASGs ignore default_tags)`);
        break;
    }
  }
  checkSecrets(mod);
}

function checkSecrets(mod) {
  const walk = (value, file, offset, key) => {
    if (Array.isArray(value)) value.forEach((v) => walk(v, file, offset, key));
    else if (isObject(value)) for (const [k, v] of Object.entries(value)) walk(v, file, offset, k);
    else if (key && SECRET_ARG.test(key) && isLiteralString(value) && value !== "" && !NOT_A_SECRET.test(value)) {
      report(file.rel, argLine(file.text, offset, key), "hardcoded-secret", `"${key}" has a literal value; pass a reference to a secret instead`);
    }
  };
  for (const r of [...mod.resources.values(), ...mod.data.values(), ...mod.calls.values()]) walk(r.body, r.file, r.offset);
  for (const l of mod.locals.values()) walk({ [l.name]: l.value }, l.file, l.offset);
  for (const v of mod.variables.values()) {
    if (SECRET_ARG.test(v.name) && isLiteralString(v.body.default) && v.body.default !== "") {
      report(v.file.rel, argLine(v.file.text, v.offset, "default"), "hardcoded-secret", `variable "${v.name}" has a literal default`);
    }
  }
  for (const file of mod.files) {
    file.text.split("\n").forEach((line, i) => {
      for (const [re, what] of SECRET_PATTERNS) if (re.test(line)) report(file.rel, i + 1, "hardcoded-secret", `looks like ${what}`);
    });
  }
}

const isEnvRoot = (mod) => path.basename(path.dirname(mod.dir)) === "envs";
const isProd = (mod) => ["prod", "production"].includes(path.basename(mod.dir));

function checkBackends(roots) {
  const keys = new Map();
  for (const mod of roots) {
    const backends = mod.terraform.flatMap((t) => Object.entries(t.body.backend ?? {}).map(([type, bodies]) => ({ t, type, body: bodies[0] })));
    if (!backends.length) {
      if (isEnvRoot(mod)) report(mod.rel, 0, "backend-missing", `environment has no backend "s3" block (state would stay local)`);
      continue;
    }
    for (const { t, type, body } of backends) {
      const line = argLine(t.file.text, t.file.text.search(/backend\s+"/), "use_lockfile");
      if (type !== "s3") { report(t.file.rel, line, "backend-missing", `backend "${type}": environments keep state in S3`); continue; }
      if (body.use_lockfile !== true) report(t.file.rel, line, "backend-lockfile", `backend "s3" needs use_lockfile = true (state locking)`);
      if (typeof body.key !== "string" || !body.key) {
        report(t.file.rel, line, "backend-key", `backend "s3" needs a key`);
      } else if (keys.has(`${body.bucket}/${body.key}`)) {
        report(t.file.rel, line, "backend-key", `state key ${body.key} is also used by ${keys.get(`${body.bucket}/${body.key}`)}`);
      } else keys.set(`${body.bucket}/${body.key}`, mod.rel);
    }
  }
}

// Follow the module calls of a prod root and check every database it creates
// with the values that actually arrive there.
function checkProdDatabases(mod, lookup, trail) {
  for (const r of mod.resources.values()) {
    if (r.type !== "aws_db_instance") continue;
    const label = `${trail}${r.type}.${r.name}`;
    const at = argLine(r.file.text, r.offset);
    const value = (key) => resolve(r.body[key], lookup);
    for (const key of ["deletion_protection", "multi_az"]) {
      const v = value(key);
      if (v !== true) report(r.file.rel, at, "prod-rds", `${label}: ${key} is ${v === UNRESOLVED ? "not resolvable to a constant" : String(v ?? "unset")} in prod (must be true)`);
    }
    const days = value("backup_retention_period");
    if (typeof days !== "number" || days < 7) {
      report(r.file.rel, at, "prod-rds", `${label}: backup_retention_period is ${days === UNRESOLVED ? "not resolvable to a constant" : String(days ?? "unset")} in prod (must be >= 7)`);
    }
  }
  for (const call of mod.calls.values()) {
    if (call.target && !call.target.parseFailed) checkProdDatabases(call.target, callLookup(call, lookup), `${trail}module.${call.name}.`);
  }
}

// ---------------------------------------------------------------------------
// Formatting, following hclwrite's rules: indent two spaces per line that
// opens brackets, align `=` of consecutive single-line attributes, and align
// trailing comments of consecutive lines.

function lexLine(line, state) {
  // Returns { net, eq, comment } where eq is the index of the first bare `=`
  // and net the bracket balance, both outside strings.
  let net = 0;
  let netAfterEq = 0;
  let eq = -1;
  let comment = -1;
  const stack = state.stack;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    const top = stack[stack.length - 1];
    if (top === "str") {
      if (c === "\\") i++;
      else if (c === '"') stack.pop();
      else if ((c === "$" || c === "%") && line[i + 1] === "{") { stack.push(0); i++; }
      continue;
    }
    if (c === '"') { stack.push("str"); continue; }
    if (c === "#" || (c === "/" && line[i + 1] === "/")) { comment = i; break; }
    if (c === "<" && line[i + 1] === "<") {
      const m = /^<<-?([A-Za-z_]\w*)\s*$/.exec(line.slice(i));
      if (m) { state.heredoc = m[1]; break; }
    }
    let d = 0;
    if ("{[(".includes(c)) { d = 1; if (typeof top === "number") stack[stack.length - 1]++; }
    if ("}])".includes(c)) {
      if (typeof top === "number") {
        if (top === 0) { stack.pop(); continue; }
        stack[stack.length - 1]--;
      }
      d = -1;
    }
    net += d;
    if (eq >= 0) netAfterEq += d;
    if (c === "=" && eq < 0 && i > 0 && !"=!<>".includes(line[i - 1]) && line[i + 1] !== "=" && line[i + 1] !== ">") eq = i;
  }
  return { net, eq: eq >= 0 && netAfterEq === 0 ? eq : -1, comment };
}

function checkFormat(file) {
  const lines = file.text.split("\n");
  const state = { stack: [], heredoc: null };
  const indents = [];
  const info = [];
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    if (state.heredoc) {
      if (line.trim() === state.heredoc) state.heredoc = null;
      info.push(null);
      continue;
    }
    if (/\s$/.test(line)) report(file.rel, n + 1, "fmt", "trailing whitespace");
    if (/^\s*\t/.test(line)) report(file.rel, n + 1, "fmt", "tab in indentation");
    const inString = state.stack.length > 0;
    const lx = lexLine(line, state);
    const text = line.trim();
    if (!text || inString) { info.push(null); continue; }
    if (lx.net < 0) {
      let closed = -lx.net;
      while (closed > 0 && indents.length) {
        const top = indents[indents.length - 1];
        if (closed >= top) { closed -= top; indents.pop(); } else { indents[indents.length - 1] -= closed; closed = 0; }
      }
    }
    const want = 2 * indents.length;
    const have = line.length - line.trimStart().length;
    if (have !== want) report(file.rel, n + 1, "fmt", `indented ${have} spaces, terraform fmt uses ${want}`);
    if (lx.net > 0) indents.push(lx.net);
    info.push({ n, line, eq: text.startsWith("#") || text.startsWith("//") ? -1 : lx.eq, comment: text.startsWith("#") || text.startsWith("//") ? -1 : lx.comment });
  }
  // Alignment chains: consecutive lines with an `=` (resp. a trailing comment).
  const chains = (pick) => {
    const out = [];
    let cur = [];
    for (const i of info) {
      if (i && pick(i) >= 0) cur.push(i);
      else { if (cur.length) out.push(cur); cur = []; }
    }
    if (cur.length) out.push(cur);
    return out;
  };
  for (const chain of chains((i) => i.eq)) {
    const width = (i) => i.line.slice(0, i.eq).trimEnd().length;
    const max = Math.max(...chain.map(width));
    for (const i of chain) {
      if (i.eq - width(i) !== max - width(i) + 1) report(file.rel, i.n + 1, "fmt", "`=` not aligned with the neighbouring attributes");
      else if (!/^= \S/.test(i.line.slice(i.eq)) && i.line.slice(i.eq).trim() !== "=") report(file.rel, i.n + 1, "fmt", "one space after `=`");
    }
  }
  for (const chain of chains((i) => i.comment)) {
    const width = (i) => i.line.slice(0, i.comment).trimEnd().length;
    const max = Math.max(...chain.map(width));
    for (const i of chain) {
      if (i.comment - width(i) !== max - width(i) + 1) report(file.rel, i.n + 1, "fmt", "trailing comment not aligned with the neighbouring lines");
    }
  }
}

// ---------------------------------------------------------------------------

// Check one tree as a configuration of its own: its modules, the modules they
// call, and the backends of its root modules (keys must differ between them).
async function checkTree(dir, schema) {
  modules.clear();
  findings.length = 0;
  for (const m of moduleDirs(path.resolve(dir))) await loadModule(m);
  const all = [...modules.values()];
  const called = new Set(all.flatMap((m) => [...m.calls.values()].map((c) => c.target)).filter(Boolean));
  for (const mod of all) {
    for (const file of mod.files) if (file.body) checkFormat(file);
    if (mod.parseFailed) continue;
    checkDeclarations(mod);
    checkResources(mod, schema);
    checkPolicy(mod);
  }
  const roots = all.filter((m) => !called.has(m) && !m.parseFailed);
  checkBackends(roots);
  for (const mod of roots.filter(isProd)) checkProdDatabases(mod, rootLookup(mod), "");

  const position = (f) => {
    const m = /^(.*?)(?::(\d+))?(?::\d+)?: /.exec(f);
    return [m[1], Number(m[2] ?? 0)];
  };
  const unique = [...new Set(findings)].sort((a, b) => {
    const [fa, la] = position(a);
    const [fb, lb] = position(b);
    return fa === fb ? la - lb : fa < fb ? -1 : 1;
  });
  for (const f of unique) console.log(f);
  const files = all.reduce((n, m) => n + m.files.length, 0);
  console.log(`tf-check: ${dir}: ${files} files in ${all.length} modules, ${unique.length} finding${unique.length === 1 ? "" : "s"}`);
  return unique.length;
}

async function main() {
  const args = process.argv.slice(2);
  const dirs = args.length ? args : ["terraform"];
  for (const dir of dirs) {
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
      console.error(`tf-check: ${dir}: not a directory`);
      return 2;
    }
  }
  let schema;
  try {
    schema = JSON.parse(fs.readFileSync(schemaPath, "utf8"));
  } catch (err) {
    console.error(`tf-check: cannot read the provider schema ${schemaPath}: ${err.message}`);
    return 2;
  }
  let total = 0;
  for (const dir of dirs) total += await checkTree(dir, schema);
  if (dirs.length > 1) console.log(`tf-check: ${dirs.length} trees, ${total} finding${total === 1 ? "" : "s"}`);
  return total ? 1 : 0;
}

process.exitCode = await main();
