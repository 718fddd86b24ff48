'use strict';
// Loads tests/catalog/dmv_columns.json: per object, every column with its type and the first SQL Server major
// version that has it ("since"; absent = every version the catalog covers) or the last one ("until").
const fs = require('fs');

function loadCatalog(file) {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  const objects = {};
  const problems = [];
  for (const [key, o] of Object.entries(raw.objects || {})) {
    if (key !== key.toLowerCase() || !/^[a-z_]+\.[a-z_0-9]+$/.test(key)) problems.push(`object key '${key}' must be lower-case schema.name`);
    if (!o.source) problems.push(`${key}: no source URL`);
    if (!['view', 'function'].includes(o.kind)) problems.push(`${key}: kind must be "view" or "function"`);
    const columns = {};
    for (const [name, c] of Object.entries(o.columns || {})) {
      if (!c.type) problems.push(`${key}.${name}: no type`);
      if (columns[name.toLowerCase()]) problems.push(`${key}.${name}: listed twice`);
      columns[name.toLowerCase()] = { name, type: c.type, since: c.since, until: c.until };
    }
    if (!Object.keys(columns).length) problems.push(`${key}: no columns`);
    objects[key] = { ...o, columns };
  }
  return {
    versions: raw.versions || {},
    minVersion: raw.min_version || 13,
    maxVersion: raw.max_version || 16,
    objects,
    problems,
  };
}

module.exports = { loadCatalog };
