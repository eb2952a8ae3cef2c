#!/usr/bin/env node
// Validates Dashboard Studio definitions the way Splunk's own tooling does: the framework's
// migrateToTabsLayout (Splunk still loads the older `layout: {type, structure}` shape and upgrades it
// on load), then ajv against @splunk/dashboard-definition's defaultSchema.
//
// stdin:  {"<view name>": <definition JSON>, ...}
// stdout: {"<view name>": {"migrated": true|false, "errors": ["<path>: <message>", ...]}, ...}
'use strict';
const Ajv = require('ajv');
const { defaultSchema } = require('@splunk/dashboard-definition');
const { migrateToTabsLayout } = require('@splunk/dashboard-utils');

function formatError({ instancePath, message, params }) {
  const extra = params && params.additionalProperty ? ` (${params.additionalProperty})` : '';
  return `${instancePath || '/'}: ${message}${extra}`;
}

function check(definition, validate) {
  const migration = migrateToTabsLayout({ definition });
  if (!migration.success) {
    return { migrated: false, errors: ['migrateToTabsLayout could not upgrade the layout'] };
  }
  const valid = validate(migration.definition);
  return { migrated: true, errors: valid ? [] : validate.errors.map(formatError) };
}

function main() {
  const chunks = [];
  process.stdin.on('data', (chunk) => chunks.push(chunk));
  process.stdin.on('end', () => {
    const definitions = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    // strict: false because Splunk's schema uses keywords ajv's strict mode warns about (it is
    // compiled the same way inside the framework)
    const validate = new Ajv({ allErrors: true, strict: false }).compile(defaultSchema);
    const report = {};
    for (const [name, definition] of Object.entries(definitions)) {
      report[name] = check(definition, validate);
    }
    process.stdout.write(JSON.stringify(report));
  });
}

main();
