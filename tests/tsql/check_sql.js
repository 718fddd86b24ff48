#!/usr/bin/env node
'use strict';
// Offline checks of every T-SQL text dmvlog sends to SQL Server (see docs/sql-checks.md).
//
//   node tests/tsql/check_sql.js [--grammar] [--catalog] [--root DIR] [--catalog-file FILE] [--expect FILE]
//
// --grammar  assembles each collector's batch as the agent does (docs/design.md) and parses it with the T-SQL
//            grammar of antlr4ts-sql; also parses sql/agent/*.sql, every other .sql under sql/ and
//            schema/sqlserver/.
// --catalog  resolves every column reference to its DMV / catalog view / DMF and checks it exists, with the
//            declared type, on every SQL Server major version the query claims (tests/catalog/dmv_columns.json).
// (neither)  both.
// --root     the project to check (default: the repository holding this script); tests use small fixture roots.
// --expect   negative test: succeed only if the checks fail AND the output holds every line of FILE.
// Exit status: 0 clean, 1 findings, 2 the checker itself cannot run.
const fs = require('fs');
const path = require('path');

const args = process.argv.slice(2);
const opt = { grammar: false, catalog: false, root: path.resolve(__dirname, '..', '..'), catalogFile: null, expect: null };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--grammar') opt.grammar = true;
  else if (a === '--catalog') opt.catalog = true;
  else if (a === '--root') opt.root = path.resolve(args[++i]);
  else if (a === '--catalog-file') opt.catalogFile = path.resolve(args[++i]);
  else if (a === '--expect') opt.expect = path.resolve(args[++i]);
  else if (a === '-h' || a === '--help') { console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(2, 16).map((l) => l.replace(/^\/\/ ?/, '')).join('\n')); process.exit(0); }
  else { console.error(`check_sql: unknown argument ${a}`); process.exit(2); }
}
if (!opt.grammar && !opt.catalog) opt.grammar = opt.catalog = true;
if (!opt.catalogFile) opt.catalogFile = path.resolve(__dirname, '..', 'catalog', 'dmv_columns.json');

let P, B, Analyzer, normType, loadCatalog;
try {
  P = require('./lib/parser');
  B = require('./lib/batches');
  ({ Analyzer, normType } = require('./lib/resolve'));
  ({ loadCatalog } = require('./lib/catalog'));
} catch (e) {
  console.error(`check_sql: ${e.message}`);
  process.exit(2);
}

const root = opt.root;
const findings = [];
const lines = [];
function out(s) { lines.push(s); console.log(s); }
function report(severity, file, line, col, message) {
  findings.push({ severity, file, line, col, message });
  out(`${file}:${line}${col ? ':' + col : ''}: ${severity}: ${message}`);
}
const readRel = (rel) => fs.readFileSync(path.join(root, rel), 'utf8');
const exists = (rel) => fs.existsSync(path.join(root, rel));

const { decls, problems } = B.loadDeclarations(root);
for (const p of problems) report('error', p.file, p.line, p.column, p.message);

let catalog = null;
if (opt.catalog) {
  try {
    catalog = loadCatalog(opt.catalogFile);
    for (const p of catalog.problems) report('error', B.rel(root, opt.catalogFile), 1, 0, p);
  } catch (e) {
    report('error', path.basename(opt.catalogFile), 1, 0, `cannot read the catalog: ${e.message}`);
  }
}
const maxVersion = catalog ? catalog.maxVersion : 16;

const parseCache = new Map();
function parseQuery(rel) {
  if (!parseCache.has(rel)) parseCache.set(rel, P.parse(readRel(rel)));
  return parseCache.get(rel);
}

function variablesUsed(text) {
  // @name tokens outside comments and strings (the lexer knows where those are)
  const r = P.parse(text);
  const used = new Map();
  for (const t of r.tokens.getTokens()) {
    if (t.channel === 0 && /^@[^@]/.test(t.text || '')) {
      const k = t.text.slice(1).toLowerCase();
      if (!used.has(k)) used.set(k, { name: t.text, line: t.line, col: t.charPositionInLine + 1 });
    }
  }
  return used;
}

// ---------------------------------------------------------------------------------------------------------
const referenced = new Set();
let batches = 0, queries = 0;

