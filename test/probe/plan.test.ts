import { expect, it } from 'vitest';
import { nonceIndexes, planSlot, probeNonce, probePrompt, probeRequestId } from '../../src/probe/plan.js';
import { NONCE_PATTERN } from '../../src/simulator/index.js';

it('per key, bursts that switch model on every request; keys start on different models', () => {
  const shape = { models: ['a', 'b', 'c'], lanes: 2, burst: 3 };
  const slots = Array.from({ length: 12 }, (_, i) => planSlot(i, shape));
  expect(slots.map((s) => `${s.lane}:${s.model}`)).toEqual([
    // round 0: key 0's burst, then key 1's (starting one model further on)
    '0:a', '0:b', '0:c', '1:b', '1:c', '1:a',
    // round 1: each key carries on where its previous burst stopped
    '0:a', '0:b', '0:c', '1:b', '1:c', '1:a',
  ]);
  expect(slots.map((s) => s.laneSeq)).toEqual([0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5]);
  expect(slots.map((s) => s.round)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  // Consecutive requests of one key never ask for the same model twice in a row.
  for (const lane of [0, 1]) {
    const models = slots.filter((s) => s.lane === lane).map((s) => s.model);
    for (let i = 1; i < models.length; i++) expect(models[i]).not.toBe(models[i - 1]);
  }
});

it('request ids and nonces name the request; the prompt carries the nonce in the form the router echoes', () => {
  expect(probeRequestId('abc123', 0)).toBe('probe-abc123-1');
  expect(probeNonce('abc123', 11)).toBe('xt-abc123-12');
  expect(NONCE_PATTERN.exec(probePrompt(probeNonce('abc123', 11)))?.[1]).toBe('xt-abc123-12');
  // `xt-abc123-1` is a prefix of `xt-abc123-12`: the scan reads whole numbers.
  expect(nonceIndexes('abc123', 'nonce:xt-abc123-12 then xt-abc123-1. and xt-other-3')).toEqual([11, 0]);
});
