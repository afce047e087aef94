import { describe, expect, it } from 'vitest';
import { InFlightIndex } from '../../src/proxy/in-flight-index.js';

/**
 * The proxy's index of requests in flight (src/proxy/in-flight-index.ts): a map whose removed entries let go of
 * their value, so a stale hash table in the old generation cannot keep a finished request reachable.
 */
describe('InFlightIndex', () => {
  it('set / get / take / size, like a map', () => {
    const index = new InFlightIndex<string, { n: number }>();
    const a = { n: 1 };
    index.set('a', a);
    index.set('b', { n: 2 });
    expect([index.get('a'), index.size]).toEqual([a, 2]);
    expect(index.take('a')).toBe(a);
    expect([index.get('a'), index.take('a'), index.size]).toEqual([undefined, undefined, 1]);
  });

  it('take empties the holder the map kept, so whatever still holds that holder no longer reaches the value', async () => {
    const index = new InFlightIndex<string, object>();
    const holderOf = (key: string): object | undefined => (index as unknown as { entries: Map<string, object> }).entries.get(key);
    const put = (): { holder: object; ref: WeakRef<object> } => {
      const value = { bytes: Buffer.alloc(1024) };
      index.set('k', value);
      const holder = holderOf('k') as object;
      index.take('k');
      return { holder, ref: new WeakRef(value) };
    };
    const { holder, ref } = put();
    // A WeakRef keeps its target for the rest of the job that made it.
    await new Promise((resolve) => setImmediate(resolve));
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) throw new Error('run with --expose-gc (vitest.config.ts execArgv)');
    gc();
    gc();
    expect(holder).toEqual({ value: undefined });
    expect(ref.deref()).toBeUndefined();
  });
});