function grammarBatch(tag, query, queryRel, extra) {
  const batch = B.assembleBatch({ tag, query, ...extra });
  const r = P.parse(batch.text);
  batches++;
  if (r.errors.length) {
    const e = r.errors[0];
    const more = r.errors.length > 1 ? ` (+${r.errors.length - 1} follow-on)` : '';
    const msg = /^syntax error/.test(e.message) ? e.message : `syntax error: ${e.message}`;
    if (e.line > batch.prefixLines) {
      report('error', queryRel, e.line - batch.prefixLines, e.column, `${msg}${more} [batch /* dmvlog:${tag} */]`);
    } else {
      report('error', queryRel, 0, 0, `syntax error in the lines the agent puts before the query (batch line ${e.line}:${e.column}: ${msg}) [batch /* dmvlog:${tag} */]\n${batch.text.split('\n').slice(0, batch.prefixLines).join('\n')}`);
    }
  }
  return r;
}

for (const d of decls) {
  const files = B.filesByVersion(d, maxVersion);
  const collectorNames = new Set();
  for (const c of d.collectors) {
    if (!c.name) report('error', d.file, 1, 0, '[[collector]] without a name');
    else if (collectorNames.has(c.name)) report('error', d.file, 1, 0, `collector name '${c.name}' is used twice`);
    collectorNames.add(c.name);
    for (const [k, v] of Object.entries(c.params)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) report('error', d.file, 1, 0, `collector ${c.name}: parameter name '${k}' is not an identifier`);
      if (!Number.isInteger(v)) report('error', d.file, 1, 0, `collector ${c.name}: parameter ${k} = ${JSON.stringify(v)} is not an integer (only integers are put into SQL)`);
    }
  }
  for (const f of files) {
    const rel = `sql/collectors/${f.sql}`;
    referenced.add(rel);
    if (!exists(rel)) { report('error', d.file, 1, 0, `sql file ${rel} does not exist`); continue; }
    if (!f.versions.length) report('warning', d.file, 1, 0, `${rel} runs on no version between min_version ${d.min_version} and ${maxVersion}`);
    const text = readRel(rel);
    if (opt.grammar) {
      for (const c of d.collectors) {
        if (!c.name) continue;
        const bound = c.bound_params || [];
        grammarBatch(c.name, text, rel, { params: c.params, runtimeParams: c.runtime_params, boundParams: bound, scope: d.scope });
        queries++;
        const used = variablesUsed(text);
        const declared = new Set([...Object.keys(c.params), ...c.runtime_params, ...bound.map((b) => b.name)].map((x) => x.toLowerCase()));
        for (const [k, u] of used) {
          if (!declared.has(k)) report('error', rel, u.line, u.col, `${u.name} is not declared: collector ${c.name} (${d.file}) declares ${[...declared].map((x) => '@' + x).join(', ') || 'no params'} (SQL Server: "Must declare the scalar variable")`);
        }
        for (const k of declared) if (!used.has(k)) report('warning', d.file, 1, 0, `collector ${c.name}: @${k} is declared but ${rel} does not use it`);
      }
    }
    if (opt.catalog && catalog) catalogCheck(rel, f.versions, d);
  }
}

for (const rel of B.listFiles(path.join(root, 'sql', 'agent'), '.sql').map((f) => B.rel(root, f))) {
  referenced.add(rel);
  const tag = path.basename(rel, '.sql');
  const text = readRel(rel);
  if (opt.grammar) grammarBatch(tag, text, rel, {});
  const used = opt.grammar ? variablesUsed(text) : new Map();
  for (const [, u] of used) report('error', rel, u.line, u.col, `${u.name}: agent queries are sent without a DECLARE line`);
  if (opt.catalog && catalog) {
    const vs = [];
    for (let v = B.AGENT_MIN_VERSION; v <= maxVersion; v++) vs.push(v);
    catalogCheck(rel, vs, null);
  }
}

