import { expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/router.js';
import { SIM_HEADER_CHUNKS } from '../../src/simulator/faults.js';
import { rawRequest } from './http.js';
import { contentOf, jsonChunks } from './sse.js';

it('swap: two overlapping streams trade bodies (content, completion id and model); a lone stream is served right', async () => {
  const router = await startSimulatedRouter({ bug: 'swap', auth: false, swapPairWaitMs: 2_000 });
  onTestFinished(() => router.close());
  const [llama, qwen] = router.sessions.list();
  const send = (session: string, nonce: string) =>
    rawRequest(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { session_id: session, [SIM_HEADER_CHUNKS]: '4' },
      body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: `nonce:${nonce}` }] }),
    });

  const [a, b] = await Promise.all([send(llama?.id ?? '', 'for-a'), send(qwen?.id ?? '', 'for-b')]);

  expect(contentOf(a.body)).toContain('nonce:for-b');
  expect(contentOf(b.body)).toContain('nonce:for-a');
  expect(jsonChunks(a.body).every((c) => c.model === 'qwen3-235b')).toBe(true);
  expect(jsonChunks(b.body).every((c) => c.model === 'llama-3.3-70b')).toBe(true);
  const idsA = new Set(jsonChunks(a.body).map((c) => c.id));
  const idsB = new Set(jsonChunks(b.body).map((c) => c.id));
  expect(idsA.size).toBe(1);
  expect(idsB.size).toBe(1);
  expect([...idsA]).not.toEqual([...idsB]);
  expect(a.complete && b.complete).toBe(true);
  expect(router.stats.misdirectedStreams).toBe(2);

});

it('swap: a lone stream that finds no partner within the pairing wait is served correctly', async () => {
  const router = await startSimulatedRouter({ bug: 'swap', auth: false, swapPairWaitMs: 5 });
  onTestFinished(() => router.close());
  const lone = await rawRequest(`${router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { session_id: router.sessions.list()[0]?.id ?? '' },
    body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'nonce:alone' }] }),
  });
  expect(contentOf(lone.body)).toContain('nonce:alone');
  expect(jsonChunks(lone.body).every((c) => c.model === 'llama-3.3-70b')).toBe(true);
  expect(router.stats.misdirectedStreams).toBe(0);
});
