import { expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/router.js';
import { SIM_HEADER_CHUNKS, SIM_HEADER_CHUNK_DELAY_MS } from '../../src/simulator/faults.js';
import { rawRequest } from './http.js';
import { contentChunks, contentOf, jsonChunks, parseSse } from './sse.js';

it('shared-reply: a newer overlapping stream is written into the older connection; the newer gets none', async () => {
  const router = await startSimulatedRouter({ bug: 'shared-reply', auth: false });
  onTestFinished(() => router.close());
  const [llama, qwen] = router.sessions.list();
  const url = `${router.url}/v1/chat/completions`;
  const send = (session: string, nonce: string, chunks: number, delayMs: number, onData?: (soFar: string) => void) =>
    rawRequest(url, {
      method: 'POST',
      headers: {
        session_id: session,
        [SIM_HEADER_CHUNKS]: String(chunks),
        [SIM_HEADER_CHUNK_DELAY_MS]: String(delayMs),
      },
      body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: `nonce:${nonce}` }] }),
      onData,
    });

  // The newer request starts only once the older one is demonstrably streaming, so the overlap is certain.
  let startNewer: () => void = () => undefined;
  const olderIsStreaming = new Promise<void>((resolve) => (startNewer = resolve));
  // The older stream is slow (8 × 40 ms) so the newer one's 3 quick chunks land in the middle of it.
  const older = send(llama?.id ?? '', 'older', 8, 40, (soFar) => {
    if (soFar.includes('\n\n')) startNewer();
  });
  await olderIsStreaming;
  const [olderRes, newerRes] = await Promise.all([older, send(qwen?.id ?? '', 'newer', 3, 5)]);

  // Older connection: two completions interleaved — its own and the newer one's (other id, other model).
  const olderChunks = jsonChunks(olderRes.body);
  const ids = [...new Set(olderChunks.map((c) => c.id))];
  expect(ids).toHaveLength(2);
  const [ownId, foreignId] = ids;
  expect(olderChunks.filter((c) => c.id === ownId).every((c) => c.model === 'llama-3.3-70b')).toBe(true);
  expect(olderChunks.filter((c) => c.id === foreignId).every((c) => c.model === 'qwen3-235b')).toBe(true);
  expect(contentChunks(olderRes.body)).toHaveLength(11);
  const positions = olderChunks.map((c) => c.id);
  expect(positions.indexOf(foreignId ?? '')).toBeLessThan(positions.lastIndexOf(ownId ?? ''));
  expect(olderChunks.filter((c) => c.choices[0]?.finish_reason === 'stop')).toHaveLength(2);
  expect(contentOf(olderRes.body)).toContain('nonce:newer');
  expect(parseSse(olderRes.body).filter((e) => e.data === '[DONE]')).toHaveLength(1);
  expect(olderRes.complete).toBe(true);

  // Newer connection: headers, then an end with no content at all.
  expect(newerRes.status).toBe(200);
  expect(newerRes.headers['content-type']).toBe('text/event-stream');
  expect(parseSse(newerRes.body)).toEqual([{ data: '[DONE]', comments: [] }]);
  expect(newerRes.complete).toBe(true);
  expect(router.stats.misdirectedStreams).toBe(1);

  // A lone request is served correctly, and setBug('none') switches the bug off at runtime.
  const lone = await send(qwen?.id ?? '', 'lone', 3, 5);
  expect(new Set(jsonChunks(lone.body).map((c) => c.id)).size).toBe(1);
  expect(contentOf(lone.body)).toContain('nonce:lone');
  router.setBug('none');
  expect(router.bug).toBe('none');
});
