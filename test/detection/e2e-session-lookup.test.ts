import { request } from 'undici';
import { expect, it } from 'vitest';
import { basicAuthHeader, modelIdFor } from '../../src/simulator/index.js';
import { keyOf } from './e2e.js';
import { answer, scriptedWorld, type ScriptedWorld } from './scripted-router.js';

const SECRET = { username: 'router-admin', password: 'S3cr3t-pa55-ZQX' };
const AUTH = basicAuthHeader(SECRET);
const LATE = '0x' + '1a7e'.repeat(16);

/** A chat the way the gateway sends it, on a session the sidecar never saw opened (it started later). */
async function chatOnLateSession(w: ScriptedWorld, id: string): Promise<number> {
  const res = await request(`${w.h.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', session_id: LATE, 'X-Session-ID': LATE, authorization: AUTH, 'x-request-id': id },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }], stream: true }),
  });
  await res.body.text();
  for (let i = 0; i < 100 && w.h.proxy.activeRequests > 0; i++) await new Promise((r) => setImmediate(r));
  return res.statusCode;
}

// Issue 13 item 2, through the real proxy: a session the sidecar never saw opened is looked up once
// (`GET /blockchain/sessions/{id}`) with the request's OWN credentials, cached; its on-chain model then judges the
// answer. The credentials reach that one call and nothing else: not a span, a log line, an incident.
it('a session never seen opened is looked up once with the request credentials, which appear nowhere else', async () => {
  const w = await scriptedWorld(({ n, model, session }) =>
    answer({ model: session === LATE ? 'qwen3-235b' : model, id: () => `chatcmpl-${n}-1007${n}` }),
  );
  w.router.addSession(LATE, 'llama-3.3-70b');
  for (const [i, model] of ['llama-3.3-70b', 'llama-3.3-70b', 'qwen3-235b', 'qwen3-235b'].entries()) await w.chat(`warm-${i}`, keyOf(i), model);
  expect(await chatOnLateSession(w, 'late-1')).toBe(200);
  expect(await chatOnLateSession(w, 'late-2')).toBe(200);
  expect(w.router.lookups).toEqual([{ session: LATE, authorization: AUTH }]);
  expect(w.h.proxy.detection.store.session(LATE)?.modelId).toBe(modelIdFor('llama-3.3-70b'));
  // The looked-up model judged the answers: another model's name on a llama session.
  expect(w.flagged()).toEqual(['late-1:model_mismatch', 'late-2:model_mismatch']);
  const everything = JSON.stringify({
    spans: w.h.tracing.exporter.getFinishedSpans().map((s) => ({ n: s.name, a: s.attributes, e: s.events, l: s.links })),
    logs: w.h.logs,
    incidents: w.h.proxy.incidents.list(),
    metrics: await w.h.proxy.metrics.registry.metrics(),
  });
  for (const secret of [AUTH, AUTH.slice(6), SECRET.password, SECRET.username]) expect(everything).not.toContain(secret);
});

it('--session-lookup off: no look-up is made, the request is forwarded as usual', async () => {
  const w = await scriptedWorld(({ n, model }) => answer({ model, id: () => `chatcmpl-${n}-0ff${n}` }), { proxy: { sessionLookup: false } });
  w.router.addSession(LATE, 'llama-3.3-70b');
  expect(await chatOnLateSession(w, 'off-1')).toBe(200);
  expect(w.router.lookups).toEqual([]);
  expect(w.h.proxy.detection.store.session(LATE)?.modelId).toBeUndefined();
});

it('a look-up that never answers does not hang the request (--session-lookup-timeout)', async () => {
  const w = await scriptedWorld(({ n, model }) => answer({ model, id: () => `chatcmpl-${n}-71e${n}` }), { proxy: { sessionLookupTimeoutMs: 100 } });
  // The router's session look-up never answers; the chat route does.
  const never = new Promise<void>(() => undefined);
  w.router.setLookupGate(() => never);
  w.router.addSession(LATE, 'llama-3.3-70b');
  expect(await chatOnLateSession(w, 'slow-1')).toBe(200);
  expect(w.router.lookups.length).toBe(1);
  expect(w.h.proxy.detection.resolver?.counts.failed).toBe(1);
  expect(w.flagged()).toEqual([]);
});
