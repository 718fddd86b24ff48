'use strict';
// Resolves every column reference of a parsed query to the object it comes from, and checks it against the
// DMV catalog (tests/catalog/dmv_columns.json) for every SQL Server major version the query claims to run on.
//
// Scopes: each query_specification (SELECT ... FROM ... WHERE ... GROUP BY ... HAVING) is a scope whose sources
// are its FROM/JOIN/APPLY items: catalog objects (views and DMFs), CTEs, derived tables, XML .nodes() rowsets.
// A nested subquery sees its enclosing scopes (correlation). CTEs and derived tables are analysed first; their
// output columns (with where each came from) become the columns of the source.
const P = require('./parser');

const DATE_FUNCS = new Set(['DATEADD', 'DATEDIFF', 'DATEDIFF_BIG', 'DATEPART', 'DATENAME', 'DATETRUNC', 'DATE_BUCKET']);
const DATEPARTS = new Set(('year yy yyyy quarter qq q month mm m dayofyear dy y day dd d week wk ww weekday dw hour hh ' +
  'minute mi n second ss s millisecond ms microsecond mcs nanosecond ns tzoffset tz iso_week isowk isoww').split(' '));
const NILADIC = new Set(['CURRENT_TIMESTAMP', 'CURRENT_USER', 'SESSION_USER', 'SYSTEM_USER', 'USER', 'NULL', 'DEFAULT']);
const XML_METHODS = new Set(['VALUE', 'QUERY', 'EXIST', 'NODES', 'MODIFY']);
// Result types of built-in functions, for the declaration type check of computed columns.
const FUNC_TYPES = {
  DB_NAME: 'nvarchar(128)', OBJECT_NAME: 'nvarchar(128)', OBJECT_SCHEMA_NAME: 'nvarchar(128)', SCHEMA_NAME: 'nvarchar(128)',
  SUSER_SNAME: 'nvarchar(128)', SUSER_NAME: 'nvarchar(128)', HOST_NAME: 'nvarchar(128)', APP_NAME: 'nvarchar(128)',
  DB_ID: 'int', OBJECT_ID: 'int', FILEPROPERTY: 'int', HAS_DBACCESS: 'int', HAS_PERMS_BY_NAME: 'int',
  SYSUTCDATETIME: 'datetime2(7)', SYSDATETIME: 'datetime2(7)', SYSDATETIMEOFFSET: 'datetimeoffset(7)',
  GETDATE: 'datetime', GETUTCDATE: 'datetime', COUNT: 'int', COUNT_BIG: 'bigint', ROW_NUMBER: 'bigint',
  RANK: 'bigint', DENSE_RANK: 'bigint', DATEDIFF: 'int', DATEDIFF_BIG: 'bigint', DATEPART: 'int',
};

function normType(t) {
  if (!t) return null;
  let s = String(t).toLowerCase().replace(/\*/g, '').replace(/\s+/g, '');
  if (s === 'sysname') s = 'nvarchar(128)';
  s = s.replace(/^numeric/, 'decimal');
  if (s === 'datetime2' || s === 'datetimeoffset' || s === 'time') s += '(7)';
  if (s === 'float(53)') s = 'float';
  if (s === 'rowversion') s = 'timestamp';
  return s;
}

class Scope {
  constructor(parent) { this.parent = parent; this.sources = []; }
}

function parts(nodeWithIds) {
  // ids of a dotted name (full_column_name, table_name, scalar_function_name chains), in order
  const out = [];
  const walk = (n) => {
    for (const c of P.kids(n)) {
      const r = P.rule(c);
      if (r === 'id' || r === 'simple_id') out.push(P.idName(c.text));
      else if (!P.isTerminal(c) && r !== 'udt_method_arguments' && r !== 'expression_list') walk(c);
    }
  };
  walk(nodeWithIds);
  return out;
}

class Analyzer {
  // ctx: { file, versions: [int], catalog, report(severity, line, col, message) }
  constructor(ctx) {
    this.ctx = ctx;
    this.catalog = ctx.catalog;
  }

