import { describe, expect, it } from 'vitest';
import { Detection } from '../../src/inspect/detection.js';
import { SharedDetectionStore, type LateFinding } from '../../src/store/shared-store.js';
import { STREAM_MODEL, runStream, session, startStream } from './harness.js';

// The delivered-id window gives back a fresh owner on each look-up (src/inspect/delivered-owners.ts), so the shared
// store tells this replica's deliveries from applied ones by the owner's `replica` (set when a batch is applied),
// not by object identity. No Redis: batches are applied directly, as RedisSync would. Streams as behind the
// gateway: a session id, no key fingerprint (the gateway sends no key header).
function replicaA(): { store: SharedDetectionStore; detection: Detection; late: LateFinding[] } {
  const store = new SharedDetectionStore({ replica: 'A' });
  const detection = new Detection({ store, sessionScope: 'key' });
  // The provider's habit: stable, unique ids (learned from clean answers).
  for (let n = 0; n < 6; n++) expect(runStream({ detection }, { requestId: `warm-${n}`, session: session(n), id: `chatcmpl-warm-${n}-a1b2` })).toEqual([]);
  const late: LateFinding[] = [];
  store.onLateFinding((l) => late.push(l));
  return { store, detection, late };
}

const delivered = (replica: string, requestId: string, id: string) => ({
  replica,
  writes: [{ op: 'delivered' as const, ids: [id], owner: { requestId, model: STREAM_MODEL } }],
});

describe('shared store: whose delivery an owner is', () => {
  it("another replica's id delivered here first is not taken for this replica's own request", () => {
    const { store, late } = replicaA();
    store.applyBatch(delivered('C', 'c-1', 'chatcmpl-shared-77'));
    expect(store.deliveredOwner('chatcmpl-shared-77')).toEqual({ requestId: 'c-1', model: STREAM_MODEL, replica: 'C' });
    store.applyBatch(delivered('B', 'b-1', 'chatcmpl-shared-77'));
    expect(late).toEqual([]);
  });

  it("this replica's own delivery is: a later remote delivery of the same id is a late finding on it", () => {
    const { store, late } = replicaA();
    store.addDelivered(['chatcmpl-mine-78'], { requestId: 'a-1', model: STREAM_MODEL });
    expect(store.deliveredOwner('chatcmpl-mine-78')).toEqual({ requestId: 'a-1', model: STREAM_MODEL });
    store.applyBatch(delivered('B', 'b-1', 'chatcmpl-mine-78'));
    expect(late.map((l) => [l.requestId, l.finding.reason, l.other.replica, l.other.requestId])).toEqual([['a-1', 'completion_id_collision', 'B', 'b-1']]);
  });

  it('a pair the judge flagged from an applied delivery does not come back as a late finding', () => {
    const { store, detection, late } = replicaA();
    store.applyBatch(delivered('B', 'b-1', 'chatcmpl-seen-79'));
    const stream = startStream({ detection }, { requestId: 'a-2', session: session(9), id: 'chatcmpl-seen-79' });
    stream.feed(1);
    expect(stream.findings.map((f) => [f.reason, f.evidence.other_request_id])).toEqual([['completion_id_collision', 'b-1']]);
    // B's record arrives again (a transport redelivery): already judged, not a second finding.
    store.applyBatch(delivered('B', 'b-1', 'chatcmpl-seen-79'));
    expect(late).toEqual([]);
  });
});
