import { expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/router.js';
import { postJson } from './http.js';

const chat = { stream: true, messages: [{ role: 'user', content: 'hi' }] };

it('newer routers echo X-Request-Id, generating 8 hex chars when the request had none', async () => {
  const router = await startSimulatedRouter({ auth: false });
  onTestFinished(() => router.close());
  const session = router.sessions.list()[0]?.id ?? '';
  const url = `${router.url}/v1/chat/completions`;

  const echoed = await postJson(url, { session_id: session, 'x-request-id': 'req-0001' }, chat);
  expect(echoed.headers['x-request-id']).toBe('req-0001');
  // Only the header carries it: nothing in the chunks, and no session_id response header.
  expect(echoed.body).not.toContain('req-0001');
  expect(echoed.headers['session_id']).toBeUndefined();

  const generated = await postJson(url, { session_id: session }, chat);
  expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f]{8}$/);
});

it('older routers (echoRequestId: false) send no X-Request-Id; echoSession adds a session_id header', async () => {
  const router = await startSimulatedRouter({ auth: false, echoRequestId: false, echoSession: true });
  onTestFinished(() => router.close());
  const session = router.sessions.list()[0]?.id ?? '';
  const res = await postJson(`${router.url}/v1/chat/completions`, { session_id: session, 'x-request-id': 'r1' }, chat);
  expect(res.status).toBe(200);
  expect(res.headers['x-request-id']).toBeUndefined();
  expect(res.headers['session_id']).toBe(session);
});
