import { describe, expect, it } from 'vitest';
import { resolveProbeConfig } from '../../src/probe/options.js';
import { runProbe } from '../../src/probe/run-probe.js';
import { TEST_KEYS, startFakeUpstream } from './helpers.js';

/**
 * A sidecar always answers with the caller's own x-request-id; what counts is the upstream's echo, which it
 * reports in `x-crosstalk-request-id-echo`. Played here by a fake upstream that sends both headers.
 */
describe('x-crosstalk-request-id-echo overrides the response x-request-id', () => {
  const probe = async (sidecarEcho: 'match' | 'missing' | 'mismatch') => {
    const upstream = await startFakeUpstream({ sidecarEcho });
    const config = resolveProbeConfig(
      { target: `${upstream.url}/v1`, apiKey: [TEST_KEYS[0] as string], model: ['a', 'b'], requests: '4', concurrency: '2', progress: false },
      {},
    );
    return runProbe(config, { runId: 'sce001' });
  };

  it('missing: UNVERIFIED although the response carries the right x-request-id', async () => {
    const result = await probe('missing');
    expect(result.verdict.verdict).toBe('UNVERIFIED');
    expect(result.totals.echo).toEqual({ match: 0, missing: 4, mismatch: 0 });
    expect(result.requests.every((r) => r.echoSource === 'sidecar')).toBe(true);
    expect(result.warnings).toContain("echo as reported by the sidecar (x-crosstalk-request-id-echo): the upstream's own echo, not the sidecar's");
  });

  it('mismatch: CROSSTALK (request_id_mismatch)', async () => {
    const result = await probe('mismatch');
    expect(result.verdict.verdict).toBe('CROSSTALK');
    expect(result.totals.findings).toEqual({ request_id_mismatch: 4 });
  });

  it('match: FIX VERIFIED', async () => {
    expect((await probe('match')).verdict.verdict).toBe('FIX VERIFIED');
  });
});
