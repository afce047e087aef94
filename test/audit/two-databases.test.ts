import { expect, it } from 'vitest';
import { executeAudit } from '../../src/audit/command.js';
import { injectViolation } from '../../src/audit/fixtures.js';
import { createTestTracing } from '../helpers/tracing.js';
import { auditConfig, captureIo, cleanGateway } from './helpers.js';

it('audits DEV (clean) and PROD (corrupt) at once: one report, both sections, exit 1', async () => {
  const [dev, prod] = await Promise.all([cleanGateway(), cleanGateway()]);
  const prodClient = await prod.connect();
  const { active_key_index: index = [] } = await injectViolation(prodClient, 'index_missing');
  const { owner_mismatch: mismatched = [] } = await injectViolation(prodClient, 'owner_mismatch');

  const io = captureIo();
  const config = auditConfig([
    { label: 'dev', url: dev.url },
    { label: 'prod', url: prod.url },
  ]);
  expect(await executeAudit(config, createTestTracing().tracer, io)).toBe(1);
  const out = io.out();
  expect(io.err()).toBe('');
  expect(out).toContain(
    [
      'Databases Checked: DEV and PROD',
      'Window: last 24 hours',
    ].join('\n'),
  );
  expect(out).toContain(
    [
      'Executive Summary',
      '❌ ISOLATION VIOLATION FOUND',
      '  DEV   ✅ clean (13 pass, 2 info, 1 not applicable)',
      '  PROD  ❌ violation: active_key_index (1 row), owner_mismatch (1 row)',
    ].join('\n'),
  );
  const devSection = out.slice(out.indexOf('DEV Database Results'), out.indexOf('PROD Database Results'));
  const prodSection = out.slice(out.indexOf('PROD Database Results'), out.indexOf('What We Checked'));
  expect(devSection).toContain('✅ NO ISOLATION VIOLATION FOUND\n');
  expect(devSection).not.toContain('❌');
  expect(prodSection).toContain('❌ ISOLATION VIOLATION FOUND\n');
  expect(prodSection).toContain(`   - ${index[0]}: missing\n`);
  expect(prodSection).toContain(`   - ${mismatched[0]}: user 2, api key 1 owned by user 1\n`);
  // Both databases' seed blocks are there, in the seed's shape.
  expect(devSection).toContain('CHECK 4: Recent session creation (last 24 hours)\nSessions created (24h):    20\n');
  expect(prodSection).toContain('CHECK 4: Recent session creation (last 24 hours)\nSessions created (24h):    20\n');
});
