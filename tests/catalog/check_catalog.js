#!/usr/bin/env node
'use strict';
// The catalog check alone: `node tests/catalog/check_catalog.js [--root DIR]` is
// `node tests/tsql/check_sql.js --catalog [--root DIR]` (the parser lives in tests/tsql/node_modules).
process.argv.splice(2, 0, '--catalog');
require('../tsql/check_sql.js');
