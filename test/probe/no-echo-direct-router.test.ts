import { expect, it } from 'vitest';
import { runProbe } from '../../src/probe/run-probe.js';
import { routerConfig, startRouter } from './helpers.js';

it('a router that does not echo X-Request-Id, probed directly: UNVERIFIED (exit 3), no crosstalk', async () => {
  const router = await startRouter({ bug: 'none', echoRequestId: false });
  const result = await runProbe(routerConfig(router, router.url), { runId: 'ned001' });

  expect(result.verdict.verdict).toBe('UNVERIFIED');
  expect(result.verdict.exitCode).toBe(3);
  expect(result.totals.echo).toEqual({ match: 0, missing: 60, mismatch: 0 });
  expect(result.requests.every((r) => r.echoSource === 'response' && r.nonceSeen)).toBe(true);
  expect(result.totals.crosstalk).toBe(0);
});
