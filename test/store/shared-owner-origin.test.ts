import { describe, expect, it } from 'vitest';
import { extractChunkFields } from '../../src/inspect/chunk-fields.js';
import { Detection } from '../../src/inspect/detection.js';
import { SharedDetectionStore, type LateFinding } from '../../src/store/shared-store.js';

// The delivered-id window gives back a fresh owner on each look-up (src/inspect/delivered-owners.ts), so the shared
// store tells this replica's deliveries from applied ones by the owner's `replica` (set when a batch is applied),
// not by object identity. No Redis: batches are applied directly, as RedisSync would.
const chunk = (id: string) => extractChunkFields(`{"id":"${id}","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}`);

function replicaA(): { store: SharedDetectionStore; detection: Detection; late: LateFinding[] } {
  const store = new SharedDetectionStore({ replica: 'A' });
  const detection = new Detection({ store, sessionScope: 'key' });
  // The provider's habit for model m: stable, unique ids (learned from clean answers).
  for (let i = 0; i < 6; i++) {
    const judge = detection.begin({ requestId: `warm-${i}`, upstream: 'u' });
    judge.onStatus(200);
    judge.onChunk(chunk(`chatcmpl-warm-${i}-a1b2`) as never);
    judge.finish();
  }
  const late: LateFinding[] = [];
  store.onLateFinding((l) => late.push(l));
  return { store, detection, late };
}

const delivered = (replica: string, requestId: string, id: string) => ({
  replica,
  writes: [{ op: 'delivered' as const, ids: [id], owner: { requestId, model: 'm' } }],
});

describe('shared store: whose delivery an owner is', () => {
  it("another replica's id delivered here first is not taken for this replica's own request", () => {
    const { store, late } = replicaA();
    store.applyBatch(delivered('C', 'c-1', 'chatcmpl-shared-77'));
    expect(store.deliveredOwner('chatcmpl-shared-77')).toEqual({ requestId: 'c-1', model: 'm', replica: 'C' });
    store.applyBatch(delivered('B', 'b-1', 'chatcmpl-shared-77'));
    expect(late).toEqual([]);
  });

  it("this replica's own delivery is: a later remote delivery of the same id is a late finding on it", () => {
    const { store, late } = replicaA();
    store.addDelivered(['chatcmpl-mine-78'], { requestId: 'a-1', model: 'm' });
    expect(store.deliveredOwner('chatcmpl-mine-78')).toEqual({ requestId: 'a-1', model: 'm' });
    store.applyBatch(delivered('B', 'b-1', 'chatcmpl-mine-78'));
    expect(late.map((l) => [l.requestId, l.finding.reason, l.other.replica, l.other.requestId])).toEqual([['a-1', 'completion_id_collision', 'B', 'b-1']]);
  });

  it('a pair the judge flagged from an applied delivery does not come back as a late finding', () => {
    const { store, detection, late } = replicaA();
    store.applyBatch(delivered('B', 'b-1', 'chatcmpl-seen-79'));
    const judge = detection.begin({ requestId: 'a-2', upstream: 'u' });
    judge.onStatus(200);
    const found = judge.onChunk(chunk('chatcmpl-seen-79') as never);
    expect(found.map((f) => [f.reason, f.evidence.other_request_id])).toEqual([['completion_id_collision', 'b-1']]);
    // B's record arrives again (a transport redelivery): already judged, not a second finding.
    store.applyBatch(delivered('B', 'b-1', 'chatcmpl-seen-79'));
    expect(late).toEqual([]);
  });
});
