import { request } from 'undici';
import { expect, it } from 'vitest';
import { keyOf } from './e2e.js';
import { answer, scriptedWorld } from './scripted-router.js';

const NEW_SESSION = '0x' + 'fa'.repeat(32);

// Issue 13 item 7, through the real proxy: with failover on, the router writes `data: provider failed, failover
// enabled` and `data: new session opened: 0x…`, and the rest of the answer comes from the NEW session's model.
// That answer is judged against the new session, not flagged; the same answer without the failover lines is.
it('after "new session opened", the answer is judged against the new session', async () => {
  let failover = false;
  let after = 'qwen3-235b';
  const w = await scriptedWorld(({ n, model }) => {
    if (!failover) return answer({ model, id: () => `chatcmpl-${n}-c0ffee${n}` });
    const rest = answer({ model: after, id: () => `chatcmpl-${n}-fa11${n}` });
    return ['provider failed, failover enabled', `new session opened: ${NEW_SESSION}`, ...rest];
  });
  w.router.addSession(NEW_SESSION, 'qwen3-235b');
  // Warm-up: both models' names known by quorum (two sessions each).
  const warm = ['llama-3.3-70b', 'llama-3.3-70b', 'qwen3-235b', 'qwen3-235b', 'mistral-31-24b', 'mistral-31-24b'];
  for (const [i, model] of warm.entries()) await w.chat(`warm-${i}`, keyOf(i), model);
  expect(w.flagged()).toEqual([]);
  // The gateway reads the new session through the sidecar (the control plane teaches its model: qwen).
  const read = await request(`${w.h.url}/blockchain/sessions/${NEW_SESSION}`, { headers: { authorization: 'Basic YWRtaW46cHc=' } });
  expect(read.statusCode).toBe(200);
  await read.body.text();
  expect(w.h.proxy.detection.store.session(NEW_SESSION)?.modelId).toBeDefined();
  failover = true;
  await w.chat('failed-over', keyOf(10), 'llama-3.3-70b');
  expect(w.flagged()).toEqual([]);
  // After the failover line, an answer from neither session's model is judged against the new session: flagged.
  after = 'mistral-31-24b';
  await w.chat('failed-over-foreign', keyOf(11), 'llama-3.3-70b');
  expect(w.flagged()).toEqual(['failed-over-foreign:model_mismatch']);
  expect(w.h.proxy.incidents.list()[0]?.evidence[0]).toMatchObject({ seen: 'mistral-31-24b' });
  // Control: the same foreign model without the failover lines, on a llama session, is a cross-model answer.
  failover = false;
  const w2 = await scriptedWorld(({ n, model }) => answer({ model: n === 5 ? 'qwen3-235b' : model, id: () => `chatcmpl-${n}-d00d${n}` }));
  for (const [i, model] of ['llama-3.3-70b', 'llama-3.3-70b', 'qwen3-235b', 'qwen3-235b'].entries()) await w2.chat(`warm-${i}`, keyOf(i), model);
  await w2.chat('no-failover', keyOf(10), 'llama-3.3-70b');
  expect(w2.flagged()).toEqual(['no-failover:model_mismatch']);
});
