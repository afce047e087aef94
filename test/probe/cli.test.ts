import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { TEST_KEYS, SECRET_PARTS, startFakeUpstream } from './helpers.js';

const run = promisify(execFile);
const CWD = new URL('../..', import.meta.url).pathname;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('OTEL_') || name.startsWith('CROSSTALK_PROBE_')) delete env[name];
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'probe', ...args], { cwd: CWD, env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

it('crosstalk probe as a command: report on stdout, plain progress on a piped stderr, exit code of the verdict', async () => {
  const upstream = await startFakeUpstream({ echo: false });
  const r = await cli(['--target', `${upstream.url}/api/v1`, '--api-key', TEST_KEYS[0] as string, '--model', 'a', '--model', 'b', '--requests', '6', '--concurrency', '2']);
  expect(r.code).toBe(3);
  expect(r.stdout).toContain('Verdict: UNVERIFIED (exit 3): no answer echoed its x-request-id (6 answered)');
  expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^probe: 6\/6 requests, 0 crosstalk, 0 failed, 0 echo matched, /);
  for (const secret of SECRET_PARTS) expect(r.stdout + r.stderr).not.toContain(secret);
}, 40_000);

it('a bad flag: exit 2 and one line naming the option, without the key', async () => {
  const r = await cli(['--target', 'https://gw.example/api/v1', '--api-key', TEST_KEYS[0] as string, '--model', 'a', '--concurrency', 'lots']);
  expect(r.code).toBe(2);
  expect(r.stderr).toBe('crosstalk: --concurrency must be a whole number ≥ 0 (got "lots")\n');
  expect(r.stdout).toBe('');
}, 40_000);
