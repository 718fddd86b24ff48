'use strict';
// T-SQL parsing with the ANTLR grammar shipped by the npm package antlr4ts-sql.
//
// The lexer and parser modules are required directly (the package's index also loads the MySQL, PL/SQL and
// PL/pgSQL grammars, which is slow and not needed). The grammar's keywords are upper case, so the input is
// upper-cased for the lexer only; token text keeps the original case.
const path = require('path');

const NM = path.join(__dirname, '..', 'node_modules');

function load() {
  try {
    const antlr = require(path.join(NM, 'antlr4ts'));
    const { PredictionMode } = require(path.join(NM, 'antlr4ts', 'atn', 'PredictionMode'));
    const { Interval } = require(path.join(NM, 'antlr4ts', 'misc', 'Interval'));
    const { TSqlLexer } = require(path.join(NM, 'antlr4ts-sql', 'dist', 'src', 'grammar-output', 'tsql', 'TSqlLexer'));
    const { TSqlParser } = require(path.join(NM, 'antlr4ts-sql', 'dist', 'src', 'grammar-output', 'tsql', 'TSqlParser'));
    return { antlr, PredictionMode, Interval, TSqlLexer, TSqlParser };
  } catch (e) {
    const msg = `the T-SQL grammar is not installed (${e.message.split('\n')[0]}).\n` +
      `Run: cd tests/tsql && npm ci   (dev/setup does this)`;
    const err = new Error(msg);
    err.code = 'NO_GRAMMAR';
    throw err;
  }
}

const lib = load();
const RULES = lib.TSqlParser.ruleNames;

// A char stream that shows the lexer upper-cased characters and gives back the original text. (The package's
// own CaseChangingStream passes getText() a wrong signature, so token text comes out as '<type>'.)
class UpperCaseStream {
  constructor(stream) { this.s = stream; }
  get index() { return this.s.index; }
  get size() { return this.s.size; }
  get sourceName() { return this.s.sourceName; }
  LA(i) {
    const c = this.s.LA(i);
    if (c <= 0) return c;
    return String.fromCodePoint(c).toUpperCase().codePointAt(0);
  }
  consume() { this.s.consume(); }
  mark() { return this.s.mark(); }
  release(m) { this.s.release(m); }
  seek(i) { this.s.seek(i); }
  getText(interval) { return this.s.getText(interval); }
  toString() { return this.s.toString(); }
}

function shorten(msg) {
  // ANTLR lists every token it expected (hundreds of keywords); keep the message readable.
  const m = msg.match(/^(.*?expecting) \{(.*)\}$/s);
  if (m) {
    const alts = m[2].split(', ');
    return alts.length > 8 ? `${m[1]} one of ${alts.slice(0, 8).join(', ')}, ... (${alts.length} alternatives)` : msg;
  }
  return msg.length > 300 ? msg.slice(0, 300) + '...' : msg;
}

function tokenText(tok) {
  if (!tok) return '';
  if (tok.type === -1) return '<end of input>';
  return tok.text;
}

// Parses text; returns { tree, errors: [{line, column (1-based), message}] }.
// Two-stage parse: SLL prediction first (fast), full LL only when SLL reports an error.
function parse(text) {
  const run = (mode) => {
    const errors = [];
    const listener = {
      syntaxError: (recognizer, offending, line, col, msg) => {
        let message = shorten(msg);
        if (/^no viable alternative at input/.test(msg) && offending) {
          message = `syntax error at '${tokenText(offending)}' (no viable alternative)`;
        } else if (offending && !message.includes(`'${tokenText(offending)}'`)) {
          message = `at '${tokenText(offending)}': ${message}`;
        }
        errors.push({ line, column: col + 1, message });
      },
    };
    const lexer = new lib.TSqlLexer(new UpperCaseStream(new lib.antlr.ANTLRInputStream(text)));
    lexer.removeErrorListeners();
    lexer.addErrorListener(listener);
    const tokens = new lib.antlr.CommonTokenStream(lexer);
    const parser = new lib.TSqlParser(tokens);
    parser.removeErrorListeners();
    parser.addErrorListener(listener);
    parser.interpreter.setPredictionMode(mode);
    const tree = parser.tsql_file();
    return { tree, errors, tokens };
  };
  let r = run(lib.PredictionMode.SLL);
  if (r.errors.length) r = run(lib.PredictionMode.LL);
  // The first error reported is the real one; ANTLR's recovery reports follow-on errors that only confuse.
  return r;
}

// --- parse-tree helpers -------------------------------------------------------------------------------------
function rule(n) { return n && n.ruleIndex !== undefined && n.childCount !== undefined && n.symbol === undefined ? RULES[n.ruleIndex] : null; }
function isTerminal(n) { return n && n.symbol !== undefined; }
function kids(n) { const out = []; if (!n || isTerminal(n)) return out; for (let i = 0; i < n.childCount; i++) out.push(n.getChild(i)); return out; }
function kid(n, name) { return kids(n).find((c) => rule(c) === name) || null; }
function kidsNamed(n, name) { return kids(n).filter((c) => rule(c) === name); }
function hasTerminal(n, upper) { return kids(n).some((c) => isTerminal(c) && c.text.toUpperCase() === upper); }
function startLine(n) { return n.start ? n.start.line : (n.symbol ? n.symbol.line : 0); }
function startCol(n) { return n.start ? n.start.charPositionInLine + 1 : (n.symbol ? n.symbol.charPositionInLine + 1 : 0); }

// Source text of a node with its original spacing.
function sourceText(n) {
  if (isTerminal(n)) return n.text;
  const s = n.start, e = n.stop;
  if (!s || !e || !s.inputStream) return n.text;
  return s.inputStream.getText(new lib.Interval(s.startIndex, e.stopIndex));
}

// An identifier's name without brackets or quotes.
function idName(text) {
  let t = text.trim();
  if ((t.startsWith('[') && t.endsWith(']')) || (t.startsWith('"') && t.endsWith('"'))) t = t.slice(1, -1);
  return t;
}

module.exports = { parse, rule, isTerminal, kids, kid, kidsNamed, hasTerminal, startLine, startCol, sourceText, idName, RULES };
