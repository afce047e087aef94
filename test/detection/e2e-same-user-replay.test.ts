import { expect, it } from 'vitest';
import { keyOf } from './e2e.js';
import { answer, scriptedWorld } from './scripted-router.js';

// Issue 13 item 7, through the real proxy: a response cache replays the same completion (same completion id) to the
// same key on the same session. That is not a collision. The same completion delivered to another key is.
// This deployment forwards the caller's key (x-api-key), which is what makes "the same user" knowable.
it('a replay of the same completion to the same key and session is not a collision; to another key it is', async () => {
  const cache = new Map<string, string>();
  let n = 0;
  const w = await scriptedWorld(
    ({ body, model }) => {
      const prompt = JSON.stringify(body.messages);
      const id = cache.get(prompt) ?? `chatcmpl-${++n}-5eed${n}aa`;
      cache.set(prompt, id);
      return answer({ model, id: () => id });
    },
    { keyHeader: 'x-api-key' },
  );
  // Warm-up: unique, stable ids (the habit that makes a reused id meaningful).
  for (let i = 0; i < 6; i++) await w.chat(`warm-${i}`, keyOf(1), 'mistral-31-24b', `question ${i}`);
  const first = await w.chat('asked', keyOf(1), 'mistral-31-24b', 'what is the capital of France?');
  const again = await w.chat('asked-again', keyOf(1), 'mistral-31-24b', 'what is the capital of France?');
  expect(again.ids[0]).toBe(first.ids[0]);
  expect(again.sessionId).toBe(first.sessionId);
  expect(w.flagged()).toEqual([]);
  await w.chat('other-user', keyOf(2), 'mistral-31-24b', 'what is the capital of France?');
  expect(w.flagged()).toEqual(['other-user:completion_id_collision']);
  expect(w.h.proxy.incidents.list()[0]?.relatedRequestIds).toEqual(['asked-again']);
});
