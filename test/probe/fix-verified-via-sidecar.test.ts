import { expect, it } from 'vitest';
import { runProbe } from '../../src/probe/run-probe.js';
import { startProxy } from '../helpers/proxy-harness.js';
import { routerConfig, startRouter } from './helpers.js';

it('bug off through the sidecar: FIX VERIFIED, every echo matched, nothing flagged on either side', async () => {
  const router = await startRouter({ bug: 'none' });
  const { url, adminUrl } = await startProxy(router.url);
  const result = await runProbe(routerConfig(router, url, { sidecarAdmin: adminUrl }), { runId: 'fix001' });

  expect(result.verdict).toEqual({
    verdict: 'FIX VERIFIED',
    exitCode: 0,
    summary: '60 requests: every answer echoed its own request id and none showed crosstalk',
    details: [],
    offending: [],
  });
  expect(result.totals).toMatchObject({
    requests: 60,
    ok: 60,
    empty: 0,
    failed: 0,
    aborted: 0,
    echo: { match: 60, missing: 0, mismatch: 0 },
    crosstalk: 0,
    findings: {},
  });
  // Every answer carried its own nonce and one completion id of its own, from the model it asked for.
  for (const r of result.requests) {
    expect(r.nonceSeen).toBe(true);
    expect(r.completionIds).toHaveLength(1);
    expect(r.responseModels).toEqual([r.model]);
  }
  expect(new Set(result.requests.map((r) => r.completionIds[0])).size).toBe(60);
  expect(result.sidecar).toMatchObject({ onThisRun: 0, both: [], sidecarOnly: [], probeOnly: [] });
  // The streams did overlap: the router served several at once.
  expect(router.stats.streams).toBe(60);
});
