import { describe, expect, it } from 'vitest';
import {
  CompletionIdRegistry,
  SessionKeyRegistry,
  SessionModelRegistry,
  TtlLru,
} from '../../src/inspect/registries.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('TtlLru', () => {
  it('evicts the least recently written entry past maxEntries', () => {
    const lru = new TtlLru<string, number>({ maxEntries: 3, ttlMs: 1000 });
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    lru.set('a', 10); // rewritten: now the newest
    lru.set('d', 4);
    expect(lru.size).toBe(3);
    expect([lru.get('a'), lru.get('b'), lru.get('c'), lru.get('d')]).toEqual([10, undefined, 3, 4]);
  });

  it('never holds more than maxEntries under a flood', () => {
    const lru = new TtlLru<number, number>({ maxEntries: 100, ttlMs: 1000 });
    for (let i = 0; i < 10_000; i++) lru.set(i, i);
    expect(lru.size).toBe(100);
    expect(lru.get(9_999)).toBe(9_999);
    expect(lru.get(9_899)).toBeUndefined();
  });

  it('expires entries after their TTL (injected clock) and sweeps them on write', () => {
    const c = clock();
    const lru = new TtlLru<string, number>({ maxEntries: 10, ttlMs: 1000, now: c.now });
    lru.set('a', 1);
    lru.set('b', 2, 5000);
    c.advance(999);
    expect(lru.get('a')).toBe(1);
    c.advance(1);
    expect(lru.get('a')).toBeUndefined();
    expect(lru.get('b')).toBe(2);
    lru.set('c', 3);
    c.advance(4000);
    // Expired entries are swept from the front at least once every 64 writes, even if never read again.
    for (let i = 0; i < 64; i++) lru.set('d', 4);
    expect(lru.size).toBe(1);
    expect([lru.get('b'), lru.get('c'), lru.get('d')]).toEqual([undefined, undefined, 4]);
  });
});

/** The TtlLru rules written plainly (an array in write order, a fresh scan per sweep): the reference it must match. */
class ReferenceLru {
  private entries: { key: number; value: number; expiresAt: number }[] = [];
  private writes = 0;
  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}
  get size(): number {
    return this.entries.length;
  }
  get(key: number): number | undefined {
    const i = this.entries.findIndex((e) => e.key === key);
    if (i < 0) return undefined;
    if (this.entries[i]!.expiresAt <= this.now()) {
      this.entries.splice(i, 1);
      return undefined;
    }
    return this.entries[i]!.value;
  }
  set(key: number, value: number, ttlMs: number): void {
    this.delete(key);
    this.entries.push({ key, value, expiresAt: this.now() + ttlMs });
    if (this.entries.length <= this.maxEntries && ++this.writes < 64) return;
    this.writes = 0;
    while (this.entries.length > 0) {
      if (this.entries.length <= this.maxEntries && this.entries[0]!.expiresAt > this.now()) break;
      this.entries.shift();
    }
  }
  delete(key: number): boolean {
    const i = this.entries.findIndex((e) => e.key === key);
    if (i >= 0) this.entries.splice(i, 1);
    return i >= 0;
  }
}

describe('TtlLru against its plain reference', () => {
  it('agrees on every read and on its size through 20,000 random writes, rewrites, deletes, reads and expiries', () => {
    const c = clock();
    const lru = new TtlLru<number, number>({ maxEntries: 50, ttlMs: 1000, now: c.now });
    const ref = new ReferenceLru(50, c.now);
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (let step = 0; step < 20_000; step++) {
      const key = random(120);
      const op = random(10);
      if (op < 6) {
        const ttl = random(4) === 0 ? 200 : 1000;
        lru.set(key, step, ttl);
        ref.set(key, step, ttl);
      } else if (op < 7) {
        expect(lru.delete(key)).toBe(ref.delete(key));
      } else if (op < 9) {
        expect(lru.get(key)).toBe(ref.get(key));
      } else {
        c.advance(random(60));
      }
      expect(lru.size).toBe(ref.size);
    }
    for (let key = 0; key < 120; key++) expect(lru.get(key)).toBe(ref.get(key));
  });

  it('keeps evicting in write order after it has been emptied and refilled', () => {
    const lru = new TtlLru<number, number>({ maxEntries: 2, ttlMs: 1000 });
    for (let i = 0; i < 5; i++) lru.set(i, i);
    lru.delete(3);
    lru.delete(4);
    expect(lru.size).toBe(0);
    for (let i = 10; i < 13; i++) lru.set(i, i);
    expect([lru.get(10), lru.get(11), lru.get(12)]).toEqual([undefined, 11, 12]);
  });
});

describe('CompletionIdRegistry', () => {
  it('holds ids of in-flight requests, then only for the recent window after release', () => {
    const c = clock();
    const reg = new CompletionIdRegistry({ windowMs: 1000, inflightMaxAgeMs: 60_000, now: c.now });
    reg.claim('A', 1, 'req-1');
    c.advance(30_000);
    expect(reg.lookup('A')).toEqual({ owner: 1, requestId: 'req-1', inflight: true });
    reg.release(['A'], 1);
    expect(reg.lookup('A')).toEqual({ owner: 1, requestId: 'req-1', inflight: false });
    c.advance(1000);
    expect(reg.lookup('A')).toBeUndefined();
  });

  it('drops an id whose request never released it after the in-flight maximum age', () => {
    const c = clock();
    const reg = new CompletionIdRegistry({ inflightMaxAgeMs: 60_000, now: c.now });
    reg.claim('A', 1, 'req-1');
    c.advance(60_000);
    expect(reg.lookup('A')).toBeUndefined();
  });

  it('releases only ids the releasing request owns', () => {
    const reg = new CompletionIdRegistry();
    reg.claim('A', 1, 'req-1');
    reg.release(['A'], 2);
    expect(reg.lookup('A')?.inflight).toBe(true);
  });

  it('is capped in size', () => {
    const reg = new CompletionIdRegistry({ maxEntries: 50 });
    for (let i = 0; i < 1000; i++) reg.claim(`id-${i}`, i, `req-${i}`);
    expect(reg.size).toBe(50);
  });
});

describe('session registries', () => {
  it('bind a session to a key within the binding window, refreshed on use', () => {
    const c = clock();
    const reg = new SessionKeyRegistry({ windowMs: 1000, now: c.now });
    reg.bind('s', 'fp-a');
    c.advance(900);
    reg.bind('s', 'fp-a');
    c.advance(900);
    expect(reg.get('s')).toBe('fp-a');
    c.advance(100);
    expect(reg.get('s')).toBeUndefined();
  });

  it('bind a session to a model within the window, capped in size', () => {
    const c = clock();
    const reg = new SessionModelRegistry({ windowMs: 1000, maxEntries: 2, now: c.now });
    reg.learn('s1', 'llama', 1);
    reg.learn('s2', 'qwen', 2);
    reg.learn('s3', 'qwen', 3);
    expect(reg.size).toBe(2);
    expect(reg.get('s1')).toBeUndefined();
    c.advance(1000);
    expect(reg.get('s3')).toBeUndefined();
  });
});