if (opt.grammar) {
  const others = [...B.listFiles(path.join(root, 'sql'), '.sql'), ...B.listFiles(path.join(root, 'schema', 'sqlserver'), '.sql')]
    .map((f) => B.rel(root, f)).filter((rel) => !referenced.has(rel))
    // sql/analysis/ holds the store's own queries (SQLite/PostgreSQL, answered by `dmvlog query`): they are
    // never sent to SQL Server, so they are not T-SQL.
    .filter((rel) => !rel.startsWith('sql/analysis/'));
  for (const rel of others) {
    if (rel.startsWith('sql/collectors/')) report('warning', rel, 0, 0, 'no collectors/*.toml declaration uses this file');
    const r = P.parse(readRel(rel));
    batches++;
    if (r.errors.length) report('error', rel, r.errors[0].line, r.errors[0].column, /^syntax error/.test(r.errors[0].message) ? r.errors[0].message : `syntax error: ${r.errors[0].message}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
function catalogCheck(rel, versions, decl) {
  if (!versions.length) return;
  const r = parseQuery(rel);
  if (r.errors.length) {
    report('error', rel, r.errors[0].line, r.errors[0].column, `not checked against the catalog: syntax error (${r.errors[0].message})`);
    return;
  }
  const ctx = {
    versions,
    catalog,
    report: (sev, line, col, msg) => report(sev, rel, line, col, msg),
  };
  const an = new Analyzer(ctx);
  const result = an.analyzeFile(r.tree);
  if (!decl) return;
  const where = decl.file;
  if (!result) { report('error', rel, 1, 0, `returns no result set, but ${where} declares ${decl.columns.length} columns`); return; }
  const outs = result.columns;
  const byName = new Map();
  for (const c of outs) {
    if (!c.name) { report('error', rel, P.startLine(c.node), P.startCol(c.node), `result column '${P.sourceText(c.node).slice(0, 60)}' has no name: give it the declared name with AS`); continue; }
    const k = c.name.toLowerCase();
    if (byName.has(k)) report('error', rel, P.startLine(c.node), P.startCol(c.node), `the query returns '${c.name}' twice`);
    byName.set(k, c);
  }
  const declared = new Set();
  for (const dc of decl.columns) {
    declared.add(dc.name.toLowerCase());
    const o = byName.get(dc.name.toLowerCase());
    if (!o) {
      if (decl.scope === 'database' && ['database_id', 'database_name'].includes(dc.name.toLowerCase())) continue;
      report('error', rel, P.startLine(result.node), 0, `${where} declares column '${dc.name}' but the query does not return it`);
      continue;
    }
    const have = normType(o.origin && o.origin.type);
    const want = normType(dc.type);
    if (have && want && have !== 'xml' && have !== want) {
      const from = o.origin.object ? `${o.origin.object}.${o.origin.column} is ${o.origin.type}` :
        o.origin.cast ? `the query casts it to ${o.origin.type}` : `${o.origin.func}() returns ${o.origin.type}`;
      report('error', rel, P.startLine(o.node), P.startCol(o.node), `column '${dc.name}' is declared ${dc.type} in ${where} but ${from}`);
    }
  }
  for (const [k, o] of byName) {
    if (!declared.has(k)) report('warning', rel, P.startLine(o.node), P.startCol(o.node), `the query returns '${o.name}', which ${where} does not declare`);
  }
  if (decl.scope === 'database') {
    for (const k of ['database_id', 'database_name']) if (byName.has(k)) report('warning', rel, P.startLine(byName.get(k).node), 0, `scope = "database": the agent adds ${k} to every row; the query should not return it`);
  }
}

// ---------------------------------------------------------------------------------------------------------
const errors = findings.filter((f) => f.severity === 'error').length;
const warnings = findings.length - errors;
const what = [opt.grammar && `${batches} batches parsed`, opt.catalog && `${decls.length} declarations checked against ${catalog ? Object.keys(catalog.objects).length : 0} catalog objects`].filter(Boolean).join(', ');
out(`check_sql: ${what}; ${errors} error(s), ${warnings} warning(s)`);

if (opt.expect) {
  const want = fs.readFileSync(opt.expect, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const text = lines.join('\n');
  const missing = want.filter((w) => !text.includes(w));
  if (!errors) { console.log('EXPECTED FAILURE DID NOT HAPPEN: the checks passed'); process.exit(1); }
  if (missing.length) { console.log(`EXPECTED MESSAGE NOT FOUND:\n  ${missing.join('\n  ')}`); process.exit(1); }
  console.log(`ok: the checks failed as expected (${want.length} expected message(s) found)`);
  process.exit(0);
}
process.exit(errors ? 1 : 0);
