import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it, onTestFinished } from 'vitest';
import { injectViolation } from '../../src/audit/fixtures.js';
import { JSON_REPORT_FORMAT } from '../../src/audit/report-json.js';
import { cleanGateway } from './helpers.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `crosstalk audit …` as an operator runs it: a child process (asynchronous, so an embedded server in this process keeps answering). */
function crosstalk(args: string[]): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CROSSTALK_AUDIT_')));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: REPO,
      env: { ...env, OTEL_TRACES_EXPORTER: 'none' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

it('clean DEV plus unreachable PROD: exit 2, the report on stdout, one masked line on stderr', async () => {
  const dev = await cleanGateway();
  const run = await crosstalk(['audit', '--db', `dev=${dev.url}`, '--db', 'prod=postgres://app:s3cret-pw@127.0.0.1:1/gw']);
  expect(run.stderr).toBe(
    'crosstalk audit: database "prod" (postgres://app:***@127.0.0.1:1/gw) could not be reached: connect ECONNREFUSED 127.0.0.1:1\n',
  );
  expect(run.code).toBe(2);
  expect(run.stdout).toMatch(/^Session-Isolation Audit - Results\n/);
  expect(run.stdout).toContain('  DEV   ✅ clean (13 pass, 2 info, 1 not applicable)\n');
  expect(run.stdout).not.toContain('s3cret-pw');
});

it('a violation written as JSON to --out: exit 1, nothing on stdout', async () => {
  const prod = await cleanGateway();
  const { stale_active: stale = [] } = await injectViolation(await prod.connect(), 'stale_active');
  const out = join(tmpdir(), `crosstalk-audit-${process.pid}-${Date.now()}.json`);
  onTestFinished(() => rm(out, { force: true }));
  const run = await crosstalk(['audit', '--db', `prod=${prod.url}`, '--format', 'json', '--out', out, '--since', '7d']);
  expect([run.code, run.stdout, run.stderr]).toEqual([1, '', '']);
  const report = JSON.parse(await readFile(out, 'utf8')) as {
    format: string;
    exitCode: number;
    window: { since: string };
    databases: Array<{ label: string; outcome: string; checks: Array<{ id: string; status: string; sample: Array<{ id: string }> }> }>;
  };
  expect(report.format).toBe(JSON_REPORT_FORMAT);
  expect(report.exitCode).toBe(1);
  expect(report.window.since).toBe('7d');
  expect(report.databases[0]?.outcome).toBe('violation');
  const check = report.databases[0]?.checks.find((c) => c.id === 'stale_active');
  expect([check?.status, check?.sample.map((s) => s.id)]).toEqual(['violation', stale]);
});

it('a bad flag: exit 2 with one line naming the option', async () => {
  const run = await crosstalk(['audit', '--db', 'postgres://app:s3cret-pw@db/gw']);
  expect([run.code, run.stdout, run.stderr]).toEqual([
    2,
    '',
    'crosstalk: --db must be label=postgres://… with a label of letters, digits, _ . - (got "postgres://app:***@db/gw")\n',
  ]);
});

it('a check that cannot run: exit 3 (UNVERIFIED), each check named on stderr; --print-grants: the GRANTs, exit 0', async () => {
  const db = await cleanGateway(['api_key_sessions']);
  await db.exec('ALTER TABLE sessions DROP CONSTRAINT sessions_api_key_id_fkey; DROP TABLE api_keys');
  const run = await crosstalk(['audit', '--db', `dev=${db.url}`]);
  expect(run.code).toBe(3);
  expect(run.stderr).toBe(
    `crosstalk audit: database "dev" (${db.url}) 2 checks could not run: owner_mismatch (table api_keys not found); ` +
      'active_without_key (table api_keys not found)\n',
  );
  expect(run.stdout).toContain('❔ UNVERIFIED: NOT EVERY CHECK COULD RUN\n');

  const grants = await crosstalk(['audit', '--db', `dev=${db.url}`, '--print-grants', '--grant-role', 'auditor']);
  expect([grants.code, grants.stderr]).toEqual([0, '']);
  expect(grants.stdout).toContain('GRANT SELECT ("id", "user_id", "api_key_id", "created_at", "expires_at", "is_active") ON "public"."sessions" TO auditor;\n');
});
