import { expect, it } from 'vitest';
import { chatCompletionsUrl, resolveProbeConfig } from '../../src/probe/options.js';
import { runProbe } from '../../src/probe/run-probe.js';
import { TEST_KEYS, startFakeUpstream } from './helpers.js';

it("gateway mode speaks the gateway's API: /api/v1/chat/completions, Bearer sk-…, the model by name", async () => {
  const upstream = await startFakeUpstream();
  const config = resolveProbeConfig(
    { target: upstream.url, apiKey: [TEST_KEYS[0] as string], model: ['llama-3.3-70b'], requests: '2', concurrency: '1', progress: false },
    {},
  );
  expect(config.chatUrl).toBe(`${upstream.url}/api/v1/chat/completions`);
  await runProbe(config, { runId: 'gwapi1' });
  expect(upstream.received.map((r) => [r.headers[':path'], r.headers['authorization'], r.body.model])).toEqual([
    ['/api/v1/chat/completions', `Bearer ${TEST_KEYS[0]}`, 'llama-3.3-70b'],
    ['/api/v1/chat/completions', `Bearer ${TEST_KEYS[0]}`, 'llama-3.3-70b'],
  ]);
});

it('the newer gateway answers with an X-Request-Id of its own: recorded for the join, never a request_id_mismatch', async () => {
  const upstream = await startFakeUpstream({ ownRequestIds: true });
  const config = resolveProbeConfig(
    { target: `${upstream.url}/api/v1`, apiKey: TEST_KEYS.slice(0, 2), model: ['a', 'b'], requests: '4', concurrency: '2', progress: false },
    {},
  );
  const result = await runProbe(config, { runId: 'gwapi2' });
  expect(result.requests.map((r) => r.reasons)).toEqual([[], [], [], []]);
  expect(result.requests.map((r) => r.upstreamRequestId).sort()).toEqual(['gw-00000001', 'gw-00000002', 'gw-00000003', 'gw-00000004']);
  expect(result.requests.map((r) => r.echo)).toEqual(['missing', 'missing', 'missing', 'missing']);
  expect([result.verdict.verdict, result.verdict.summary]).toEqual([
    'UNVERIFIED',
    "the gateway answered with X-Request-Ids of its own (4 of 4 answers): the router's echo is not visible through it; " +
      'probe the sidecar directly, or join its incidents (--sidecar-admin)',
  ]);
});

it('a router or sidecar target keeps /v1/chat/completions', () => {
  expect(chatCompletionsUrl(new URL('http://sidecar:8080'))).toBe('http://sidecar:8080/v1/chat/completions');
  expect(chatCompletionsUrl(new URL('https://gw.example'), 'gateway')).toBe('https://gw.example/api/v1/chat/completions');
  expect(chatCompletionsUrl(new URL('https://gw.example/api/v1/'), 'gateway')).toBe('https://gw.example/api/v1/chat/completions');
});

it("an offending request through the gateway is listed with the gateway's own id, to find it in the gateway's logs", async () => {
  const upstream = await startFakeUpstream({ ownRequestIds: true, repeatNonce: false });
  const config = resolveProbeConfig(
    { target: upstream.url, apiKey: [TEST_KEYS[0] as string], model: ['a'], requests: '1', expectEcho: true, progress: false },
    {},
  );
  const result = await runProbe(config, { runId: 'gwapi3' });
  expect(result.verdict.offending.map((o) => [o.requestId, o.upstreamRequestId, o.reasons])).toEqual([
    ['probe-gwapi3-1', 'gw-00000001', ['nonce_missing']],
  ]);
});
