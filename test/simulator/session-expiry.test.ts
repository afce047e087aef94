import { expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/router.js';
import { postJson } from './http.js';

it('answers session expired once a session ends, and session closed after it is closed', async () => {
  let now = 1_760_000_000_000;
  const router = await startSimulatedRouter({ auth: false, clock: () => now, sessionDurationSec: 600 });
  onTestFinished(() => router.close());
  const [first, second] = router.sessions.list();
  const url = `${router.url}/v1/chat/completions`;
  const chat = { messages: [{ role: 'user', content: 'hi' }] };

  expect((await postJson(url, { session_id: first?.id ?? '' }, chat)).status).toBe(200);

  now += 600_000;
  const expired = await postJson(url, { session_id: first?.id ?? '' }, chat);
  expect(expired.status).toBe(400);
  expect(JSON.parse(expired.body)).toEqual({ error: 'session expired' });

  now = 1_760_000_000_000;
  router.sessions.expire(second?.id ?? '');
  expect(JSON.parse((await postJson(url, { session_id: second?.id ?? '' }, chat)).body)).toEqual({
    error: 'session expired',
  });

  const third = router.sessions.list()[2];
  router.sessions.close(third?.id ?? '');
  expect(JSON.parse((await postJson(url, { session_id: third?.id ?? '' }, chat)).body)).toEqual({
    error: 'session closed',
  });
});