  err(node, msg) { this.ctx.report('error', P.startLine(node), P.startCol(node), msg); }
  warn(node, msg) { this.ctx.report('warning', P.startLine(node), P.startCol(node), msg); }

  verName(v) { return `${v} (${(this.catalog.versions || {})[v] || '?'})`; }
  verRange(vs) {
    if (!vs.length) return 'no version';
    return vs.length === 1 ? `SQL Server ${this.verName(vs[0])}` : `SQL Server ${this.verName(vs[0])} to ${this.verName(vs[vs.length - 1])}`;
  }

  // --- entry point: every top-level statement; returns the output columns of the first row-returning SELECT
  analyzeFile(tree) {
    let result = null;
    const visit = (n) => {
      const r = P.rule(n);
      if (r === 'select_statement_standalone' || r === 'select_statement') {
        const out = r === 'select_statement' ? this.selectStatement(n, null, new Map()) : this.standalone(n, null, new Map());
        if (!result && out && !out.assigns) result = { columns: out.columns, node: n };
        return;
      }
      if (r === 'subquery' || r === 'query_specification') { this.selectStatementLike(n, null, new Map()); return; }
      for (const c of P.kids(n)) visit(c);
    };
    visit(tree);
    return result;
  }

  selectStatementLike(n, outer, ctes) {
    const r = P.rule(n);
    if (r === 'select_statement_standalone') return this.standalone(n, outer, ctes);
    if (r === 'select_statement') return this.selectStatement(n, outer, ctes);
    if (r === 'subquery') return this.selectStatement(P.kid(n, 'select_statement'), outer, ctes);
    if (r === 'query_specification') return this.querySpec(n, outer, ctes);
    if (r === 'query_expression') return this.queryExpression(n, outer, ctes);
    return { columns: [] };
  }

  withExpression(w, outer, ctes) {
    const out = new Map(ctes);
    for (const cte of P.kidsNamed(w, 'common_table_expression')) {
      const name = P.idName(P.kid(cte, 'id').text);
      const colList = P.kid(cte, 'column_name_list');
      const res = this.selectStatement(P.kid(cte, 'select_statement'), outer, out);
      let cols = res.columns;
      if (colList) {
        const names = parts(colList);
        if (names.length !== cols.length) this.err(cte, `CTE ${name} names ${names.length} columns but its query returns ${cols.length}`);
        cols = names.map((nm, i) => ({ name: nm, origin: cols[i] ? cols[i].origin : { type: null } }));
      } else {
        this.requireNames(cols, `CTE ${name}`, cte);
      }
      out.set(name.toLowerCase(), { name, columns: cols });
    }
    return out;
  }

  requireNames(cols, what, node) {
    cols.forEach((c, i) => { if (!c.name) this.err(c.node || node, `column ${i + 1} of ${what} has no name (give it an alias)`); });
  }

  standalone(n, outer, ctes) {
    const w = P.kid(n, 'with_expression');
    const ctes2 = w ? this.withExpression(w, outer, ctes) : ctes;
    return this.selectStatement(P.kid(n, 'select_statement'), outer, ctes2);
  }

  selectStatement(n, outer, ctes) {
    if (!n) return { columns: [] };
    const w = P.kid(n, 'with_expression');
    const ctes2 = w ? this.withExpression(w, outer, ctes) : ctes;
    const res = this.queryExpression(P.kid(n, 'query_expression'), outer, ctes2);
    const ob = P.kid(n, 'order_by_clause');
    if (ob && res.scope) this.walk(ob, res.scope, ctes2, { aliases: res.columns });
    return res;
  }

  queryExpression(n, outer, ctes) {
    if (!n) return { columns: [] };
    let first = null;
    for (const c of P.kids(n)) {
      const r = P.rule(c);
      let res = null;
      if (r === 'query_specification') res = this.querySpec(c, outer, ctes);
      else if (r === 'query_expression') res = this.queryExpression(c, outer, ctes);
      else if (r === 'sql_union') {
        for (const u of P.kids(c)) {
          if (P.rule(u) === 'query_specification') this.querySpec(u, outer, ctes);
          else if (P.rule(u) === 'query_expression') this.queryExpression(u, outer, ctes);
        }
      } else if (r === 'order_by_clause' && first && first.scope) {
        this.walk(c, first.scope, ctes, { aliases: first.columns });
      }
      if (res && !first) first = res;
    }
    return first || { columns: [] };
  }

