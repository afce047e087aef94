import { expect, it } from 'vitest';
import { executeAudit } from '../../src/audit/command.js';
import { createTestTracing } from '../helpers/tracing.js';
import { ON_EMBEDDED } from '../helpers/database.js';
import { auditConfig, captureIo, cleanGateway } from './helpers.js';

it('an unreachable database gives exit 2 and one line with its masked URL; the other is still reported', async () => {
  const dev = await cleanGateway();
  const tracing = createTestTracing();
  const io = captureIo();
  const config = auditConfig([
    { label: 'dev', url: dev.url },
    { label: 'prod', url: 'postgres://app:s3cret-pw@127.0.0.1:1/gw' },
  ]);
  expect(await executeAudit(config, tracing.tracer, io)).toBe(2);
  expect(io.err()).toBe(
    'crosstalk audit: database "prod" (postgres://app:***@127.0.0.1:1/gw) could not be reached: connect ECONNREFUSED 127.0.0.1:1\n',
  );
  expect(io.out()).toContain(
    [
      'Executive Summary',
      '❗ AUDIT COULD NOT RUN',
      '  DEV   ✅ clean (13 pass, 2 info, 1 not applicable)',
      '  PROD  ❗ could not be reached: connect ECONNREFUSED 127.0.0.1:1',
    ].join('\n'),
  );
  expect(io.out()).toContain(
    [
      'PROD Database Results',
      'postgres://app:***@127.0.0.1:1/gw',
      '========================================================================',
      '❗ AUDIT COULD NOT RUN',
      'Problem: could not be reached: connect ECONNREFUSED 127.0.0.1:1',
      '',
      'No checks ran.',
    ].join('\n'),
  );
  const spans = JSON.stringify(tracing.exporter.getFinishedSpans().map((s) => s.attributes));
  for (const text of [io.out(), io.err(), spans]) expect(text).not.toContain('s3cret-pw');
});

it('names both address families when localhost refuses on IPv4 and IPv6 (Node 20 AggregateError)', async () => {
  const io = captureIo();
  const config = auditConfig([{ label: 'prod', url: 'postgres://app:s3cret-pw@localhost:1/gw' }]);
  expect(await executeAudit(config, createTestTracing().tracer, io)).toBe(2);
  expect(io.err()).toMatch(
    /^crosstalk audit: database "prod" \(postgres:\/\/app:\*\*\*@localhost:1\/gw\) could not be reached: connect ECONNREFUSED [^\n]+:1\n$/,
  );
});

it.skipIf(ON_EMBEDDED)('a database that does not exist: the server refused, exit 2 (real server only: PGlite ignores the name)', async () => {
  const dev = await cleanGateway();
  const missing = new URL(dev.url);
  missing.pathname = '/no_such_database';
  const io = captureIo();
  expect(await executeAudit(auditConfig([{ label: 'stage', url: missing.toString() }]), createTestTracing().tracer, io)).toBe(2);
  expect(io.err()).toBe(
    `crosstalk audit: database "stage" (${missing.toString()}) refused the connection: database "no_such_database" does not exist\n`,
  );
});
