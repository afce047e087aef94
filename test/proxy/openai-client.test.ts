import OpenAI from 'openai';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/index.js';
import { startProxy } from '../helpers/proxy-harness.js';

const API_KEY = 'sk-OpenAI.' + '0123456789abcdef'.repeat(4);

async function collect(client: OpenAI, session: string, nonce: string) {
  const stream = await client.chat.completions.create(
    { model: 'llama-3.3-70b', stream: true, messages: [{ role: 'user', content: `Say hi. nonce:${nonce}` }] },
    { headers: { session_id: session, 'X-Session-ID': session } },
  );
  const ids = new Set<string>();
  const models = new Set<string>();
  let content = '';
  let usage: unknown;
  for await (const chunk of stream) {
    ids.add(chunk.id);
    models.add(chunk.model);
    content += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  return { ids: [...ids], models: [...models], content, usage };
}

describe('the unmodified openai client through the sidecar', () => {
  it('streams a chat completion from the simulated router with the same content as going direct', async () => {
    const router = await startSimulatedRouter({ auth: false, seed: 7, chunks: 12 });
    onTestFinished(() => router.close());
    const session = router.sessions.forModel('llama-3.3-70b')[0]?.id as string;
    const { url } = await startProxy(router.url);

    const direct = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: API_KEY, maxRetries: 0 });
    const proxied = new OpenAI({ baseURL: `${url}/v1`, apiKey: API_KEY, maxRetries: 0 });
    const viaDirect = await collect(direct, session, 'n-direct');
    const viaProxy = await collect(proxied, session, 'n-direct');

    expect(viaProxy.content.length).toBeGreaterThan(100);
    expect(viaProxy.content).toContain('nonce:n-direct');
    expect(viaProxy.models).toEqual(['llama-3.3-70b']);
    expect(viaProxy.ids).toHaveLength(1);
    // The simulated router is deterministic per seed and prompt except for the completion id.
    expect(viaProxy.content).toBe(viaDirect.content);
    expect(viaProxy.usage).toEqual(viaDirect.usage);
  });

  it('non-streamed completions come back whole', async () => {
    const router = await startSimulatedRouter({ auth: false, seed: 7 });
    onTestFinished(() => router.close());
    const session = router.sessions.forModel('qwen3-235b')[0]?.id as string;
    const { url } = await startProxy(router.url);
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: API_KEY, maxRetries: 0 });
    const completion = await client.chat.completions.create(
      { model: 'qwen3-235b', messages: [{ role: 'user', content: 'nonce:abc123' }] },
      { headers: { session_id: session } },
    );
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('qwen3-235b');
    expect(completion.choices[0]?.message.content).toContain('nonce:abc123');
  });
});