  // --- FROM clause -----------------------------------------------------------------------------------------
  collectSources(node, scope, ctes) {
    for (const c of P.kids(node)) {
      const r = P.rule(c);
      if (r === 'table_source_item') this.addSource(c, scope, ctes);
      else if (r === 'derived_table' || r === 'subquery') continue;
      else if (!P.isTerminal(c)) this.collectSources(c, scope, ctes);
    }
  }

  tableAlias(item) {
    const a = P.kid(item, 'as_table_alias');
    let alias = null, columns = null;
    if (a) {
      const ta = P.kid(a, 'table_alias');
      const idn = ta && P.kid(ta, 'id');
      if (idn) alias = P.idName(idn.text);
      // "AS n(col)" is parsed by this grammar as a table hint list after the alias
      const hints = ta && P.kid(ta, 'with_table_hints');
      if (hints && !P.hasTerminal(hints, 'WITH')) columns = P.kidsNamed(hints, 'table_hint').map((h) => P.idName(h.text));
    }
    const cal = P.kid(item, 'column_alias_list');
    if (cal) columns = P.kidsNamed(cal, 'column_alias').map((h) => P.idName(h.text));
    return { alias, columns };
  }

  addSource(item, scope, ctes) {
    const { alias, columns: aliasCols } = this.tableAlias(item);
    const tn = P.kid(item, 'table_name_with_hint');
    const fc = P.kid(item, 'function_call');
    const dt = P.kid(item, 'derived_table');
    const nested = P.kid(item, 'table_source');
    const add = (src) => { scope.sources.push(src); return src; };
    if (nested) { this.collectSources(nested, scope, ctes); return; }
    if (tn) {
      const names = parts(P.kid(tn, 'table_name') || tn);
      const last = names[names.length - 1];
      if (names.length === 1 && ctes.has(last.toLowerCase())) {
        const cte = ctes.get(last.toLowerCase());
        return add(this.derivedSource(alias || last, cte.columns, aliasCols, item, `CTE ${cte.name}`));
      }
      return add(this.catalogSource(names, alias, item, null));
    }
    if (fc) {
      const sfn = P.kid(fc, 'scalar_function_name');
      const names = sfn ? parts(sfn) : [];
      if (names.length >= 2 && XML_METHODS.has(names[names.length - 1].toUpperCase())) {
        // x.col.nodes('...') AS n(c): check the column, expose the aliased column list
        this.resolveRef(names.slice(0, -1), fc, scope, {});
        if (!aliasCols) this.err(item, `${names.join('.')}() needs a column alias list: AS alias(column)`);
        const cols = (aliasCols || []).map((c) => ({ name: c, origin: { type: 'xml' } }));
        return add({ alias: (alias || '').toLowerCase(), display: `${names.join('.')}() AS ${alias}`, kind: 'derived', columns: new Map(cols.map((c) => [c.name.toLowerCase(), c])) });
      }
      if (!names.length) {
        // built-in rowset functions the grammar knows by name (OPENJSON etc.): accept any column
        return add({ alias: (alias || '').toLowerCase(), display: P.sourceText(fc).split('(')[0], kind: 'unknown' });
      }
      const src = this.catalogSource(names, alias, item, fc);
      const args = P.kid(fc, 'expression_list');
      const argc = args ? P.kidsNamed(args, 'expression').length : 0;
      if (src.entry && Array.isArray(src.entry.arguments) && src.entry.arguments.length !== argc) {
        this.err(fc, `${src.key} takes ${src.entry.arguments.length} arguments (${src.entry.arguments.join(', ')}), not ${argc}`);
      }
      if (src.entry && src.entry.no_correlated_arguments && args && this.hasColumnRef(args)) {
        // Microsoft's page: "does not accept correlated parameters from CROSS APPLY and OUTER APPLY" (error 413)
        this.err(fc, `${src.key} does not accept correlated arguments (columns of other sources) from CROSS/OUTER APPLY: SQL Server raises error 413; pass constants, variables or functions (DB_ID(), NULL) and join its rows instead`);
      }
      return add(src);
    }
    if (dt) {
      const sq = P.kid(dt, 'subquery');
      if (sq) {
        const res = this.selectStatement(P.kid(sq, 'select_statement'), scope, ctes);
        if (!alias) this.err(item, 'a derived table needs an alias');
        return add(this.derivedSource(alias || '?', res.columns, aliasCols, item, `derived table ${alias}`));
      }
      // VALUES (...) AS v(a, b)
      this.walk(dt, scope, ctes, {});
      const cols = (aliasCols || []).map((c) => ({ name: c, origin: { type: null } }));
      return add({ alias: (alias || '').toLowerCase(), display: `VALUES AS ${alias}`, kind: 'derived', columns: new Map(cols.map((c) => [c.name.toLowerCase(), c])) });
    }
    // rowset functions, OPENXML, OPENJSON, CHANGETABLE, table variables: columns are not checked
    this.warn(item, `source '${P.sourceText(item)}' is not checked against the catalog`);
    return add({ alias: (alias || '').toLowerCase(), display: P.sourceText(item), kind: 'unknown' });
  }

