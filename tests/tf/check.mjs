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
//   launch-hook           Auto Scaling group without a launch lifecycle hook (default ABANDON)
//                         that the host completes once /api/health answers
//   health-readiness      target group health check that does not reach the pool (/api/...)
//   nlb-tls               443 listener that is not TLS with an ACM certificate
//   asg-refresh           instance_refresh in Terraform, or launch_template not left to the deploy
//   user-data-release     release version in a launch template's user data
//   alarm-missing-data    alarm treating missing data as notBreaching
//   ssm-scope             AmazonSSMManagedInstanceCore, or SSM parameter reads on "*"
//   rds-final-snapshot    final snapshot name that is not unique per instance
//   prod-ami              prod launch template following the newest AMI
//   prod-alarm-recipient  prod alarms without a guaranteed subscription
//   prod-backup           prod database without an AWS Backup selection
//   first-apply           environment whose Auto Scaling group cannot start empty
//   env-drift             envs/* roots with different variables, outputs or module calls,
//                         or resources of their own
//   env-common            the same literal passed by every envs/* root (a default of the
//                         module), or an output per module output instead of one object
// Issue 22 (the first apply and the first month):
//   asg-capacity-wait     hooked Auto Scaling group without wait_for_capacity_timeout = "0"
//   launch-hook-resource  the launch hook not also an aws_autoscaling_lifecycle_hook
//   scaling-metric        scaling without target tracking on BusyWorkersPercent
//   cognito-email         user pool mailing with COGNITO_DEFAULT, or without bot resistance
//   cognito-region        Cognito URL from the provider's region where a pool id is passed in
//   deployer-tag-on-launch RunInstances without tag-on-create or DescribeLaunchTemplates
//   event-notifications   database or backup vault without events to the alarm topic
//   backup-window         AWS Backup rule starting inside the RDS backup/maintenance window
//   rds-apply-immediately aws_db_instance without apply_immediately
//   db-connections        no connection budget check, or an environment over its budget
//   dns-overwrite         alias record without an allow_overwrite decision
//   rds-credit-alarm      alarm on RDS CPUCreditBalance (fires at creation in unlimited mode)
//   az-input              zones sliced from aws_availability_zones
//   provider-pin          child module pinning other than >=, root other than exactly
//   module-path           child module reaching files through path.root
// Issue 24:
//   retention-doc         docs/terraform.md's Retention table differs from Terraform

import { parse } from "@cdktf/hcl2json";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const schemaPath =
  process.env.EASYSKS_TF_SCHEMA ??
  path.resolve(repoRoot, "../shared/data/terraform/aws-provider-schema.json");

const UNRESOLVED = Symbol("unresolved");
// A root variable without a default: whoever applies must pass a value.
const REQUIRED = Symbol("required");
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

