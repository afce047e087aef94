import { request } from 'undici';
import { expect, it } from 'vitest';
import { HEADER_REQUEST_ID_ECHO } from '../../src/protocol/headers.js';
import { SimulatedGateway } from '../../src/simulator/index.js';
import { CROSSTALK_REQUEST_ID, CROSSTALK_REQUEST_ID_ECHO } from '../../src/telemetry/attributes.js';
import { startProxy, waitForSpan } from '../helpers/proxy-harness.js';
import { keyOf, settled, startE2e } from './e2e.js';
import { chunk, startScriptedRouter, writeSse } from './scripted-router.js';

// Issue 13 item 7, through the real proxy: an ingress between the sidecar and the router rewrites `x-request-id`.
// An echoed id the sidecar never issued is recorded as rewritten by a hop — no finding, no incident; the caller's
// `x-crosstalk-request-id-echo` says `rewritten`.
it('an echo the sidecar never issued is "rewritten", not a mismatch', async () => {
  const w = await startE2e({ seed: 71, mode: 'pooled' });
  const x = await w.chat(keyOf(0), 'llama-3.3-70b', 40, {}, { 'x-sim-fault': 'wrong-request-id' });
  const res = await request(`${w.harness.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { ...w.gateway.chatHeaders(x.result.sessionId), 'x-sim-fault': 'wrong-request-id' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stream: true }),
  });
  await res.body.text();
  expect(res.headers[HEADER_REQUEST_ID_ECHO]).toBe('rewritten');
  await settled(w);
  const span = await waitForSpan(w.harness.tracing, (n) => n.startsWith('chat'));
  expect(span.attributes[CROSSTALK_REQUEST_ID_ECHO]).toBe('rewritten');
  expect(w.harness.proxy.incidents.count).toBe(0);
  expect(Number((await w.harness.proxy.metrics.detected.get()).values.reduce((a, v) => a + v.value, 0))).toBe(0);
});

// The one case that is a mismatch: the echo names an id the sidecar issued to ANOTHER request.
it('an echo naming an id issued to another request is request_id_mismatch', async () => {
  const issued: string[] = [];
  const router = await startScriptedRouter({
    answer: ({ headers, res, n }) => {
      issued.push(String(headers['x-request-id']));
      // The second answer carries the first request's id (an answer that went to the wrong connection).
      res.setHeader('x-request-id', n === 2 ? (issued[0] as string) : String(headers['x-request-id']));
      writeSse(res, [chunk({ id: `c-${n}`, model: 'm', content: 'hi' })]);
    },
  });
  const h = await startProxy(router.url, { sessionScope: 'shared' });
  const gateway = new SimulatedGateway({ baseUrl: h.url, mode: 'pooled', auth: { username: 'admin', password: 'pw' } });
  await gateway.chat({ apiKey: keyOf(0), model: 'llama-3.3-70b', headers: { 'x-request-id': 'first-req' } });
  const second = await gateway.chat({ apiKey: keyOf(0), model: 'llama-3.3-70b', headers: { 'x-request-id': 'second-req' } });
  expect(second.status).toBe(200);
  for (let i = 0; i < 100 && h.proxy.activeRequests > 0; i++) await new Promise((r) => setImmediate(r));
  const incidents = h.proxy.incidents.list();
  expect(incidents.map((i) => [i.requestId, i.reasons])).toEqual([['second-req', ['request_id_mismatch']]]);
  expect(incidents[0]?.evidence[0]).toMatchObject({ expected: 'second-req', seen: 'first-req', rule: 'issued_to_other' });
  // The incident names the other party: the request whose id came back on this answer.
  expect(incidents[0]?.relatedRequestIds).toEqual(['first-req']);
  const span = h.tracing.exporter.getFinishedSpans().find((s) => s.attributes[CROSSTALK_REQUEST_ID] === 'second-req');
  expect(span?.attributes[CROSSTALK_REQUEST_ID_ECHO]).toBe('mismatch');
});
