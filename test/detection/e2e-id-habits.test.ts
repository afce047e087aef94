import { expect, it } from 'vitest';
import { SimulatedGateway } from '../../src/simulator/index.js';
import { startProxy, type Harness } from '../helpers/proxy-harness.js';
import { keyOf } from './e2e.js';
import { answer, startScriptedRouter, writeSse, type ScriptedChat } from './scripted-router.js';

// Issue 13 item 5, through the real proxy: each provider's completion-id habit (per on-chain model) is learned from
// clean answers. Collision and interleave rules apply only where the habit makes them meaningful: benign drift,
// fixed ids and counters are never flagged; where ids are stable and unique, a foreign id is.
async function world(
  script: (chat: ScriptedChat) => string[],
): Promise<{ h: Harness; run(n: number, concurrent?: boolean): Promise<string[]> }> {
  const router = await startScriptedRouter({ answer: (chat) => writeSse(chat.res, script(chat)) });
  const h = await startProxy(router.url, { sessionScope: 'shared' });
  const gateway = new SimulatedGateway({ baseUrl: h.url, mode: 'pooled', auth: { username: 'admin', password: 'pw' } });
  let n = 0;
  const one = async (): Promise<string> => {
    const id = `habit-${++n}`;
    await gateway.chat({ apiKey: keyOf(0), model: 'qwen3-235b', headers: { 'x-request-id': id } });
    return id;
  };
  return {
    h,
    async run(count, concurrent = false) {
      const ids: string[] = [];
      if (concurrent) ids.push(...(await Promise.all(Array.from({ length: count }, one))));
      else for (let i = 0; i < count; i++) ids.push(await one());
      for (let i = 0; i < 100 && h.proxy.activeRequests > 0; i++) await new Promise((r) => setImmediate(r));
      return ids;
    },
  };
}

const flagged = (h: Harness) => h.proxy.incidents.list().map((i) => `${i.requestId}:${i.reasons.join('+')}`);

it('stable, unique ids: learned clean; then the first foreign id inside a stream is flagged', async () => {
  let foreignAt = -1;
  const w = await world(({ n, model }) =>
    answer({ model, id: (i) => (n === foreignAt && i >= 2 ? `chatcmpl-other-${n}` : `chatcmpl-${n}-a8f3e1c9b7`) }),
  );
  await w.run(6);
  expect(flagged(w.h)).toEqual([]);
  foreignAt = 7;
  const [mixed] = await w.run(1);
  await w.run(3);
  expect(flagged(w.h)).toEqual([`${mixed}:completion_id_interleave`]);
  expect(w.h.proxy.incidents.list()[0]?.evidence[0]).toMatchObject({ rule: 'stable_habit', seen: 'chatcmpl-other-7' });
});

it('drifting ids (a new id per chunk, as llama.cpp): never flagged for drift; an id another request got still is', async () => {
  let steal = false;
  const w = await world(({ n, model }) => answer({ model, id: (i) => (steal && i === 1 ? 'chatcmpl-3-2-77aa95' : `chatcmpl-${n}-${i}-77aa${n * 31 + i}`) }));
  await w.run(8);
  await w.run(4, true);
  expect(flagged(w.h)).toEqual([]);
  // The 13th answer carries, in its second chunk, an id delivered to the 3rd request.
  steal = true;
  const [thief] = await w.run(1);
  expect(flagged(w.h)).toEqual([`${thief}:completion_id_collision`]);
  expect(w.h.proxy.incidents.list()[0]?.relatedRequestIds).toEqual(['habit-3']);
});

it('one fixed id for every answer (chatcmpl-1): never a collision, even concurrently', async () => {
  const w = await world(({ model }) => answer({ model, id: () => 'chatcmpl-1' }));
  await w.run(3);
  await w.run(6, true);
  await w.run(3);
  expect(flagged(w.h)).toEqual([]);
});

it('small counters that restart (cmpl-000001…): never a collision', async () => {
  const w = await world(({ n, model }) => answer({ model, id: () => `cmpl-${String(n % 4).padStart(6, '0')}` }));
  await w.run(5);
  await w.run(6, true);
  await w.run(5);
  expect(flagged(w.h)).toEqual([]);
});