  derivedSource(alias, cols, aliasCols, node, what) {
    let columns = cols;
    if (aliasCols) {
      if (aliasCols.length !== cols.length) this.err(node, `${what} names ${aliasCols.length} columns but returns ${cols.length}`);
      columns = aliasCols.map((nm, i) => ({ name: nm, origin: cols[i] ? cols[i].origin : { type: null } }));
    } else {
      this.requireNames(cols, what, node);
    }
    return { alias: alias.toLowerCase(), display: what, kind: 'derived', columns: new Map(columns.filter((c) => c.name).map((c) => [c.name.toLowerCase(), c])) };
  }

  catalogSource(names, alias, node, fc) {
    // [server.][database.]schema.object: the database part (tempdb.sys.x, master.sys.x) does not change the columns
    const obj = names[names.length - 1];
    const schema = names.length >= 2 ? names[names.length - 2] : null;
    const key = `${(schema || 'sys').toLowerCase()}.${obj.toLowerCase()}`;
    const entry = this.catalog.objects[key] || null;
    const display = names.join('.');
    if (!schema) {
      this.err(node, `'${obj}' is neither a CTE nor a schema-qualified object (system views need the sys. schema)`);
    } else if (!entry) {
      this.err(node, `${key} is not in the DMV catalog (tests/catalog/dmv_columns.json): add it with its columns from Microsoft's documentation`);
    } else {
      const missing = this.ctx.versions.filter((v) => !this.available(entry, v));
      if (missing.length) this.err(node, `${key} does not exist on ${this.verRange(missing)} (introduced in ${this.verName(entry.since)}); the query claims ${this.verRange(this.ctx.versions)}`);
      if (fc && entry.kind !== 'function') this.err(node, `${key} is a view, not a function`);
      if (!fc && entry.kind === 'function') this.err(node, `${key} is a function: call it with its arguments`);
    }
    return { alias: (alias || obj).toLowerCase(), display, kind: entry ? 'catalog' : 'unknown', key, entry };
  }

  hasColumnRef(n) {
    if (P.rule(n) === 'full_column_name') return true;
    if (P.rule(n) === 'scalar_function_name') return false;
    return P.kids(n).some((c) => this.hasColumnRef(c));
  }

  available(c, v) {
    return (c.since === undefined || v >= c.since) && (c.until === undefined || v <= c.until);
  }

