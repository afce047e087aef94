import { expect, it } from 'vitest';
import { keyOf } from './e2e.js';
import { answer, scriptedWorld } from './scripted-router.js';

// Issue 13 item 7, through the real proxy: providers report a model in other forms (case, org and path prefixes,
// `-Instruct`, quantisation suffixes). The forms normalise to one name, learned by quorum for the on-chain model;
// none is flagged. A name another model is known by still is.
it('model names in other forms are one name; another model is still flagged', async () => {
  const forms = ['meta-llama/Llama-3.3-70B-Instruct', '/models/Meta-Llama-3.3-70B-Instruct', 'llama-3.3-70b', 'Llama-3.3-70B-Instruct-AWQ'];
  let swap = false;
  const w = await scriptedWorld(({ n, model }) => {
    const name = swap ? 'Qwen/Qwen3-235B' : model === 'llama-3.3-70b' ? (forms[n % forms.length] as string) : 'Qwen/Qwen3-235B';
    return answer({ model: name, id: () => `chatcmpl-${n}-ab${n}cd` });
  });
  let k = 0;
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < forms.length; i++) await w.chat(`llama-${round}-${i}`, keyOf(k++), 'llama-3.3-70b');
    await w.chat(`qwen-${round}`, keyOf(k++), 'qwen3-235b');
  }
  expect(w.flagged()).toEqual([]);
  swap = true;
  await w.chat('swapped', keyOf(k++), 'llama-3.3-70b');
  expect(w.flagged()).toEqual(['swapped:model_mismatch']);
});
