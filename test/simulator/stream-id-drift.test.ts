import { expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/router.js';
import { postJson } from './http.js';
import { jsonChunks } from './sse.js';

it('idDrift gives every chunk its own completion id, like llama.cpp', async () => {
  const router = await startSimulatedRouter({ auth: false, idDrift: true, chunks: 5 });
  onTestFinished(() => router.close());
  const res = await postJson(
    `${router.url}/v1/chat/completions`,
    { session_id: router.sessions.list()[0]?.id ?? '' },
    { stream: true, messages: [] },
  );
  const ids = jsonChunks(res.body).map((c) => c.id);
  expect(ids).toHaveLength(6);
  expect(new Set(ids).size).toBe(6);
});
