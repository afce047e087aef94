import { expect, it } from 'vitest';
import { runProbe } from '../../src/probe/run-probe.js';
import { startProxy } from '../helpers/proxy-harness.js';
import { routerConfig, startRouter } from './helpers.js';

it('swap bug through the sidecar: CROSSTALK; each victim holds its partner answer, and the sidecar agrees', async () => {
  const router = await startRouter({ bug: 'swap' });
  const { url, adminUrl } = await startProxy(router.url);
  const result = await runProbe(routerConfig(router, url, { sidecarAdmin: adminUrl }), { runId: 'swp001' });

  expect(result.verdict.verdict).toBe('CROSSTALK');
  expect(result.verdict.exitCode).toBe(1);
  expect(router.stats.misdirectedStreams).toBeGreaterThan(0);
  const swapped = result.requests.filter((r) => r.reasons.includes('foreign_nonce'));
  expect(swapped.length).toBeGreaterThan(0);
  // A swap is mutual: if A holds B's answer, B holds A's.
  const holds = new Map(result.verdict.offending.map((o) => [o.requestId, o.answersOf]));
  for (const [id, answers] of holds) {
    for (const other of answers) expect(holds.get(other)).toContain(id);
  }
  // Whole answers traded: no stream is empty, nothing interleaves.
  expect(result.totals.empty).toBe(0);
  expect(result.totals.findings['completion_id_interleave']).toBeUndefined();
  // The sidecar sees a swap between models (model_mismatch); whatever it flagged, the probe flagged too.
  expect(result.sidecar?.both.length).toBeGreaterThan(0);
  expect(result.sidecar?.sidecarOnly).toEqual([]);
});
