import { expect, it } from 'vitest';
import { runProbe } from '../../src/probe/run-probe.js';
import { startProxy } from '../helpers/proxy-harness.js';
import { routerConfig, startRouter } from './helpers.js';

it('shared-reply bug through the sidecar: CROSSTALK, naming request ids the sidecar flagged too', async () => {
  const router = await startRouter({ bug: 'shared-reply' });
  const { url, adminUrl } = await startProxy(router.url);
  const result = await runProbe(routerConfig(router, url, { sidecarAdmin: adminUrl }), { runId: 'shr001' });

  expect(result.verdict.verdict).toBe('CROSSTALK');
  expect(result.verdict.exitCode).toBe(1);
  // Every answer reached its caller's connection with the right echo: the bug is in the body, not the headers.
  expect(result.totals.echo.mismatch).toBe(0);
  expect(result.totals.failed).toBe(0);

  // The victims' streams hold another request's chunks: interleaved ids, another model, another prompt's nonce.
  const probeFlagged = result.requests.filter((r) => r.reasons.length > 0);
  expect(probeFlagged.length).toBeGreaterThan(0);
  const reasons = new Set(probeFlagged.flatMap((r) => r.reasons));
  expect(reasons).toContain('completion_id_interleave');
  expect(reasons).toContain('foreign_nonce');
  // The other side of a misdirected reply: connections that got no completion at all.
  expect(result.totals.empty).toBeGreaterThan(0);

  // The join with the sidecar's /incidents: the sidecar flagged requests of this run, and every one of them
  // is one the probe named by its own checks.
  const sidecar = result.sidecar;
  expect(sidecar?.error).toBeUndefined();
  expect(sidecar?.onThisRun).toBeGreaterThan(0);
  expect(sidecar?.both.length).toBeGreaterThan(0);
  expect(sidecar?.sidecarOnly).toEqual([]);
  const named = new Set(result.verdict.offending.map((o) => o.requestId));
  for (const id of sidecar?.both ?? []) expect(named).toContain(id);
  for (const id of sidecar?.both ?? []) expect(id).toMatch(/^probe-shr001-\d+$/);
});
