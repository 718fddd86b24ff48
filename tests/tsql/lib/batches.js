'use strict';
// What dmvlog sends to SQL Server, assembled as docs/design.md describes:
//
//   /* dmvlog:NAME */                                   tag, always
//   DECLARE @p int = 1, ...;                            only when the collector has params / runtime_params
//   USE [SomeDb];                                       only for scope = "database"
//   SELECT SYSUTCDATETIME() AS collected_at, ...;       the snapshot clock
//   <the query file, verbatim>
const fs = require('fs');
const path = require('path');
const TOML = require(path.join(__dirname, '..', 'node_modules', 'smol-toml'));

// The oldest SQL Server major version dmvlog supports (13 = SQL Server 2016); agent queries must run on it.
const AGENT_MIN_VERSION = 13;
const CLOCK = 'SELECT SYSUTCDATETIME() AS collected_at, DATEPART(TZOFFSET, SYSDATETIMEOFFSET()) AS utc_offset_minutes, ' +
  '(SELECT sqlserver_start_time FROM sys.dm_os_sys_info) AS sqlserver_start_time;';
const RUNTIME_PARAM_SAMPLE = 60000; // any integer: the agent computes it (e.g. @since_ms)
const FLAGS = new Set(['key', 'text', 'counter', 'utc']);

function rel(root, file) { return path.relative(root, file).split(path.sep).join('/'); }

function listFiles(dir, ext) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p, ext));
    else if (e.name.endsWith(ext)) out.push(p);
  }
  return out.sort();
}

// "name type [flags]" -> { name, type, flags }
function parseColumn(spec) {
  const parts = String(spec).trim().split(/\s+/);
  const name = parts.shift();
  const flags = [];
  while (parts.length > 1 && FLAGS.has(parts[parts.length - 1].toLowerCase())) flags.unshift(parts.pop().toLowerCase());
  return { name, type: parts.join(' '), flags };
}

// Reads collectors/*.toml. Returns { decls: [...], problems: [{file, line, message}] }.
function loadDeclarations(root) {
  const decls = [];
  const problems = [];
  for (const file of listFiles(path.join(root, 'collectors'), '.toml')) {
    const relFile = rel(root, file);
    let doc;
    try {
      doc = TOML.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      problems.push({ file: relFile, line: e.line || 1, column: e.column || 1, message: `TOML: ${e.message.split('\n')[0]}` });
      continue;
    }
    const need = (key) => {
      if (doc[key] === undefined) problems.push({ file: relFile, line: 1, message: `declaration has no '${key}'` });
      return doc[key];
    };
    const sql = need('sql');
    if (sql === undefined) continue;
    const scope = doc.scope || 'server';
    if (scope !== 'server' && scope !== 'database') problems.push({ file: relFile, line: 1, message: `scope must be "server" or "database", not "${scope}"` });
    const minVersion = doc.min_version !== undefined ? Number(doc.min_version) : AGENT_MIN_VERSION;
    const columns = (doc.columns || []).map(parseColumn);
    const topRuntime = doc.runtime_params || [];
    // bound_params = ["name type", ...]: bound through ODBC (`?`) per run (kind "xe_file")
    const bound = (doc.bound_params || []).map((b) => {
      const m = /^\s*(\w+)\s+(.+?)\s*$/.exec(String(b));
      if (!m) problems.push({ file: relFile, line: 1, message: `bound_params entry '${b}' is not "name type"` });
      return m ? { name: m[1], type: m[2] } : null;
    }).filter(Boolean);
    const collectors = (doc.collector || []).map((c) => ({
      name: c.name,
      params: c.params || {},
      runtime_params: [...topRuntime, ...(c.runtime_params || [])],
      bound_params: bound,
    }));
    if (!collectors.length) problems.push({ file: relFile, line: 1, message: 'declaration has no [[collector]]' });
    const variants = (doc.variants || []).map((v) => ({ sql: v.sql, max_version: v.max_version, min_version: v.min_version }));
    decls.push({ file: relFile, sql, scope, min_version: minVersion, columns, collectors, variants, raw: doc });
  }
  return { decls, problems };
}

// Which query file runs on which major version, per the design: the first variant whose range holds the
// version, the main sql otherwise. Returns [{ sql, versions: [..] }] (files that run on no version are kept
// with an empty list so that they are still parsed).
function filesByVersion(decl, maxVersion) {
  const map = new Map([[decl.sql, []]]);
  for (const v of decl.variants) if (!map.has(v.sql)) map.set(v.sql, []);
  for (let ver = decl.min_version; ver <= maxVersion; ver++) {
    const v = decl.variants.find((x) => (x.max_version === undefined || ver <= x.max_version) &&
      (x.min_version === undefined || ver >= x.min_version));
    map.get(v ? v.sql : decl.sql).push(ver);
  }
  return [...map.entries()].map(([sql, versions]) => ({ sql, versions }));
}

// Builds the batch for one collector and one query file. Returns { text, prefixLines }.
function assembleBatch({ tag, params = {}, runtimeParams = [], boundParams = [], scope = 'server', query }) {
  const lines = [`/* dmvlog:${tag} */`];
  const decl = [];
  for (const [k, v] of Object.entries(params)) decl.push(`@${k} int = ${Number.isInteger(v) ? v : 0}`);
  for (const k of runtimeParams) if (!(k in params)) decl.push(`@${k} int = ${RUNTIME_PARAM_SAMPLE}`);
  if (decl.length) lines.push(`DECLARE ${decl.join(', ')};`);
  // the agent sends `= ?` (an ODBC marker the driver turns into an RPC parameter); NULL stands for it here
  if (boundParams.length) lines.push(`DECLARE ${boundParams.map((b) => `@${b.name} ${b.type} = NULL`).join(', ')};`);
  if (scope === 'database') lines.push('USE [SomeDb];');
  lines.push(CLOCK);
  return { text: lines.join('\n') + '\n' + query, prefixLines: lines.length };
}

module.exports = { AGENT_MIN_VERSION, CLOCK, loadDeclarations, filesByVersion, assembleBatch, listFiles, rel, parseColumn };
