import { expect, it } from 'vitest';
import { IdHabits, isCounterLike } from '../../src/inspect/id-habits.js';

it('calls a habit only after enough clean streams: stable/drifting, unique/reused', () => {
  const h = new IdHabits({ minStreams: 3 });
  const clean = { drifted: false, reused: false, counterLike: false };
  h.observe('u', clean);
  h.observe('u', clean);
  expect(h.habit('u')).toEqual({ stability: 'unknown', reuse: 'unknown', streams: 2 });
  h.observe('u', clean);
  expect(h.habit('u')).toEqual({ stability: 'stable', reuse: 'unique', streams: 3 });
  h.observe('d', { ...clean, drifted: true });
  h.observe('d', clean);
  h.observe('d', { ...clean, reused: true });
  h.observe('d', { ...clean, counterLike: true });
  expect(h.habit('d')).toEqual({ stability: 'drifting', reuse: 'reused', streams: 4 });
});

it('recognises counters and fixed ids, not random ones', () => {
  expect(['chatcmpl-1', '7', 'cmpl-000042', 'msg_12'].map(isCounterLike)).toEqual([true, true, true, true]);
  expect(['chatcmpl-9f8e7d6c5b4a39281706f5e4', 'chatcmpl-1234567', 'chatcmpl-9fa1', ''].map(isCounterLike)).toEqual([false, false, false, false]);
});
