import { expect, it } from 'vitest';
import { executeAudit } from '../../src/audit/command.js';
import { ON_EMBEDDED } from '../helpers/database.js';
import { createTestTracing } from '../helpers/tracing.js';
import { auditConfig, captureIo, cleanGateway } from './helpers.js';

const SKIP = 'PGlite has no statement_timeout timer and runs one transaction at a time, so a lock cannot be staged';

it.skipIf(ON_EMBEDDED)(`a migration holding api_keys locked: the checks that read it time out as errors, the others run, UNVERIFIED, exit 3 (${SKIP})`, async () => {
  const db = await cleanGateway();
  const migration = await db.connect();
  await migration.query('BEGIN');
  await migration.query('LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE');

  const tracing = createTestTracing();
  const io = captureIo();
  const config = auditConfig([{ label: 'prod', url: db.url }], { statementTimeoutMs: 300 });
  const exitCode = await executeAudit(config, tracing.tracer, io);
  await migration.query('ROLLBACK');

  const reason =
    'canceling statement due to statement timeout (statement_timeout 300 ms): the table was busy or locked; ' +
    'rerun with a larger --statement-timeout or off-peak';
  expect(exitCode).toBe(3);
  expect(io.err()).toBe(
    `crosstalk audit: database "prod" (${db.url}) 2 checks failed: owner_mismatch (${reason}); active_without_key (${reason})\n`,
  );
  expect(io.out()).toContain(`CHECK owner_mismatch: Sessions whose user is not their API key's owner\n❗ ERROR: ${reason}\n`);
  expect(io.out()).toContain('CHECK stale_active: Active sessions past expires_at\n✅ no active session is past its expires_at\n');
  expect(io.out()).toContain('  PROD  ❔ 2 checks failed: owner_mismatch');
  const [span] = tracing.spansNamed('audit owner_mismatch');
  expect(span?.attributes).toMatchObject({
    'crosstalk.audit.status': 'error',
    'crosstalk.audit.reason': reason,
    'error.type': '57014',
  });
});
