import { expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/router.js';
import { SIM_HEADER_CHUNKS } from '../../src/simulator/faults.js';
import { postJson } from './http.js';

it('answers a non-streamed chat request with one chat.completion JSON body', async () => {
  const router = await startSimulatedRouter({ clock: () => 1_760_000_000_000 });
  onTestFinished(() => router.close());
  const session = router.sessions.forModel('mistral-31-24b')[0]?.id ?? '';

  const res = await postJson(
    `${router.url}/v1/chat/completions`,
    { ...router.chatHeaders(session), [SIM_HEADER_CHUNKS]: '2' },
    { stream: false, messages: [{ role: 'user', content: 'nonce:abc' }] },
  );

  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  const body = JSON.parse(res.body) as { id: string; choices: { message: { content: string } }[] };
  expect(body.id).toMatch(/^chatcmpl-[0-9a-f]{24}$/);
  const content = body.choices[0]?.message.content ?? '';
  expect(content).toHaveLength(120);
  expect(content.startsWith('nonce:abc ')).toBe(true);
  const usage = { prompt_tokens: 3, completion_tokens: 30, total_tokens: 33 };
  expect(body).toEqual({
    id: body.id,
    object: 'chat.completion',
    created: 1_760_000_000,
    model: 'mistral-31-24b',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage,
    usage_from_provider: usage,
    usage_from_consumer: usage,
  });
});
