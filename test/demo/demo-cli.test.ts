import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';

const CWD = new URL('../..', import.meta.url).pathname;
const LIMIT_MS = 60_000;

it('crosstalk demo runs end to end in a child process: bug on CROSSTALK, bug off FIX VERIFIED, audit violation, exit 0', async () => {
  const env = { ...process.env };
  // The default span mode (flagged spans on the console) is the one under test, not a collector.
  for (const name of Object.keys(env)) if (name.startsWith('OTEL_')) delete env[name];
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'demo'], { cwd: CWD, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  const elapsed = Date.now() - started;

  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  expect(elapsed).toBeLessThan(LIMIT_MS);
  const lines = stdout.split('\n');
  const sections = lines.filter((l) => /^\[\d\/4\] /.test(l));
  expect(sections).toEqual([
    '[1/4] provider bug ON: shared-reply (one reply callback shared by concurrent requests, fixed by router PR #561)',
    '[2/4] provider bug ON: swap (two overlapping streams trade bodies)',
    '[3/4] provider bug OFF (the fixed router)',
    "[4/4] Audit of the gateway database (embedded PostgreSQL: PGlite behind its socket server, the audit's own pg code path)",
  ]);
  const verdicts = lines.filter((l) => l.startsWith('  probe verdict: ')).map((l) => l.split(':')[1]?.trim());
  expect(verdicts).toEqual(['CROSSTALK (exit 1)', 'CROSSTALK (exit 1)', 'FIX VERIFIED (exit 0)']);
  const sidecar = lines.filter((l) => l.startsWith('  sidecar: '));
  expect(sidecar[0]).toMatch(/^ {2}sidecar: flagged \d+ responses? \(/);
  expect(sidecar[1]).toMatch(/^ {2}sidecar: flagged \d+ responses? \(.*model_mismatch/);
  expect(sidecar[2]).toBe('  sidecar: flagged nothing');
  // Gateway-shaped traffic (issue 13): no model in the body, no key; the starved requests and the recipient are
  // flagged with the bug on, every cross-model answer too, and no request that got its own answer, ever.
  const gateway = lines.filter((l) => l.startsWith('    sidecar flagged: '));
  expect(gateway).toHaveLength(3);
  expect(lines.filter((l) => l.startsWith('  gateway-shaped traffic (')).map((l) => l.includes('no model in the body, no key'))).toEqual([true, true, true]);
  const counts = gateway.map((l) => [...l.matchAll(/(\d+)\/(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]));
  const [starved, recipients, crossModel, innocent] = counts[0] as number[][];
  expect(starved?.[1]).toBeGreaterThan(0);
  expect(starved?.[0]).toBe(starved?.[1]);
  expect(recipients?.[0]).toBeGreaterThan(0);
  expect(crossModel?.[0]).toBe(crossModel?.[1]);
  expect(innocent?.[0]).toBe(0);
  expect(counts[1]?.[2]?.[0]).toBeGreaterThan(0);
  expect(counts[1]?.[2]?.[0]).toBe(counts[1]?.[2]?.[1]);
  expect(counts[1]?.[3]?.[0]).toBe(0);
  expect(counts[2]?.map((c) => c[0])).toEqual([0, 0, 0, 0]);
  expect(stdout).toMatch(/joined with \/incidents: \d+ requests? named by both the probe and the sidecar/);
  expect(stdout).toMatch(/ {2}spans: \d+ ended, \d+ flagged \(crosstalk\.detected = true\):\n {4}trace [0-9a-f]{32} /);
  expect(stdout).toContain('  injected violation: the partial unique index is gone and API key 1 holds two active sessions');
  expect(stdout).toContain('❌ ISOLATION VIOLATION FOUND');
  expect(stdout).toContain('Exit code: 1 (an isolation violation was found)');
  expect(stdout).toMatch(/\nDemo result: as expected \(\d+\.\d s\)\./);
  expect(stdout).toContain('Point it at real services:');
  // Keys by prefix only: the random secret halves never appear.
  expect(stdout).toContain('sk-DemoA1');
  expect(stdout).not.toMatch(/sk-Demo[A-C]\d\.[0-9a-f]/);
}, LIMIT_MS + 10_000);
