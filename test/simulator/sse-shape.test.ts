import { describe, expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/router.js';
import { SIM_HEADER_CHUNKS, SIM_HEADER_CHUNK_BYTES } from '../../src/simulator/faults.js';
import { postJson } from './http.js';
import { contentChunks, jsonChunks, parseSse } from './sse.js';

async function start() {
  const router = await startSimulatedRouter({ clock: () => 1_760_000_000_000 });
  onTestFinished(() => router.close());
  return router;
}

describe('streamed chat completion', () => {
  it('sends the router SSE shape: 20 chunks of ~60 bytes under the session model, a usage chunk, then [DONE]', async () => {
    const router = await start();
    const session = router.sessions.forModel('qwen3-235b')[0];
    expect(session).toBeDefined();
    const res = await postJson(`${router.url}/v1/chat/completions`, router.chatHeaders(session?.id ?? ''), {
      stream: true,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'please echo nonce:probe-42_x.y' },
      ],
    });

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.complete).toBe(true);

    const events = parseSse(res.body);
    expect(events).toHaveLength(22);
    expect(events.at(-1)).toEqual({ data: '[DONE]', comments: [] });
    expect(res.body.endsWith('}\n\ndata: [DONE]\n\n')).toBe(true);

    const chunks = jsonChunks(res.body);
    const id = chunks[0]?.id ?? '';
    expect(id).toMatch(/^chatcmpl-[0-9a-f]{24}$/);
    const content = contentChunks(res.body);
    expect(content).toHaveLength(20);
    for (const chunk of content) {
      expect(chunk).toEqual({
        id,
        object: 'chat.completion.chunk',
        created: 1_760_000_000,
        model: 'qwen3-235b',
        choices: [{ index: 0, delta: { content: expect.any(String) as string }, finish_reason: null }],
      });
      expect(chunk.choices[0]?.delta.content).toHaveLength(60);
    }
    expect(content[0]?.choices[0]?.delta.content?.startsWith('nonce:probe-42_x.y ')).toBe(true);

    const usage = { prompt_tokens: expect.any(Number) as number, completion_tokens: 300, total_tokens: expect.any(Number) as number };
    expect(chunks.at(-1)).toEqual({
      id,
      object: 'chat.completion.chunk',
      created: 1_760_000_000,
      model: 'qwen3-235b',
      choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
      usage,
      usage_from_provider: usage,
      usage_from_consumer: usage,
    });
  });

  it('takes the chunk count and size from x-sim-* request headers', async () => {
    const router = await start();
    const session = router.sessions.list()[0]?.id ?? '';
    const res = await postJson(
      `${router.url}/v1/chat/completions`,
      { ...router.chatHeaders(session), [SIM_HEADER_CHUNKS]: '3', [SIM_HEADER_CHUNK_BYTES]: '7' },
      { stream: true, messages: [{ role: 'user', content: 'hi' }] },
    );
    const content = contentChunks(res.body);
    expect(content.map((c) => c.choices[0]?.delta.content?.length)).toEqual([7, 7, 7]);
  });

  it('answers 400 for a malformed x-sim-* header', async () => {
    const router = await start();
    const session = router.sessions.list()[0]?.id ?? '';
    const res = await postJson(
      `${router.url}/v1/chat/completions`,
      { ...router.chatHeaders(session), [SIM_HEADER_CHUNKS]: 'many' },
      { stream: true, messages: [] },
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ error: "x-sim-chunks must be a non-negative integer, got 'many'" });
  });
});