  // --- query specification ---------------------------------------------------------------------------------
  querySpec(qs, outer, ctes) {
    const scope = new Scope(outer);
    const ts = P.kid(qs, 'table_sources');
    if (ts) this.collectSources(ts, scope, ctes);
    const origins = new Map();
    // every part of the SELECT except the FROM items already analysed
    for (const c of P.kids(qs)) this.walk(c, scope, ctes, { origins });
    const columns = this.selectList(P.kid(qs, 'select_list'), scope, origins);
    return { columns, scope, assigns: columns.assigns };
  }

  selectList(sl, scope, origins) {
    const out = [];
    if (!sl) return out;
    for (const e of P.kidsNamed(sl, 'select_list_elem')) {
      const ast = P.kid(e, 'asterisk');
      if (ast) { out.push(...this.expandStar(ast, scope)); continue; }
      const ce = P.kid(e, 'column_elem');
      if (ce) {
        const fcn = P.kid(ce, 'full_column_name');
        const alias = P.kid(ce, 'as_column_alias');
        const name = alias ? P.idName(P.kid(alias, 'column_alias').text) : (fcn ? parts(fcn).slice(-1)[0] : null);
        out.push({ name, origin: (fcn && origins.get(fcn)) || { type: null }, node: e, passthrough: true });
        continue;
      }
      const ee = P.kid(e, 'expression_elem');
      if (ee) {
        const expr = P.kid(ee, 'expression');
        const alias = P.kid(ee, 'as_column_alias');
        const eqAlias = P.kid(ee, 'column_alias');
        let name = alias ? P.idName(P.kid(alias, 'column_alias').text) : eqAlias ? P.idName(eqAlias.text) : null;
        const fcn = expr && P.kid(expr, 'full_column_name');
        if (!name && fcn) name = parts(fcn).slice(-1)[0];
        out.push({ name, origin: this.exprOrigin(expr, origins), node: e, passthrough: !!fcn });
        continue;
      }
      const ue = P.kid(e, 'udt_elem');
      if (ue) {
        const alias = P.kid(ue, 'as_column_alias');
        out.push({ name: alias ? P.idName(P.kid(alias, 'column_alias').text) : null, origin: { type: null }, node: e });
        continue;
      }
      // @var = expression: the SELECT assigns, it returns no rows
      if (P.kids(e).some((k) => P.isTerminal(k) && k.text.startsWith('@'))) { out.assigns = true; continue; }
      out.push({ name: null, origin: { type: null }, node: e });
    }
    return out;
  }

  exprOrigin(expr, origins) {
    if (!expr) return { type: null };
    const fcn = P.kid(expr, 'full_column_name');
    if (fcn && P.kids(expr).length === 1) return origins.get(fcn) || { type: null };
    if (P.kids(expr).length === 3 && P.isTerminal(P.kids(expr)[0]) && P.kids(expr)[0].text === '(') {
      return this.exprOrigin(P.kid(expr, 'expression'), origins);
    }
    const fc = P.kid(expr, 'function_call');
    if (fc && P.kids(expr).length === 1) {
      const bif = P.kid(fc, 'build_in_functions');
      if (bif) {
        const head = P.kids(bif)[0].text.toUpperCase();
        const dt = P.kid(bif, 'data_type');
        if (dt && ['CAST', 'TRY_CAST', 'CONVERT', 'TRY_CONVERT'].includes(head)) return { type: P.sourceText(dt), cast: true };
        if (FUNC_TYPES[head]) return { type: FUNC_TYPES[head], func: head };
      }
      const sfn = P.kid(fc, 'scalar_function_name');
      if (sfn) {
        const nm = parts(sfn).join('.').toUpperCase();
        if (FUNC_TYPES[nm]) return { type: FUNC_TYPES[nm], func: nm };
      }
      const agg = P.kid(fc, 'aggregate_windowed_function') || P.kid(fc, 'ranking_windowed_function');
      if (agg) {
        const head = P.kids(agg)[0].text.toUpperCase();
        if (FUNC_TYPES[head]) return { type: FUNC_TYPES[head], func: head };
      }
    }
    return { type: null };
  }

