import { expect, it } from 'vitest';
import { CompletionIdWindow, hash64 } from '../../src/inspect/completion-id-window.js';

it('holds every id for the whole window at 100,000 new ids a minute, in a bounded number of bytes', () => {
  let now = 0;
  const windowMs = 10 * 60_000;
  const w = new CompletionIdWindow({ windowMs, now: () => now });
  const perMinute = 100_000;
  const perRequest = 10;
  // Ten minutes of traffic, one request (10 ids) every 6 ms of injected time.
  for (let r = 0; r < (perMinute / perRequest) * 10; r++) {
    now = Math.floor((r * 60_000 * perRequest) / perMinute);
    const ids = Array.from({ length: perRequest }, (_, i) => `chatcmpl-${r}-${i}`);
    w.add(ids, { requestId: `req-${r}` });
  }
  expect(w.size).toBe(1_000_000);
  // The very first id is still known just before the window passes over it …
  expect(w.lookup('chatcmpl-0-0')?.requestId).toBe('req-0');
  expect(w.lookup('chatcmpl-99999-9')?.requestId).toBe('req-99999');
  expect(w.lookup('chatcmpl-never')).toBeUndefined();
  // … in about 12 bytes an id once sealed (README: ≤ 40 MB for this volume).
  expect(w.approxBytes()).toBeLessThan(40 * 1024 * 1024);
  // and forgotten once the whole window has passed.
  now += windowMs + 60_001;
  expect(w.lookup('chatcmpl-0-0')).toBeUndefined();
  w.add(['x'], { requestId: 'late' });
  expect(w.size).toBeLessThan(200_000);
});

it('hash64 separates ids that differ in one character, and is stable', () => {
  expect(hash64('chatcmpl-abc')).toEqual(hash64('chatcmpl-abc'));
  expect(hash64('chatcmpl-abc')).not.toEqual(hash64('chatcmpl-abd'));
  const seen = new Set<string>();
  for (let i = 0; i < 200_000; i++) seen.add(hash64(`chatcmpl-${i}`).join(':'));
  expect(seen.size).toBe(200_000);
});
