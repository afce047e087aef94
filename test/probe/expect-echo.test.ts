import { expect, it } from 'vitest';
import { resolveProbeConfig, type ProbeFlags } from '../../src/probe/options.js';
import { runProbe } from '../../src/probe/run-probe.js';
import { TEST_KEYS, startFakeUpstream } from './helpers.js';

it('--expect-echo: an answer without its own nonce is crosstalk (nonce_missing); without the flag it is not checked', async () => {
  const upstream = await startFakeUpstream({ repeatNonce: false });
  const flags: ProbeFlags = { target: `${upstream.url}/api/v1`, apiKey: [TEST_KEYS[0] as string], model: ['a', 'b'], requests: '4', concurrency: '2', progress: false };

  const expecting = await runProbe(resolveProbeConfig({ ...flags, expectEcho: true }, {}), { runId: 'ee0001' });
  expect(expecting.verdict.verdict).toBe('CROSSTALK');
  expect(expecting.totals.findings).toEqual({ nonce_missing: 4 });
  expect(expecting.requests[0]?.findings).toEqual([{ reason: 'nonce_missing', evidence: { expected: 'xt-ee0001-1' } }]);

  const lenient = await runProbe(resolveProbeConfig(flags, {}), { runId: 'ee0002' });
  expect(lenient.verdict.verdict).toBe('FIX VERIFIED');
  expect(lenient.requests.every((r) => !r.nonceSeen)).toBe(true);
});
