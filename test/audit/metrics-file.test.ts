import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { executeAudit } from '../../src/audit/command.js';
import { injectViolation } from '../../src/audit/fixtures.js';
import { createTestTracing } from '../helpers/tracing.js';
import { auditConfig, captureIo, cleanGateway } from './helpers.js';

async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'crosstalk-audit-metrics-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

it('--metrics-file: the textfile gauges per database, replacing the previous file atomically', async () => {
  const [dev, prod] = await Promise.all([cleanGateway(), cleanGateway()]);
  const client = await prod.connect();
  await injectViolation(client, 'owner_mismatch');
  await injectViolation(client, 'routed_failed_holding_slot');
  const dir = await scratchDir();
  const path = join(dir, 'crosstalk_audit.prom');
  await writeFile(path, 'stale content of the previous run\n');

  const before = Math.floor(Date.now() / 1000);
  const config = auditConfig(
    [
      { label: 'dev', url: dev.url },
      { label: 'prod', url: prod.url },
      { label: 'stage', url: 'postgres://app:s3cret-pw@127.0.0.1:1/gw' },
    ],
    { metricsFile: path },
  );
  expect(await executeAudit(config, createTestTracing().tracer, captureIo())).toBe(1);
  const after = Math.floor(Date.now() / 1000);

  const text = await readFile(path, 'utf8');
  const stamps = [...text.matchAll(/^crosstalk_audit_last_run_timestamp_seconds\{database="(\w+)"\} (\d+)$/gm)];
  expect(stamps.map((m) => m[1])).toEqual(['dev', 'prod', 'stage']);
  for (const m of stamps) expect(Number(m[2])).toBeGreaterThanOrEqual(before);
  for (const m of stamps) expect(Number(m[2])).toBeLessThanOrEqual(after);
  const verdict = (db: string, v: string, n: number): string => `crosstalk_audit_verdict{database="${db}",verdict="${v}"} ${n}`;
  const lines = (db: string, got: string): string[] =>
    ['clean', 'warning', 'violation', 'unverified', 'error'].map((v) => verdict(db, v, v === got ? 1 : 0));
  expect(text.replace(/^(crosstalk_audit_last_run_timestamp_seconds\{[^}]+\}) \d+$/gm, '$1 T')).toBe(
    [
      '# HELP crosstalk_audit_last_run_timestamp_seconds When the last crosstalk audit of the database finished (unix seconds).',
      '# TYPE crosstalk_audit_last_run_timestamp_seconds gauge',
      'crosstalk_audit_last_run_timestamp_seconds{database="dev"} T',
      'crosstalk_audit_last_run_timestamp_seconds{database="prod"} T',
      'crosstalk_audit_last_run_timestamp_seconds{database="stage"} T',
      "# HELP crosstalk_audit_verdict The last audit's verdict for the database: 1 for the verdict it got, 0 for the others.",
      '# TYPE crosstalk_audit_verdict gauge',
      ...lines('dev', 'clean'),
      ...lines('prod', 'violation'),
      ...lines('stage', 'error'),
      '# HELP crosstalk_audit_findings Offending rows the last audit found in the database, by severity.',
      '# TYPE crosstalk_audit_findings gauge',
      'crosstalk_audit_findings{database="dev",severity="violation"} 0',
      'crosstalk_audit_findings{database="dev",severity="warning"} 0',
      'crosstalk_audit_findings{database="prod",severity="violation"} 1',
      'crosstalk_audit_findings{database="prod",severity="warning"} 1',
      'crosstalk_audit_findings{database="stage",severity="violation"} 0',
      'crosstalk_audit_findings{database="stage",severity="warning"} 0',
      '',
    ].join('\n'),
  );
  expect(text).not.toContain('s3cret-pw');
  // Written aside and renamed over the target: nothing else is left in the collector's directory.
  expect(await readdir(dir)).toEqual(['crosstalk_audit.prom']);
});

it('--metrics-file in a directory that does not exist: the audit fails naming the flag, no file left', async () => {
  const dev = await cleanGateway(['routed_pool']);
  const dir = await scratchDir();
  const path = join(dir, 'missing', 'crosstalk_audit.prom');
  const config = auditConfig([{ label: 'dev', url: dev.url }], { metricsFile: path });
  await expect(executeAudit(config, createTestTracing().tracer, captureIo())).rejects.toThrow(
    `audit: could not write --metrics-file ${path}: ENOENT`,
  );
  expect(await readdir(dir)).toEqual([]);
});
