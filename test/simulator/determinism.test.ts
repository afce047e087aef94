import { expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/router.js';
import type { SimulatedRouterOptions } from '../../src/simulator/options.js';
import { postJson, rawRequest } from './http.js';

/** The same sequential traffic against a fresh router; returns everything the client saw. */
async function session(options: SimulatedRouterOptions): Promise<string[]> {
  const router = await startSimulatedRouter({ auth: false, clock: () => 1_760_000_000_000, ...options });
  onTestFinished(() => router.close());
  const sessionId = router.sessions.list()[0]?.id ?? '';
  const url = `${router.url}/v1/chat/completions`;
  const seen: string[] = [];
  for (const stream of [true, false, true]) {
    const res = await postJson(url, { session_id: sessionId }, { stream, messages: [{ role: 'user', content: 'x' }] });
    seen.push(String(res.headers['x-request-id']), res.body);
  }
  const opened = await rawRequest(`${router.url}/blockchain/models/${router.models[1]?.id ?? ''}/session`, {
    method: 'POST',
  });
  seen.push(opened.body);
  return seen;
}

it('replays byte for byte with the same seed, and differs with another', async () => {
  const first = await session({ seed: 7, idDrift: true });
  const again = await session({ seed: 7, idDrift: true });
  const other = await session({ seed: 8, idDrift: true });
  expect(again).toEqual(first);
  expect(other).not.toEqual(first);
});

it('random chunking moves write boundaries but never the bytes', async () => {
  const plain = await session({ seed: 'abc' });
  const chunked = await session({ seed: 'abc', randomChunking: true });
  expect(chunked).toEqual(plain);
});
