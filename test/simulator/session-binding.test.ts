import { expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/router.js';
import { makeSessions, sessionIdFor } from '../../src/simulator/catalogue.js';
import { postJson, type RawResponse } from './http.js';
import { jsonChunks } from './sse.js';

const chat = { stream: true, messages: [{ role: 'user', content: 'hi' }] };

function error(res: RawResponse): unknown {
  return JSON.parse(res.body);
}

it('binds each session to one model, reads session_id or X-Session-ID and ignores ?session_id=', async () => {
  const router = await startSimulatedRouter({ sessions: makeSessions(2), auth: false });
  onTestFinished(() => router.close());
  expect(router.sessions.list()).toHaveLength(6);
  const llama = sessionIdFor('llama-3.3-70b', 1);
  const qwen = sessionIdFor('qwen3-235b', 0);
  const url = `${router.url}/v1/chat/completions`;

  // session_id wins; the query parameter older gateways add is ignored.
  const viaSessionId = await postJson(`${url}?session_id=${qwen}`, { session_id: llama }, chat);
  expect(jsonChunks(viaSessionId.body).every((c) => c.model === 'llama-3.3-70b')).toBe(true);

  const viaXSessionId = await postJson(url, { 'x-session-id': qwen }, chat);
  expect(jsonChunks(viaXSessionId.body).every((c) => c.model === 'qwen3-235b')).toBe(true);

  const onlyQuery = await postJson(`${url}?session_id=${qwen}`, {}, chat);
  expect(onlyQuery.status).toBe(400);
  expect(error(onlyQuery)).toEqual({ error: 'session_id header is required' });

  const malformed = await postJson(url, { session_id: '0x1234' }, chat);
  expect(malformed.status).toBe(400);
  expect(error(malformed)).toEqual({ error: 'invalid session_id header: 0x1234' });

  const unknownId = `0x${'ab'.repeat(32)}`;
  const unknown = await postJson(url, { session_id: unknownId }, chat);
  expect(unknown.status).toBe(404);
  expect(error(unknown)).toEqual({ error: `session not found: ${unknownId}` });

  expect(router.stats.bySession).toEqual(
    new Map([
      [llama, 1],
      [qwen, 1],
    ]),
  );
  expect(router.stats.chatCompletions).toBe(2);
});

it('serves a local model when sessions are not required', async () => {
  const router = await startSimulatedRouter({ auth: false, requireSession: false });
  onTestFinished(() => router.close());
  const res = await postJson(`${router.url}/v1/chat/completions`, { model_id: router.models[2]?.id ?? '' }, chat);
  expect(jsonChunks(res.body)[0]?.model).toBe('mistral-31-24b');
});
