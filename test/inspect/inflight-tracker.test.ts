import { describe, expect, it } from 'vitest';
import { InflightTracker } from '../../src/inspect/registries.js';

describe('in-flight counts', () => {
  it('report how many other requests with the same key / session were in flight at start', () => {
    const t = new InflightTracker();
    const a = t.start('fp-a', 's1');
    const b = t.start('fp-a', 's1');
    const c = t.start('fp-a', 's2');
    const d = t.start(undefined, 's1');
    expect([a.apiKey, a.session]).toEqual([0, 0]);
    expect([b.apiKey, b.session]).toEqual([1, 1]);
    expect([c.apiKey, c.session]).toEqual([2, 0]);
    expect([d.apiKey, d.session]).toEqual([0, 2]);
  });

  it('releases idempotently and forgets keys with nothing in flight', () => {
    const t = new InflightTracker();
    const a = t.start('fp-a', 's1');
    const b = t.start('fp-a', 's1');
    a.release();
    a.release();
    expect(t.inflightForKey('fp-a')).toBe(1);
    b.release();
    expect(t.inflightForKey('fp-a')).toBe(0);
    expect(t.inflightForSession('s1')).toBe(0);
    expect(t.start('fp-a', 's1').apiKey).toBe(0);
  });
});
