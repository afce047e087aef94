import { expect, it } from 'vitest';
import { MemoryDetectionStore } from '../../src/inspect/store.js';

it('holds 100,000 session bindings, and batches its writes for a shared store that another replica folds in', () => {
  let now = 1_000;
  const a = new MemoryDetectionStore({ now: () => now, recordWrites: true });
  for (let i = 0; i < 100_000; i++) a.bindSession(`0x${i.toString(16).padStart(64, '0')}`, { modelId: `0x${'a'.repeat(64)}`, source: 'open' });
  expect(a.sessionCount).toBe(100_000);
  expect(a.session(`0x${'0'.repeat(64)}`)?.modelId).toBe(`0x${'a'.repeat(64)}`);
  a.addDelivered(['chatcmpl-1'], { requestId: 'r1', key: 'k', session: 's' });
  a.voteName('0xm', '0xp', 'llama', { requestId: 'r1', session: 's1' });
  a.observeIds('up', { drifted: false, reused: false, counterLike: false });
  const writes = a.drainWrites();
  expect(writes).toHaveLength(100_003);
  expect(a.drainWrites()).toEqual([]);
  // Writes hold ids and names only.
  expect(JSON.stringify(writes.slice(-3))).toBe(
    '[{"op":"delivered","ids":["chatcmpl-1"],"owner":{"requestId":"r1","key":"k","session":"s"}},' +
      '{"op":"name_vote","modelId":"0xm","provider":"0xp","name":"llama","vote":{"requestId":"r1","session":"s1"}},' +
      '{"op":"id_habit","upstream":"up","observation":{"drifted":false,"reused":false,"counterLike":false}}]',
  );

  const b = new MemoryDetectionStore({ now: () => now, recordWrites: true });
  b.applyRemote(writes);
  expect(b.deliveredOwner('chatcmpl-1')?.requestId).toBe('r1');
  expect(b.session(`0x${'0'.repeat(64)}`)?.source).toBe('open');
  expect(b.drainWrites()).toEqual([]);
  now += 61 * 60_000;
  expect(b.session(`0x${'0'.repeat(64)}`)).toBeUndefined();
});

it('live ids are bounded and released only by their owner', () => {
  const s = new MemoryDetectionStore({ maxLiveIds: 2 });
  expect(s.claimLive('a', { token: 1, requestId: 'r1' })).toBe(true);
  expect(s.claimLive('b', { token: 1, requestId: 'r1' })).toBe(true);
  expect(s.claimLive('c', { token: 2, requestId: 'r2' })).toBe(false);
  s.releaseLive(['a'], 2);
  expect(s.liveOwner('a')?.requestId).toBe('r1');
  s.releaseLive(['a', 'b'], 1);
  expect(s.liveOwner('a')).toBeUndefined();
});