// Value of an expression that is a literal, null, a chain of plain `var.x`
// references, or `var.c ? A : B` of those; `lookup(name)` resolves a
// variable of the module. A ternary whose condition cannot be resolved
// yields { either: [a, b] }.
function resolve(value, lookup) {
  if (value === null) return null;
  if (typeof value === "boolean" || typeof value === "number") return value;
  if (typeof value !== "string") return UNRESOLVED;
  const m = /^\$\{\s*var\.([\w-]+)\s*\}$/.exec(value);
  if (m) return lookup(m[1]);
  const l = /^\$\{\s*local\.([\w-]+)\s*\}$/.exec(value);
  if (l) {
    const local = lookup.mod?.locals.get(l[1]);
    return local ? resolve(local.value, lookup) : UNRESOLVED;
  }
  const n = /^\$\{\s*var\.([\w-]+)\s*(==|!=)\s*null\s*\}$/.exec(value);
  if (n) {
    const v = lookup(n[1]);
    // An input without default is given a value by whoever applies.
    if (v === UNRESOLVED) return UNRESOLVED;
    const isNull = possible(v);
    if (isNull.every((x) => x === null)) return n[2] === "==";
    if (!isNull.some((x) => x === null)) return n[2] === "!=";
    return UNRESOLVED;
  }
  const t = /^\$\{\s*([^?{}"]+?)\s*\?\s*([^:{}"]+?)\s*:\s*([^:{}"]+?)\s*\}$/.exec(value);
  if (t) {
    const term = (x) => {
      if (x === "null") return null;
      if (x === "true" || x === "false") return x === "true";
      if (/^-?\d+(\.\d+)?$/.test(x)) return Number(x);
      return resolve(`\${${x}}`, lookup);
    };
    const cond = term(t[1]);
    if (cond === true) return term(t[2]);
    if (cond === false) return term(t[3]);
    return { either: [term(t[2]), term(t[3])] };
  }
  return isLiteralString(value) ? value : UNRESOLVED;
}

// Every value an expression resolved by resolve() may take.
const possible = (v) => (isObject(v) && Array.isArray(v.either) ? v.either.flatMap(possible) : [v]);

function defaultsLookup(mod) {
  const fn = (name) => {
    const v = mod.variables.get(name);
    if (!v) return UNRESOLVED;
    if (!("default" in v.body)) return REQUIRED;
    return v.body.default === null ? null : resolve(v.body.default, () => UNRESOLVED);
  };
  fn.mod = mod;
  return fn;
}

function rootLookup(mod) {
  const defaults = defaultsLookup(mod);
  const fn = (name) => (name in mod.tfvars ? resolve(mod.tfvars[name], () => UNRESOLVED) : defaults(name));
  fn.mod = mod;
  return fn;
}

function callLookup(call, parentLookup) {
  const defaults = defaultsLookup(call.target);
  const fn = (name) => (name in call.body ? resolve(call.body[name], parentLookup) : defaults(name));
  fn.mod = call.target;
  return fn;
}

// Call fn(mod, lookup, trail) for a root and every module it calls, with the
// values that arrive there.
function walkTree(mod, lookup, fn, trail = "") {
  fn(mod, lookup, trail);
  for (const call of mod.calls.values()) {
    if (call.target && !call.target.parseFailed) walkTree(call.target, callLookup(call, lookup), fn, `${trail}module.${call.name}.`);
  }
}

// How many instances a resource has: 1 without count, the resolved count,
// or UNRESOLVED.
function countOf(r, lookup) {
  if (!("count" in r.body)) return 1;
  const v = possible(resolve(r.body.count, lookup));
  return v.length === 1 && typeof v[0] === "number" ? v[0] : UNRESOLVED;
}

// Resources of `type` pointing at aws_s3_bucket.<name>, directly or by
// iterating over it (for_each = aws_s3_bucket.x, bucket = each.value.id).
function bucketCompanions(mod, type, bucketName) {
  const re = new RegExp(`\\baws_s3_bucket\\.${escapeRe(bucketName)}(?![\\w-])`);
  const points = (body) => typeof body.bucket === "string" &&
    (re.test(body.bucket) || (/\beach\.value\b/.test(body.bucket) && re.test(String(body.for_each))));
  return [...mod.resources.values()].filter((r) => r.type === type && points(r.body));
}

// The values each.value takes when for_each is a literal map in a local
// (for_each = local.listeners); [undefined] otherwise.
function eachValues(body, mod) {
  const m = /^\$\{\s*local\.([\w-]+)\s*\}$/.exec(String(body.for_each ?? ""));
  const value = m ? mod.locals.get(m[1])?.value : undefined;
  return isObject(value) ? Object.values(value) : [undefined];
}

// resolve(), plus each.value and each.value.<key> against one entry.
function resolveEach(expr, entry, lookup) {
  const m = /^\$\{\s*each\.value(?:\.([\w-]+))?\s*\}$/.exec(String(expr ?? ""));
  if (m && entry !== undefined) {
    const v = m[1] ? (isObject(entry) ? entry[m[1]] : undefined) : entry;
    return v === undefined ? UNRESOLVED : resolve(v, lookup);
  }
  return resolve(expr, lookup);
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
        if ("final_snapshot_identifier" in body && !/(timestamp\(|random_|uuid\()/.test(String(body.final_snapshot_identifier))) {
          report(file.rel, at("final_snapshot_identifier"), "rds-final-snapshot", `${label}: final_snapshot_identifier must be unique per instance (e.g. with plantimestamp(), kept by ignore_changes): a fixed name collides with an earlier final snapshot and the destroy fails`);
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
      case "aws_autoscaling_group": {
        if (!body.tag && !body.dynamic?.tag) report(file.rel, at(), "asg-tags", `${label}: needs tag blocks with propagate_at_launch (ASGs ignore default_tags)`);
        const hook = (body.initial_lifecycle_hook ?? []).find((h) => h.lifecycle_transition === "autoscaling:EC2_INSTANCE_LAUNCHING");
        if (!hook || resolve(hook.default_result, lookup) !== "ABANDON") {
          report(file.rel, at("initial_lifecycle_hook"), "launch-hook", `${label}: needs an initial_lifecycle_hook on EC2_INSTANCE_LAUNCHING with default_result = "ABANDON", completed by the host once it is ready (a host that never gets ready must not count as launched)`);
        }
        if (body.instance_refresh) {
          report(file.rel, at("instance_refresh"), "asg-refresh", `${label}: Terraform must not start instance refreshes: it switches the launch template first, so an automatic rollback returns to the same version; roll with deploy/aws/roll.sh (desired configuration)`);
        }
        const ignored = String(body.lifecycle?.[0]?.ignore_changes ?? "");
        if (!/\blaunch_template\b/.test(ignored)) {
          report(file.rel, at("launch_template"), "asg-refresh", `${label}: lifecycle { ignore_changes = [launch_template] }: the deploy (roll.sh --launch-template) owns the version the hosts run`);
        }
        break;
      }
      case "aws_lb_listener":
        for (const entry of eachValues(body, mod)) {
          const port = resolveEach(body.port, entry, lookup);
          if (port !== 443 && port !== "443") continue;
          if (resolveEach(body.protocol, entry, lookup) !== "TLS" || !("certificate_arn" in body)) {
            report(file.rel, at("protocol"), "nlb-tls", `${label}: 443 must be a TLS listener with an ACM certificate_arn (renewed by AWS); TCP passthrough leaves the certificate to the hosts`);
          }
        }
        break;
      case "aws_lb_target_group":
      case "aws_lb_target_group_health_check": {
        const hc = body.health_check?.[0];
        const path = hc ? resolve(hc.path, lookup) : UNRESOLVED;
        const usesLocal = hc && typeof hc.path === "string" && /^\$\{\s*local\.[\w-]+\s*\}$/.test(hc.path);
        const localValue = usesLocal ? mod.locals.get(hc.path.replace(/^\$\{\s*local\.|\s*\}$/g, ""))?.value : undefined;
        const effective = typeof path === "string" ? path : localValue;
        if (!hc || typeof effective !== "string" || !effective.startsWith("/api/")) {
          report(file.rel, at("health_check"), "health-readiness", `${label}: health_check.path must reach the worker pool (/api/health: database and schema), not nginx's own /health`);
        }
        break;
      }
      case "aws_launch_template":
        break;
      case "aws_cloudwatch_metric_alarm":
        if (possible(resolve(body.treat_missing_data, lookup)).includes("notBreaching")) {
          report(file.rel, at("treat_missing_data"), "alarm-missing-data", `${label}: treat_missing_data = "notBreaching" hides hosts or log shipping that stopped; use "breaching" or "missing"`);
        }
        break;
      case "aws_iam_role_policy_attachment":
      case "aws_iam_policy_attachment":
        if (/AmazonSSMManagedInstanceCore/.test(String(body.policy_arn ?? ""))) {
          report(file.rel, at("policy_arn"), "ssm-scope", `${label}: AmazonSSMManagedInstanceCore grants ssm:GetParameter* on every parameter; grant the agent's actions and the environment's parameters only`);
        }
        break;
    }
    checkResource22(r, mod, lookup, label, at);
    // The launch template's user data must not carry the release: every
    // release would create a template version and roll the whole fleet.
    if (r.type === "aws_launch_template" && /(\brelease_version\s*=|var\.release_version\b)/.test(String(body.user_data ?? ""))) {
      report(file.rel, at("user_data"), "user-data-release", `${label}: user_data carries a release version; hosts read the release from the SSM parameter at boot`);
    }
  }
  for (const d of mod.data.values()) {
    if (d.type !== "aws_iam_policy_document") continue;
    const statements = [...(d.body.statement ?? []), ...(d.body.dynamic?.statement ?? []).flatMap((dyn) => dyn.content ?? [])];
    for (const st of statements) {
      const actions = (Array.isArray(st.actions) ? st.actions : []).map(String);
      const resources = Array.isArray(st.resources) ? st.resources.map(String) : [String(st.resources ?? "")];
      if (actions.some((a) => /^ssm:(GetParameter|GetParameters|GetParametersByPath|GetParameter\*|\*)$/.test(a)) && resources.includes("*")) {
        report(d.file.rel, argLine(d.file.text, d.offset, "resources"), "ssm-scope", `data.${d.type}.${d.name}: SSM parameter reads on "*"; scope them to the environment's parameters`);
      }
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

const describe = (v) =>
  v === UNRESOLVED ? "not resolvable to a constant" : v === REQUIRED ? "an input without default" : isObject(v) ? "conditional" : String(v ?? "unset");

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
      if (v !== true) report(r.file.rel, at, "prod-rds", `${label}: ${key} is ${describe(v)} in prod (must be true)`);
    }
    const days = value("backup_retention_period");
    if (typeof days !== "number" || days < 7) {
      report(r.file.rel, at, "prod-rds", `${label}: backup_retention_period is ${describe(days)} in prod (must be >= 7)`);
    }
  }
  for (const call of mod.calls.values()) {
    if (call.target && !call.target.parseFailed) checkProdDatabases(call.target, callLookup(call, lookup), `${trail}module.${call.name}.`);
  }
}

// What a prod root must hold wherever its modules put it: a pinned AMI, a
// recipient for its alarms and an AWS Backup selection of its database.
function checkProdTree(root) {
  const templates = [];
  const amiInputs = [];
  const subscriptions = [];
  let topics = 0;
  let backupSelections = 0;
  let databases = 0;
  walkTree(root, rootLookup(root), (mod, lookup, trail) => {
    if (mod.variables.has("ami_id")) amiInputs.push({ mod, value: lookup("ami_id"), trail });
    for (const r of mod.resources.values()) {
      const n = countOf(r, lookup);
      if (n === 0) continue;
      if (r.type === "aws_launch_template") templates.push({ r, mod, trail });
      if (r.type === "aws_sns_topic") topics++;
      if (r.type === "aws_sns_topic_subscription") subscriptions.push({ r, lookup, n, trail });
      if (r.type === "aws_backup_selection") backupSelections++;
      if (r.type === "aws_db_instance") databases++;
    }
  });
  const at = (r) => argLine(r.file.text, r.offset);
  // A root input ami_id without default is pinned by whoever applies; a
  // null default (or a template reading data.aws_ami without any ami_id
  // input on the way) follows the newest image.
  for (const { r } of templates) {
    if (!amiInputs.length && /data\.aws_ami\./.test(String(r.body.image_id))) {
      report(r.file.rel, argLine(r.file.text, r.offset, "image_id"), "prod-ami", `${r.type}.${r.name}: prod follows the newest AMI (data.aws_ami); pin it with an ami_id input`);
    }
  }
  if (templates.length) {
    for (const { mod, value, trail } of amiInputs) {
      if (possible(value).some((v) => v === null)) {
        const v = mod.variables.get("ami_id");
        report(v.file.rel, argLine(v.file.text, v.offset), "prod-ami", `${trail}var.ami_id can be null in prod: a new Debian image would change the hosts on the next apply; pin it (no null default)`);
      }
    }
  }
  if (topics) {
    const reaching = subscriptions.filter(({ r, lookup, n }) => {
      const endpoint = possible(resolve(r.body.endpoint, lookup));
      return n !== UNRESOLVED && !endpoint.some((v) => v === null);
    });
    if (!reaching.length) {
      const where = subscriptions[0]?.r;
      report(where ? where.file.rel : root.rel, where ? at(where) : 0, "prod-alarm-recipient",
        `prod alarms have no guaranteed recipient: every aws_sns_topic_subscription can be absent or have a null endpoint (make the alarm e-mail a required input)`);
    }
  }
  if (databases && !backupSelections) {
    report(root.rel, 0, "prod-backup", `prod database without an AWS Backup selection (automated backups alone vanish with the instance)`);
  }
}

// Until a release is published there is nothing for hosts to run: every
// environment root must be able to create its Auto Scaling group empty.
function checkFirstApply(root) {
  walkTree(root, defaultsLookup(root), (mod, lookup, trail) => {
    for (const r of mod.resources.values()) {
      if (r.type !== "aws_autoscaling_group") continue;
      const values = possible(resolve(r.body.min_size, lookup));
      if (!values.some((v) => v === 0 || v === REQUIRED)) {
        report(r.file.rel, argLine(r.file.text, r.offset, "min_size"), "first-apply",
          `${trail}${r.type}.${r.name}: min_size cannot be 0, so the first apply launches hosts before any release or secret exists and they churn; gate it (hosts_enabled)`);
      }
    }
  });
}

// envs/<env> roots are thin: the same variables and outputs, no resources
// of their own, the same modules called. What differs is values.
function checkEnvDrift(roots) {
  const envs = roots.filter(isEnvRoot);
  if (envs.length < 2) return;
  const shape = (mod) => ({
    variables: [...mod.variables.keys()].sort().join(","),
    outputs: [...mod.outputs.keys()].sort().join(","),
    calls: [...mod.calls.values()].map((c) => `${c.name}=${c.body.source}`).sort().join(","),
  });
  const [first, ...rest] = envs;
  const want = shape(first);
  for (const mod of envs) {
    if (mod.calls.size > 1) {
      report(mod.rel, 0, "env-drift", `${mod.rel} wires ${mod.calls.size} modules itself; call the one shared stack module with this environment's values`);
    }
    for (const r of [...mod.resources.values(), ...mod.data.values()]) {
      report(r.file.rel, argLine(r.file.text, r.offset), "env-drift", `${mod.rel}: ${r.type}.${r.name} belongs in the shared stack module, not in one environment`);
    }
  }
  for (const mod of rest) {
    const got = shape(mod);
    for (const key of ["variables", "outputs", "calls"]) {
      if (got[key] !== want[key]) {
        const a = new Set(want[key].split(",")), b = new Set(got[key].split(","));
        const diff = [...[...a].filter((x) => !b.has(x)).map((x) => `-${x}`), ...[...b].filter((x) => !a.has(x)).map((x) => `+${x}`)];
        report(mod.rel, 0, "env-drift", `${key} differ from ${first.rel}: ${diff.join(" ")}`);
      }
    }
  }
}

// What every environment passes alike is no difference between them: it is
// the module's default. An env root re-declaring the module's outputs one by
// one repeats them; it exports the module as one object.
function checkEnvCommon(roots) {
  const envs = roots.filter(isEnvRoot);
  if (envs.length < 2) return;
  const [first, ...rest] = envs;
  for (const call of first.calls.values()) {
    const others = rest.map((m) => m.calls.get(call.name));
    if (others.some((c) => !c)) continue;
    for (const [key, value] of Object.entries(call.body)) {
      if (MODULE_META_ARGS.has(key)) continue;
      if ([...strings(value)].some((s) => interpolations(s).length)) continue;
      const json = JSON.stringify(value);
      if (others.every((c) => key in c.body && JSON.stringify(c.body[key]) === json)) {
        report(call.file.rel, argLine(call.file.text, call.offset, key), "env-common",
          `module "${call.name}": ${key} = ${json} in every environment; make it the default in ${call.body.source}`);
      }
    }
  }
  for (const mod of envs) {
    for (const o of mod.outputs.values()) {
      if (/^\$\{\s*module\.[\w-]+\.[\w-]+\s*\}$/.test(String(o.body.value))) {
        report(o.file.rel, argLine(o.file.text, o.offset), "env-common",
          `output "${o.name}" re-exports one module output; export the module as one object (value = module.<name>)`);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// The first apply and the first month in production (issue 22).

const resourcesOf = (mods, type) => mods.flatMap((m) => [...m.resources.values()].filter((r) => r.type === type).map((r) => ({ ...r, mod: m })));
const statementsOf = (d) => [...(d.body.statement ?? []), ...(d.body.dynamic?.statement ?? []).flatMap((dyn) => dyn.content ?? [])];
const listOf = (v) => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);

// Minutes since midnight of "HH:MM" (a day prefix "sun:" is dropped).
const minutes = (hhmm) => {
  const m = /(\d{2}):(\d{2})$/.exec(hhmm);
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
};
// [start, end) minute intervals of "A-B" windows, wrapping midnight.
function windowOf(value) {
  const [a, b] = String(value).split("-");
  const s = minutes(a), e = minutes(b);
  if (Number.isNaN(s) || Number.isNaN(e)) return [];
  return e > s ? [[s, e]] : [[s, 1440], [0, e]];
}
const overlaps = (x, y) => x.some(([a, b]) => y.some(([c, d]) => a < d && c < b));

// One resource, from checkPolicy's loop.
function checkResource22(r, mod, lookup, label, at) {
  const { type, body, file } = r;
  switch (type) {
    case "aws_autoscaling_group": {
      const hook = (body.initial_lifecycle_hook ?? []).find((h) => h.lifecycle_transition === "autoscaling:EC2_INSTANCE_LAUNCHING");
      if (hook && resolve(body.wait_for_capacity_timeout, lookup) !== "0") {
        report(file.rel, at("wait_for_capacity_timeout"), "asg-capacity-wait", `${label}: wait_for_capacity_timeout = "0": hosts wait in Pending:Wait on the launch hook until migrations ran after the apply, and the provider's default 10-minute wait fails the apply`);
      }
      if (hook) {
        const hookName = resolve(hook.name, lookup);
        const standalone = [...mod.resources.values()].some((h) => h.type === "aws_autoscaling_lifecycle_hook" && resolve(h.body.name, lookup) === hookName && "heartbeat_timeout" in h.body);
        if (!standalone) {
          report(file.rel, at("initial_lifecycle_hook"), "launch-hook-resource", `${label}: the launch hook also as aws_autoscaling_lifecycle_hook (same name, heartbeat_timeout): the inline block is applied at creation only, so its timeout could never change`);
        }
      }
      const policies = [...mod.resources.values()].filter((p) => p.type === "aws_autoscaling_policy");
      const busy = policies.some((p) => p.body.target_tracking_configuration?.[0]?.customized_metric_specification?.[0]?.metric_name === "BusyWorkersPercent");
      if (policies.length && !busy) {
        report(file.rel, at(), "scaling-metric", `${label}: no target tracking on BusyWorkersPercent: the pool's workers fill up at about 15 % CPU, so a CPU target never scales (docs/capacity.md)`);
      }
      break;
    }
    case "aws_cognito_user_pool": {
      const email = body.email_configuration?.[0];
      if (!email || resolve(email.email_sending_account, lookup) !== "DEVELOPER" || !email.source_arn || !email.from_email_address) {
        report(file.rel, at("email_configuration"), "cognito-email", `${label}: email_configuration must send through SES (email_sending_account = "DEVELOPER", source_arn, from_email_address): Cognito's default mailer sends 50 messages a day`);
      }
      if (!("user_pool_add_ons" in body) && !body.dynamic?.user_pool_add_ons) {
        report(file.rel, at(), "cognito-email", `${label}: self sign-up is open without bot resistance (user_pool_add_ons: threat protection)`);
      }
      break;
    }
    case "aws_db_instance":
      if (!("apply_immediately" in body)) {
        report(file.rel, at(), "rds-apply-immediately", `${label}: expose apply_immediately (a variable): without it every change waits for the maintenance window`);
      }
      break;
    case "aws_cloudwatch_metric_alarm":
      if (resolve(body.namespace, lookup) === "AWS/RDS" && resolve(body.metric_name, lookup) === "CPUCreditBalance") {
        report(file.rel, at("metric_name"), "rds-credit-alarm", `${label}: RDS runs burstable classes unlimited, the balance starts at 0 and the alarm fires at creation; alarm on CPUSurplusCreditsCharged`);
      }
      break;
    case "aws_route53_record":
      if (body.alias && !("allow_overwrite" in body)) {
        report(file.rel, at(), "dns-overwrite", `${label}: decide allow_overwrite for the alias record (false: an existing record at the name fails the apply instead of being replaced silently)`);
      }
      break;
  }
}

function checkModule22(mod) {
  // Strings: the pool's region from data.aws_region, a module reaching out
  // through path.root, zones sliced from the currently available ones.
  const isCalled = mod.calledBy > 0;
  const scan = (value, file, offset) => {
    for (const s of strings(value)) {
      if (/cognito-idp\.\$\{data\.aws_region\./.test(s) && mod.variables.has("existing_user_pool_id")) {
        report(file.rel, argLine(file.text, offset), "cognito-region", `a Cognito URL from the provider's region: an existing pool's region is in its id (<region>_...)`);
      }
      if (isCalled && /\bpath\.root\b/.test(s)) {
        report(file.rel, argLine(file.text, offset), "module-path", `a child module reaching files through path.root: take the path as an input`);
      }
      if (/slice\(\s*data\.aws_availability_zones\./.test(s)) {
        report(file.rel, argLine(file.text, offset), "az-input", `availability zones sliced from a data source shift when a zone is impaired (subnets would move); pass the zones in`);
      }
    }
  };
  for (const l of mod.locals.values()) scan(l.value, l.file, l.offset);
  for (const r of [...mod.resources.values(), ...mod.data.values(), ...mod.calls.values()]) scan(r.body, r.file, r.offset);
  for (const o of mod.outputs.values()) scan(o.body, o.file, o.offset);
  // IAM: tag-on-create for RunInstances, the launch template lookups.
  for (const d of mod.data.values()) {
    if (d.type !== "aws_iam_policy_document") continue;
    const sts = statementsOf(d);
    const actions = sts.flatMap((st) => listOf(st.actions));
    if (!actions.includes("ec2:RunInstances")) continue;
    const tagOnCreate = sts.some((st) => listOf(st.actions).includes("ec2:CreateTags") &&
      (st.condition ?? []).some((c) => c.variable === "ec2:CreateAction" && listOf(c.values).includes("RunInstances")));
    if (!tagOnCreate || !actions.includes("ec2:DescribeLaunchTemplates")) {
      report(d.file.rel, argLine(d.file.text, d.offset), "deployer-tag-on-launch", `data.${d.type}.${d.name}: RunInstances needs ec2:CreateTags under ec2:CreateAction = RunInstances (tags on launch) and ec2:DescribeLaunchTemplates`);
    }
  }
  // Provider pins: child modules state minimums, roots pin exactly.
  for (const t of mod.terraform) {
    for (const [name, spec] of Object.entries(t.body.required_providers?.[0] ?? {})) {
      const version = String(spec?.version ?? "");
      const ok = isCalled ? /^>=\s*\d/.test(version) : /^=?\s*\d+\.\d+\.\d+$/.test(version);
      if (!ok) {
        report(t.file.rel, argLine(t.file.text, t.offset, "version"), "provider-pin",
          `${name} = "${version}": ${isCalled ? "a child module pins a minimum (>=)" : "a root pins the exact version (x.y.z) its lock file holds"}`);
      }
    }
  }
}

// Across one configuration (a root and what it calls): database and backup
// events reach the alarm topic, the backup plan keeps out of RDS's windows,
// and the connection budget is asserted.
function checkTree22(root) {
  const mods = [];
  walkTree(root, rootLookup(root), (mod) => { if (!mods.includes(mod)) mods.push(mod); });
  const dbs = resourcesOf(mods, "aws_db_instance");
  if (!dbs.length) return;
  const where = dbs[0];
  const at = argLine(where.file.text, where.offset);
  const hasTopic = resourcesOf(mods, "aws_sns_topic").length > 0;
  if (hasTopic && !resourcesOf(mods, "aws_db_event_subscription").length) {
    report(where.file.rel, at, "event-notifications", `${where.type}.${where.name}: no aws_db_event_subscription to the alarm topic (failover, failure, low storage are silent)`);
  }
  if (hasTopic && resourcesOf(mods, "aws_backup_vault").length && !resourcesOf(mods, "aws_backup_vault_notifications").length) {
    report(where.file.rel, at, "event-notifications", `aws_backup_vault without aws_backup_vault_notifications: a failed backup job is silent`);
  }
  for (const db of dbs) {
    const lookup = defaultsLookup(db.mod);
    const rds = [...windowOf(resolve(db.body.backup_window, lookup)), ...windowOf(String(resolve(db.body.maintenance_window, lookup)).replace(/[a-z]{3}:/g, ""))];
    for (const plan of resourcesOf([db.mod], "aws_backup_plan")) {
      for (const rule of plan.body.rule ?? []) {
        const m = /cron\((\d+) (\d+) /.exec(String(rule.schedule));
        if (!m) continue;
        const start = Number(m[2]) * 60 + Number(m[1]);
        const window = [[start, start + Number(rule.start_window ?? 60)]];
        if (overlaps(window, rds)) {
          report(plan.file.rel, argLine(plan.file.text, plan.offset, "schedule"), "backup-window",
            `aws_backup_plan.${plan.name} rule ${rule.rule_name}: starts within the RDS backup or maintenance window (${resolve(db.body.backup_window, lookup)}, ${resolve(db.body.maintenance_window, lookup)})`);
        }
      }
    }
  }
  // The connection budget: a `check` in the configuration, and the
  // grading processes' parallelism set by Terraform.
  const hasCheck = mods.some((m) => m.files.some((f) => f.body?.check && Object.keys(f.body.check).length));
  const setsParallel = mods.some((m) => [...m.locals.values()].some((l) => isObject(l.value) && "AI_JOBS_PARALLEL" in l.value));
  if (resourcesOf(mods, "aws_autoscaling_group").length && (!hasCheck || !setsParallel)) {
    report(where.file.rel, at, "db-connections", `no Terraform check that 2 x max hosts x (workers + AI_JOBS_PARALLEL) fits max_connections${setsParallel ? "" : ", and AI_JOBS_PARALLEL is not set from Terraform"}`);
  }
}

// The budget itself, per environment, with the values it passes.
function checkEnvConnections(root) {
  const call = [...root.calls.values()].find((c) => c.target && c.target.variables.has("max_instances") && c.target.locals.has("db_memory_gib"));
  if (!call) return;
  const lookup = callLookup(call, rootLookup(root));
  const num = (k) => possible(lookup(k)).find((v) => typeof v === "number");
  const cls = possible(lookup("db_instance_class")).find((v) => typeof v === "string");
  const memory = call.target.locals.get("db_memory_gib").value;
  const gib = isObject(memory) ? memory[cls] : undefined;
  const override = num("db_max_connections");
  const limit = override ?? (typeof gib === "number" ? Math.min(5000, Math.floor((gib - 0.3) * 1073741824 / 9531392)) : undefined);
  const [hosts, workers, jobs] = [num("max_instances"), num("worker_count"), num("ai_jobs_parallel")];
  const at = argLine(call.file.text, call.offset);
  if (limit === undefined) {
    report(call.file.rel, at, "db-connections", `${root.rel}: max_connections of ${cls ?? "the database class"} unknown (add it to db_memory_gib)`);
  } else if ([hosts, workers, jobs].every((v) => typeof v === "number") && 2 * hosts * (workers + jobs) + 10 > limit) {
    report(call.file.rel, at, "db-connections", `${root.rel}: 2 x ${hosts} hosts x (${workers} workers + ${jobs} grading) + 10 = ${2 * hosts * (workers + jobs) + 10} connections exceed max_connections ${limit} of ${cls}`);
  }
}

// Retention (issue 24): docs/terraform.md's "Retention" table states what each
// environment keeps; every row must match the values the environment roots
// pass (or the backup plan's rules), and every log group must keep its logs
// for the documented log_retention_days.
function checkRetentionDoc(treeDir, roots) {
  const envs = roots.filter(isEnvRoot);
  const doc = path.resolve(treeDir, "..", "docs", "terraform.md");
  if (!envs.length || path.basename(path.resolve(treeDir)) !== "terraform" || !fs.existsSync(doc)) return;
  const rel = path.relative(process.cwd(), doc);
  const lines = fs.readFileSync(doc, "utf8").split("\n");
  const start = lines.findIndex((l) => /^## Retention\s*$/.test(l));
  if (start < 0) {
    report(rel, 0, "retention-doc", `no "## Retention" section stating how long logs and backups are kept`);
    return;
  }
  const header = lines.slice(start).findIndex((l) => /^\|\s*data\s*\|\s*setting\s*\|/.test(l)) + start;
  const cols = lines[header].split("|").map((c) => c.trim());
  const rows = [];
  for (let i = header + 2; i < lines.length && lines[i].startsWith("|"); i++) {
    const cells = lines[i].split("|").map((c) => c.trim());
    const setting = /`([^`]+)`/.exec(cells[cols.indexOf("setting")] ?? "")?.[1];
    if (setting) rows.push({ line: i + 1, setting, cells });
  }
  const documented = new Set(rows.map((r) => r.setting));
  if (!documented.has("log_retention_days") || !documented.has("db_backup_retention_days")) {
    report(rel, start + 1, "retention-doc", `the Retention table must state log_retention_days and db_backup_retention_days`);
  }
  for (const root of envs) {
    const env = path.basename(root.dir);
    const col = cols.indexOf(env);
    const call = [...root.calls.values()].find((c) => c.target && !c.target.parseFailed);
    if (col < 0 || !call) {
      report(rel, header + 1, "retention-doc", `the Retention table has no column for ${env}`);
      continue;
    }
    const lookup = callLookup(call, rootLookup(root));
    const num = (v) => possible(v).find((x) => typeof x === "number" || typeof x === "boolean");
    // The backup plan's rules, where the environment has one.
    const plans = new Map();
    walkTree(call.target, lookup, (mod, lk) => {
      for (const r of mod.resources.values()) {
        if (r.type === "aws_backup_plan") {
          const n = countOf(r, lk);
          for (const rule of r.body.rule ?? []) plans.set(rule.rule_name, n === 0 ? null : rule.lifecycle?.[0]?.delete_after);
        }
        if (r.type === "aws_cloudwatch_log_group") {
          const days = num(resolve(r.body.retention_in_days, lk));
          const want = num(lookup("log_retention_days"));
          if (days !== want) {
            report(r.file.rel, argLine(r.file.text, r.offset, "retention_in_days"), "retention-doc",
              `${r.type}.${r.name} keeps ${days ?? "an unknown number of"} days in ${env}, not log_retention_days (${want}) as docs/terraform.md states`);
          }
        }
      }
    });
    for (const row of rows) {
      const cell = row.cells[col];
      const want = /^\d+$/.test(cell) ? Number(cell) : null;
      let got;
      const m = /^aws_backup_plan:(.+)$/.exec(row.setting);
      if (m) got = plans.has(m[1]) ? plans.get(m[1]) ?? null : undefined;
      else got = num(lookup(row.setting)) ?? undefined;
      if (got === undefined) {
        report(rel, row.line, "retention-doc", `${row.setting}: not found in ${root.rel}'s configuration`);
      } else if (got !== want) {
        report(rel, row.line, "retention-doc", `${row.setting}: the table says ${cell} for ${env}, Terraform has ${got ?? "none"}`);
      }
    }
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
  for (const mod of all) mod.calledBy = called.has(mod) ? 1 : 0;
  for (const mod of all) {
    for (const file of mod.files) if (file.body) checkFormat(file);
    if (mod.parseFailed) continue;
    checkDeclarations(mod);
    checkResources(mod, schema);
    checkPolicy(mod);
    checkModule22(mod);
  }
  const roots = all.filter((m) => !called.has(m) && !m.parseFailed);
  checkBackends(roots);
  for (const mod of roots.filter(isProd)) {
    checkProdDatabases(mod, rootLookup(mod), "");
    checkProdTree(mod);
  }
  for (const mod of roots.filter(isEnvRoot)) checkFirstApply(mod);
  checkEnvDrift(roots);
  checkEnvCommon(roots);
  for (const mod of roots) checkTree22(mod);
  for (const mod of roots.filter(isEnvRoot)) checkEnvConnections(mod);
  checkRetentionDoc(dir, roots);

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
