import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { executeAudit } from '../../src/audit/command.js';
import { PROVIDER_STATE_FORMAT } from '../../src/audit/provider-state.js';
import { runAudit } from '../../src/audit/run-audit.js';
import { createTestTracing } from '../helpers/tracing.js';
import { auditConfig, captureIo, cleanGateway } from './helpers.js';

async function statePath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'crosstalk-audit-providers-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'providers.json');
}

const checkOf = (report: Awaited<ReturnType<typeof runAudit>>) =>
  report.databases[0]?.checks.find((c) => c.id === 'routed_provider_change');

it('--provider-state: the first run records the live providers; a later run flags a session whose provider changed', async () => {
  const db = await cleanGateway(['routed_pool']);
  const path = await statePath();
  const config = auditConfig([{ label: 'prod', url: db.url }], { providerStateFile: path });

  const first = captureIo();
  expect(await executeAudit(config, createTestTracing().tracer, first)).toBe(0);
  expect(first.out()).toContain(
    'CHECK routed_provider_change: Routed sessions whose provider changed since the last run\n' +
      'ℹ️ first run with --provider-state: recorded the providers of 2 live sessions; a change shows from the next run\n',
  );
  const state = JSON.parse(await readFile(path, 'utf8')) as { format: string; databases: Record<string, { providers: Record<string, string> }> };
  expect(state.format).toBe(PROVIDER_STATE_FORMAT);
  expect(Object.keys(state.databases.prod?.providers ?? {})).toHaveLength(2);

  // Unchanged: the comparison runs and passes.
  const again = captureIo();
  expect(await executeAudit(config, createTestTracing().tracer, again)).toBe(0);
  expect(again.out()).toContain("✅ no session's provider_address changed since the run of ");

  // The row of a live session now names another provider under the same session id.
  const client = await db.connect();
  const { rows } = await client.query<{ id: string; was: string }>(
    `UPDATE routed_sessions r SET provider_address = '0x' || repeat('f', 40)
     FROM (SELECT id, provider_address AS was FROM routed_sessions WHERE state = 'OPEN' AND active_requests = 1) old
     WHERE r.id = old.id RETURNING r.id, old.was`,
  );
  const changed = captureIo();
  expect(await executeAudit(config, createTestTracing().tracer, changed)).toBe(1);
  expect(changed.out()).toContain(
    `   - ${rows[0]?.id}: provider_address ${rows[0]?.was} then, 0x${'f'.repeat(40)} now\n`,
  );
  // Written aside and renamed: only the state file is in its directory.
  expect(await readdir(join(path, '..'))).toEqual(['providers.json']);
});

it('a state file of another shape is refused, naming the flag, before anything is audited', async () => {
  const db = await cleanGateway(['routed_pool']);
  const path = await statePath();
  await writeFile(path, '{"something": "else"}\n');
  const config = auditConfig([{ label: 'prod', url: db.url }], { providerStateFile: path });
  await expect(executeAudit(config, createTestTracing().tracer, captureIo())).rejects.toThrow(
    `--provider-state ${path} is not a ${PROVIDER_STATE_FORMAT} file`,
  );
});

it('without --provider-state the check does not apply and says why; the database is still clean', async () => {
  const db = await cleanGateway(['routed_pool']);
  const report = await runAudit({ ...auditConfig([{ label: 'prod', url: db.url }]), tracer: createTestTracing().tracer });
  expect([checkOf(report)?.status, report.outcome]).toEqual(['not_applicable', 'clean']);
});
