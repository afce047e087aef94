import { expect, it } from 'vitest';
import { executeProbe } from '../../src/probe/command.js';
import { resolveProbeConfig } from '../../src/probe/options.js';
import { TEST_KEYS, startFakeUpstream } from './helpers.js';

it('--format json: one JSON document on stdout for CI, with tables, verdict and no per-request list', async () => {
  const upstream = await startFakeUpstream();
  const config = resolveProbeConfig(
    {
      target: `${upstream.url}/api/v1`,
      apiKey: TEST_KEYS.slice(0, 2),
      model: ['a', 'b'],
      requests: '8',
      concurrency: '4',
      format: 'json',
      progress: false,
    },
    {},
  );
  let out = '';
  const code = await executeProbe(config, { stdout: { write: (t: string) => (out += t) }, stderr: process.stderr });
  expect(code).toBe(0);
  const report = JSON.parse(out) as Record<string, unknown>;
  expect(Object.keys(report)).toEqual([
    'format', 'tool', 'version', 'runId', 'startedAt', 'durationMs', 'target', 'settings', 'totals', 'byModel', 'byLane', 'verdict', 'warnings',
  ]);
  expect(report).toMatchObject({
    format: 'crosstalk-probe-report/v2',
    tool: 'crosstalk probe',
    target: { url: `${upstream.url}/api/v1`, chatUrl: `${upstream.url}/api/v1/chat/completions`, mode: 'gateway' },
    settings: { requests: 8, concurrency: 4, durationMs: null, burst: 2, expectEcho: false, models: ['a', 'b'], lanes: ['sk-ProbeA', 'sk-ProbeB'] },
    totals: {
      requests: 8,
      ok: 8,
      empty: 0,
      failed: 0,
      aborted: 0,
      echo: { match: 8, missing: 0, mismatch: 0 },
      crosstalk: 0,
      findings: {},
    },
    verdict: { verdict: 'FIX VERIFIED', exitCode: 0, details: [], offending: [] },
    warnings: [],
  });
  const byModel = report['byModel'] as Array<Record<string, unknown>>;
  expect(byModel.map((g) => [g['name'], g['requests'], g['ok']])).toEqual([['a', 4, 4], ['b', 4, 4]]);
  const byLane = report['byLane'] as Array<Record<string, unknown>>;
  expect(byLane.map((g) => g['name'])).toEqual(['sk-ProbeA', 'sk-ProbeB']);
  expect(typeof byLane[0]?.['ttfcP50Ms']).toBe('number');
});