  expandStar(ast, scope) {
    const tn = P.kid(ast, 'table_name');
    const srcs = tn ? scope.sources.filter((s) => s.alias === parts(tn).slice(-1)[0].toLowerCase()) : scope.sources;
    if (tn && !srcs.length) this.err(ast, `unknown table alias '${parts(tn).join('.')}' in ${P.sourceText(ast)}`);
    const out = [];
    for (const s of srcs) {
      if (s.kind === 'catalog') {
        for (const c of Object.values(s.entry.columns)) {
          if (this.ctx.versions.every((v) => this.available(c, v))) out.push({ name: c.name, origin: { type: c.type, object: s.key, column: c.name }, node: ast, passthrough: true });
        }
      } else if (s.kind === 'derived') {
        out.push(...[...s.columns.values()].map((c) => ({ ...c, node: ast })));
      } else {
        this.warn(ast, `* from ${s.display} cannot be expanded`);
      }
    }
    return out;
  }

  // --- the walk that resolves column references --------------------------------------------------------------
  walk(n, scope, ctes, opts) {
    const r = P.rule(n);
    if (!r) return;
    switch (r) {
      case 'table_sources': {
        // only the expressions of the FROM clause: ON conditions and function arguments
        const visit = (m) => {
          for (const c of P.kids(m)) {
            const rc = P.rule(c);
            if (rc === 'derived_table' || rc === 'table_name_with_hint' || rc === 'as_table_alias' || rc === 'column_alias_list') continue;
            if (rc === 'function_call') {
              const sfn = P.kid(c, 'scalar_function_name');
              const names = sfn ? parts(sfn) : [];
              if (names.length >= 2 && XML_METHODS.has(names[names.length - 1].toUpperCase())) continue; // checked in addSource
              const args = P.kid(c, 'expression_list');
              if (args) this.walk(args, scope, ctes, opts);
              else visit(c);
              continue;
            }
            if (rc === 'search_condition' || rc === 'expression' || rc === 'expression_list') this.walk(c, scope, ctes, opts);
            else visit(c);
          }
        };
        visit(n);
        return;
      }
      case 'subquery':
      case 'select_statement':
      case 'query_specification':
      case 'select_statement_standalone':
        this.selectStatementLike(n, scope, ctes);
        return;
      case 'derived_table': case 'data_type': case 'as_column_alias': case 'as_table_alias': case 'table_alias':
      case 'column_alias': case 'option_clause': case 'top_clause_placeholder':
        return;
      case 'full_column_name': {
        const origin = this.resolveRef(parts(n), n, scope, opts);
        if (opts.origins) opts.origins.set(n, origin || { type: null });
        return;
      }
      case 'udt_elem': {
        // col.method(...) in a select list
        const ids = P.kidsNamed(n, 'id').map((i) => P.idName(i.text));
        if (ids.length >= 2) this.resolveRef(ids.slice(0, -1), n, scope, opts);
        return;
      }
      case 'function_call': {
        const sfn = P.kid(n, 'scalar_function_name');
        const names = sfn ? parts(sfn) : [];
        const args = P.kid(n, 'expression_list');
        if (names.length >= 2 && XML_METHODS.has(names[names.length - 1].toUpperCase())) {
          // alias.col.value('xpath', 'type'): the column is the part before the method
          this.resolveRef(names.slice(0, -1), n, scope, opts);
          return;
        }
        if (names.length === 1 && DATE_FUNCS.has(names[0].toUpperCase()) && args) {
          const exprs = P.kidsNamed(args, 'expression');
          exprs.forEach((e, i) => {
            const f = P.kid(e, 'full_column_name');
            if (i === 0 && f && P.kids(e).length === 1 && parts(f).length === 1 && DATEPARTS.has(parts(f)[0].toLowerCase())) return;
            this.walk(e, scope, ctes, opts);
          });
          return;
        }
        for (const c of P.kids(n)) if (P.rule(c) !== 'scalar_function_name') this.walk(c, scope, ctes, opts);
        return;
      }
      default:
        for (const c of P.kids(n)) this.walk(c, scope, ctes, opts);
    }
  }

