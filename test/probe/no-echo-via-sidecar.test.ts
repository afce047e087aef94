import { expect, it } from 'vitest';
import { runProbe } from '../../src/probe/run-probe.js';
import { startProxy } from '../helpers/proxy-harness.js';
import { routerConfig, startRouter } from './helpers.js';

/**
 * The sidecar answers the caller with its own x-request-id, so the router's echo (or its absence) reaches the
 * probe only through the sidecar's `x-crosstalk-request-id-echo` header (HEADER_REQUEST_ID_ECHO).
 */
it('a router that does not echo X-Request-Id, through the sidecar: UNVERIFIED (exit 3)', async () => {
  const router = await startRouter({ bug: 'none', echoRequestId: false });
  const { url, adminUrl } = await startProxy(router.url);
  const result = await runProbe(routerConfig(router, url, { sidecarAdmin: adminUrl }), { runId: 'nec001' });

  expect(result.verdict.verdict).toBe('UNVERIFIED');
  expect(result.verdict.exitCode).toBe(3);
  expect(result.verdict.summary).toBe(
    'no answer echoed its x-request-id (60 answered): the upstream does not echo request ids, so a correct answer cannot be told from a lucky one',
  );
  expect(result.totals.echo).toEqual({ match: 0, missing: 60, mismatch: 0 });
  expect(result.requests.every((r) => r.echoSource === 'sidecar')).toBe(true);
  expect(result.totals.crosstalk).toBe(0);
});
