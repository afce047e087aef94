import { expect, it } from 'vitest';
import { resolveProbeConfig } from '../../src/probe/options.js';
import { runProbe } from '../../src/probe/run-probe.js';
import { TEST_KEYS, startFakeUpstream } from './helpers.js';

/**
 * The real gateway reports router failures in-band: a 200 stream carrying `data: {"error":…}`. The first probe
 * counted those as answers and, with --expect-echo, said CROSSTALK (nonce_missing) on a healthy router.
 */
function gatewayConfig(url: string, requests: number) {
  return resolveProbeConfig(
    {
      target: `${url}/api/v1`,
      apiKey: TEST_KEYS.slice(0, 2),
      model: ['a', 'b'],
      requests: String(requests),
      concurrency: '4',
      expectEcho: true,
      progress: false,
    },
    {},
  );
}

it('some requests answered by a 200 stream carrying data: {"error":…}: failed requests, never CROSSTALK; UNVERIFIED', async () => {
  const upstream = await startFakeUpstream({ inBandErrors: (n) => n % 4 === 0 });
  const result = await runProbe(gatewayConfig(upstream.url, 12), { runId: 'inband1' });

  const failed = result.requests.filter((r) => r.outcome === 'failed');
  expect(failed).toHaveLength(3);
  for (const r of failed) {
    expect([r.status, r.error, r.chunks, r.reasons]).toEqual([200, 'in_band_error', 0, []]);
  }
  expect(result.requests.filter((r) => r.outcome === 'ok')).toHaveLength(9);
  expect(result.totals.findings).toEqual({});
  expect(result.verdict).toEqual({
    verdict: 'UNVERIFIED',
    exitCode: 3,
    summary: 'no crosstalk seen, but not every request was verified',
    details: ['3 requests failed: in_band_error ×3'],
    offending: [],
  });
});

it('an error after the answer started: the request failed, its cut-short answer is not judged for a missing nonce', async () => {
  const upstream = await startFakeUpstream({ inBandErrors: (n) => n === 1, errorAfterContent: true });
  const result = await runProbe(gatewayConfig(upstream.url, 1), { runId: 'inband2' });
  const [only] = result.requests;
  expect([only?.outcome, only?.error, only?.chunks, only?.reasons]).toEqual(['failed', 'in_band_error', 1, []]);
  expect(result.verdict.verdict).toBe('UNVERIFIED');
});

it('every request an in-band error: the target answered, nothing was verified: UNVERIFIED, not COULD NOT RUN', async () => {
  const upstream = await startFakeUpstream({ inBandErrors: () => true });
  const result = await runProbe(gatewayConfig(upstream.url, 4), { runId: 'inband3' });
  expect([result.verdict.verdict, result.verdict.exitCode, result.verdict.summary]).toEqual([
    'UNVERIFIED',
    3,
    'none of 4 requests was answered: 4 came back as in-band errors (a 200 stream carrying data: {"error":…}), so nothing was verified',
  ]);
});