  hasColumn(src, col) {
    const k = col.toLowerCase();
    if (src.kind === 'catalog') return !!src.entry.columns[k];
    if (src.kind === 'derived') return src.columns.has(k);
    return false;
  }

  resolveRef(ps, node, scope, opts) {
    const col = ps[ps.length - 1];
    if (ps.length === 1 && NILADIC.has(col.toUpperCase())) return { type: null };
    if (ps.length >= 2) {
      const qual = ps[ps.length - 2].toLowerCase();
      for (let s = scope; s; s = s.parent) {
        const src = s.sources.find((x) => x.alias === qual);
        if (src) return this.checkColumn(src, col, node);
      }
      this.err(node, `'${ps.join('.')}': no table or alias '${ps[ps.length - 2]}' in scope`);
      return null;
    }
    for (let s = scope; s; s = s.parent) {
      const cands = s.sources.filter((x) => this.hasColumn(x, col));
      if (cands.length === 1) return this.checkColumn(cands[0], col, node);
      if (cands.length > 1) {
        this.err(node, `column '${col}' is ambiguous: it is a column of ${cands.map((c) => c.display).join(' and ')}; qualify it`);
        return null;
      }
      if (s.sources.some((x) => x.kind === 'unknown')) return { type: null };
    }
    if (opts.aliases) {
      const a = opts.aliases.find((c) => c.name && c.name.toLowerCase() === col.toLowerCase());
      if (a) return a.origin;
    }
    const names = [];
    for (let s = scope; s; s = s.parent) names.push(...s.sources.map((x) => x.display));
    this.err(node, `column '${col}' is not a column of any source in scope (${names.join(', ') || 'no FROM'})${this.suggest(col, scope)}`);
    return null;
  }

  suggest(col, scope) {
    const all = [];
    for (let s = scope; s; s = s.parent) for (const src of s.sources) {
      if (src.kind === 'catalog') all.push(...Object.values(src.entry.columns).map((c) => c.name));
      else if (src.kind === 'derived') all.push(...[...src.columns.values()].map((c) => c.name));
    }
    const best = closest(col, all);
    return best ? `; did you mean '${best}'?` : '';
  }

  checkColumn(src, col, node) {
    const k = col.toLowerCase();
    if (src.kind === 'catalog') {
      const c = src.entry.columns[k];
      if (!c) {
        const best = closest(col, Object.values(src.entry.columns).map((x) => x.name));
        this.err(node, `${src.key} has no column '${col}'${best ? `; did you mean '${best}'?` : ''}`);
        return null;
      }
      const missing = this.ctx.versions.filter((v) => !this.available(c, v));
      if (missing.length) {
        const when = c.since !== undefined ? `introduced in ${this.verName(c.since)}` : `removed after ${this.verName(c.until)}`;
        this.err(node, `${src.key}.${c.name} does not exist on ${this.verRange(missing)} (${when}); ` +
          `the query claims ${this.verRange(this.ctx.versions)}: raise min_version or add a variant with CAST(NULL AS ${c.type}) AS ${c.name}`);
      }
      return { type: c.type, object: src.key, column: c.name };
    }
    if (src.kind === 'derived') {
      const c = src.columns.get(k);
      if (!c) {
        const best = closest(col, [...src.columns.values()].map((x) => x.name));
        this.err(node, `${src.display} has no column '${col}' (it returns ${[...src.columns.values()].map((x) => x.name).join(', ')})${best ? `; did you mean '${best}'?` : ''}`);
        return null;
      }
      return c.origin;
    }
    return { type: null };
  }
}

function levenshtein(a, b) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) {
    d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

function closest(word, candidates) {
  let best = null, bestD = Infinity;
  const w = word.toLowerCase();
  for (const c of new Set(candidates)) {
    const dd = levenshtein(w, c.toLowerCase());
    if (dd < bestD) { bestD = dd; best = c; }
  }
  return bestD <= Math.max(2, Math.floor(w.length / 4)) ? best : null;
}

module.exports = { Analyzer, normType };
