import { expect, it } from 'vitest';
import { DEFAULT_COMPLETION_ID_WINDOW_MS, DEFAULT_MAX_SESSION_BINDINGS } from '../../src/config/defaults.js';
import { extractChunkFields } from '../../src/inspect/chunk-fields.js';
import { Detection } from '../../src/inspect/detection.js';
import { MemoryDetectionStore } from '../../src/inspect/store.js';
import { parsedCopy, retainedBytes } from '../helpers/retained-memory.js';

const chunk = (id: string) => extractChunkFields(`{"id":"${id}","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}`);

// Issue 13 item 8, on an injected clock, through the store and judge the proxy uses: at 100,000 new completion ids a
// minute, every delivered id is remembered for the whole --completion-id-window (a replay of the oldest one just
// inside the window is still a collision), and forgotten after it; 100,000 session bindings are held at once.
it('delivered ids are held for the whole window at 100,000 ids a minute; a replay just inside it is caught', () => {
  const now = { ms: 0 };
  const store = new MemoryDetectionStore({ now: () => now.ms });
  const detection = new Detection({ store, sessionScope: 'shared' });
  // The provider's habit: stable, unique ids (learned from clean answers).
  for (let i = 0; i < 6; i++) {
    const judge = detection.begin({ requestId: `warm-${i}`, upstream: 'u' });
    judge.onStatus(200);
    judge.onChunk(chunk(`chatcmpl-warm-${i}-a1b2`) as never);
    judge.finish();
  }
  const perMinute = 100_000;
  const perRequest = 10;
  const requests = (perMinute / perRequest) * (DEFAULT_COMPLETION_ID_WINDOW_MS / 60_000);
  for (let r = 0; r < requests; r++) {
    now.ms = Math.floor((r * 60_000 * perRequest) / perMinute);
    store.addDelivered(Array.from({ length: perRequest }, (_, i) => `chatcmpl-${r}-${i}-d3`), { requestId: `req-${r}` });
  }
  expect(store.deliveredStats().ids).toBe(perMinute * 10 + 6);
  // What they cost is measured as retained heap in test/inspect/completion-id-window-volume.test.ts.
  // Just inside the window (measured from the oldest id): still known, and a replay of it to another request is a
  // collision naming the request that got it first.
  now.ms = DEFAULT_COMPLETION_ID_WINDOW_MS - 1;
  const replay = detection.begin({ requestId: 'replayed', upstream: 'u' });
  replay.onStatus(200);
  const findings = replay.onChunk(chunk('chatcmpl-0-0-d3') as never);
  expect(findings.map((f) => [f.reason, f.evidence.other_request_id])).toEqual([['completion_id_collision', 'req-0']]);
  // After the whole window has passed over it, it is forgotten (not a finding any more).
  now.ms = DEFAULT_COMPLETION_ID_WINDOW_MS * 2 + 60_001;
  expect(store.deliveredOwner('chatcmpl-0-0-d3')).toBeUndefined();
});

it('holds 100,000 session bindings in under 32 MB (README: ~25 MB); the 100,001st evicts the least recently written', () => {
  const before = retainedBytes();
  const store = new MemoryDetectionStore({ now: () => 0 });
  // Each value its own flat copy, as parsed from a control-plane answer.
  const id = (i: number) => parsedCopy('0x' + i.toString(16).padStart(64, '0'));
  const provider = (i: number) => parsedCopy('0x' + i.toString(16).padStart(40, '0'));
  for (let i = 0; i < DEFAULT_MAX_SESSION_BINDINGS; i++) {
    store.bindSession(id(i), { modelId: i === 0 ? id(1) : id(i % 50), provider: provider(i % 20), source: 'open' });
  }
  expect(store.sessionCount).toBe(100_000);
  expect(retainedBytes() - before).toBeLessThan(32 * 1024 * 1024);
  expect(store.session(id(0))?.modelId).toBe(id(1));
  store.bindSession(id(DEFAULT_MAX_SESSION_BINDINGS), { modelId: id(2), source: 'open' });
  expect(store.sessionCount).toBe(100_000);
  expect(store.session(id(0))).toBeUndefined();
  expect(store.session(id(1))?.modelId).toBe(id(1));
  expect(store.session(id(DEFAULT_MAX_SESSION_BINDINGS))?.modelId).toBe(id(2));
});
