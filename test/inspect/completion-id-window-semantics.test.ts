import { describe, expect, it } from 'vitest';
import { CompletionIdWindow, hash64, type DeliveredOwner } from '../../src/inspect/completion-id-window.js';
import { DeliveredOwnerTable } from '../../src/inspect/delivered-owners.js';
import { createPrng } from '../../src/simulator/prng.js';

/** Two ids whose hashes share the hi lane (found by search), so the open bucket's chain and the sealed sort meet them. */
function hiLaneTwins(): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const id = `chatcmpl-twin-${i}`;
    const [hi] = hash64(id);
    const other = seen.get(hi);
    if (other !== undefined) return [other, id];
    seen.set(hi, id);
  }
}

/**
 * The window's rules written plainly (a Map per bucket, newest bucket first on look-up): the reference it must match.
 * A bucket opens at the first call `bucketMs` or more after the open one's start and expires whole once its newest
 * write is older than the window.
 */
class ReferenceWindow {
  private buckets: { start: number; newest: number; ids: Map<string, DeliveredOwner> }[] = [];
  constructor(
    private readonly windowMs: number,
    private readonly bucketMs: number,
    private readonly now: () => number,
    start: number,
  ) {
    this.buckets.push({ start, newest: start, ids: new Map() });
  }
  private rotate(): void {
    const now = this.now();
    const open = this.buckets[this.buckets.length - 1];
    if (open !== undefined && now - open.start >= this.bucketMs) {
      if (open.ids.size === 0) this.buckets.pop();
      this.buckets.push({ start: now, newest: now, ids: new Map() });
    }
    const last = this.buckets.length - 1;
    this.buckets = this.buckets.filter((b, i) => i === last || b.newest >= now - this.windowMs);
  }
  add(ids: string[], owner: DeliveredOwner): void {
    this.rotate();
    const open = this.buckets[this.buckets.length - 1];
    if (open === undefined || ids.length === 0) return;
    for (const id of ids) open.ids.set(id, owner);
    open.newest = this.now();
  }
  lookup(id: string): DeliveredOwner | undefined {
    this.rotate();
    for (let i = this.buckets.length - 1; i >= 0; i--) {
      const o = this.buckets[i]?.ids.get(id);
      if (o !== undefined) return o;
    }
    return undefined;
  }
  get size(): number {
    return this.buckets.reduce((n, b) => n + b.ids.size, 0);
  }
}

describe('CompletionIdWindow', () => {
  it('a re-delivered id names its newest owner, in the open bucket and once sealed; it counts once', () => {
    let now = 0;
    const w = new CompletionIdWindow({ windowMs: 1000, buckets: 10, now: () => now });
    w.add(['a', 'b'], { requestId: 'first', session: 's1' });
    w.add(['a'], { requestId: 'second', session: 's2' });
    expect(w.size).toBe(2);
    expect(w.lookup('a')).toEqual({ requestId: 'second', session: 's2' });
    expect(w.lookup('b')).toEqual({ requestId: 'first', session: 's1' });
    now = 150; // seals the bucket
    expect(w.lookup('a')).toEqual({ requestId: 'second', session: 's2' });
    expect(w.lookup('b')?.requestId).toBe('first');
    expect(w.size).toBe(2);
  });

  it('two ids sharing a hash lane keep their own owners before and after sealing', () => {
    const [x, y] = hiLaneTwins();
    let now = 0;
    const w = new CompletionIdWindow({ windowMs: 1000, buckets: 10, now: () => now });
    w.add([x], { requestId: 'rx' });
    w.add([y], { requestId: 'ry' });
    w.add([x], { requestId: 'rx2' });
    expect([w.lookup(x)?.requestId, w.lookup(y)?.requestId, w.size]).toEqual(['rx2', 'ry', 2]);
    now = 200;
    expect([w.lookup(x)?.requestId, w.lookup(y)?.requestId, w.size]).toEqual(['rx2', 'ry', 2]);
  });

  it('matches the plain reference over 20,000 seeded adds, re-adds, look-ups and expiries', () => {
    const prng = createPrng(7);
    const [x, y] = hiLaneTwins();
    const pool = [x, y, ...Array.from({ length: 400 }, (_, i) => `chatcmpl-${i}`)];
    const clock = { now: 0 };
    const w = new CompletionIdWindow({ windowMs: 1000, buckets: 5, now: () => clock.now });
    const ref = new ReferenceWindow(1000, 200, () => clock.now, 0);
    const pick = <T>(xs: readonly T[]): T => xs[prng.int(xs.length)] as T;
    for (let step = 0; step < 20_000; step++) {
      clock.now += prng.int(12);
      if (prng.next() < 0.45) {
        const ids = Array.from({ length: prng.int(4) }, () => pick(pool));
        const owner: DeliveredOwner = { requestId: `r${step}` };
        if (prng.next() < 0.8) owner.session = pick(['s1', 's2', 's3']);
        if (prng.next() < 0.5) owner.key = pick(['k1', 'k2']);
        if (prng.next() < 0.5) owner.model = pick(['m', 'n']);
        if (prng.next() < 0.1) owner.trace = `${'a'.repeat(32)}-${'b'.repeat(16)}`;
        if (prng.next() < 0.2) owner.replica = pick(['', 'replica-b']);
        w.add(ids, owner);
        ref.add(ids, owner);
      } else {
        const id = pick(pool);
        expect(w.lookup(id), `step ${step}: ${id}`).toEqual(ref.lookup(id));
      }
      if (step % 500 === 0) expect(w.size, `step ${step}`).toBe(ref.size);
    }
  });
});

describe('DeliveredOwnerTable', () => {
  it('gives back each owner with exactly its fields, shared values stored once, and takes none once sealed', () => {
    const t = new DeliveredOwnerTable();
    const owners: DeliveredOwner[] = [
      { requestId: 'a', session: 's', key: 'k', model: 'm', trace: 't', replica: '' },
      { requestId: '', session: 's' },
      { requestId: 'c', replica: 'other' },
    ];
    for (let i = 0; i < 200; i++) for (const o of owners) t.add(o);
    expect(t.size).toBe(600);
    for (let i = 0; i < 600; i++) {
      const got = t.get(i);
      const want = owners[i % 3] as DeliveredOwner;
      expect(got).toEqual(want);
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    }
    t.seal();
    expect(t.get(599)).toEqual(owners[2]);
    expect(() => t.add({ requestId: 'late' })).toThrow(/sealed/);
  });
});
