import { expect, it } from 'vitest';
import { ProbeVerifier } from '../../src/probe/verify.js';

// Through the sidecar, `x-crosstalk-request-id-echo: rewritten` means a hop between the sidecar and the router
// replaced the id: the router's own echo is not visible. For the probe that is a missing echo, never a mismatch.
it.each([
  ['rewritten', 'missing'],
  ['missing', 'missing'],
  ['match', 'match'],
  ['mismatch', 'mismatch'],
])('the sidecar says %s: the probe records the echo as %s', (told, expected) => {
  const verifier = new ProbeVerifier({ runId: 'rw01', expectEcho: true });
  const check = verifier.begin({ index: 0, requestId: 'probe-rw01-0', nonce: 'n', model: 'm' });
  check.onResponseHeaders({ 'x-request-id': 'probe-rw01-0', 'x-crosstalk-request-id-echo': told, 'content-type': 'text/event-stream' });
  const result = check.finish(false);
  expect(result.echo).toBe(expected);
  expect(result.echoSource).toBe('sidecar');
  if (told !== 'mismatch') expect(result.reasons).not.toContain('request_id_mismatch');
});
