import { afterAll, beforeAll, expect, it } from 'vitest';
import { MODEL_ID, describeRedis, duplicateAcross, replica, runStream, session, startStream, sync, uniquePrefix, type Replica } from './harness.js';

// Issue 17: two replicas (two replica ids, two stores) sharing one Redis catch what neither sees alone.
describeRedis('two replicas sharing detection through Redis', () => {
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    const prefix = uniquePrefix();
    a = replica('replica-a', prefix);
    b = replica('replica-b', prefix);
    await Promise.all([a.sync.whenUp(), b.sync.whenUp()]);
    // The gateway opened sessions 1..99 through replica a: their model is known to both replicas.
    for (let n = 1; n < 100; n++) a.store.bindSession(session(n), { modelId: MODEL_ID, source: 'open' });
    // Five clean answers on replica a teach both replicas that this provider's ids are unique and stable.
    for (let n = 1; n <= 5; n++) {
      expect(runStream(a, { requestId: `warm-${n}`, session: session(n), key: `key-warm-${n}`, id: `chatcmpl-warm-${n}-9f3a7c` })).toEqual([]);
    }
    await sync(a, b);
    expect(b.store.habits.habit(`${MODEL_ID}|`)).toMatchObject({ stability: 'stable', reuse: 'unique', streams: 5 });
  });

  afterAll(async () => {
    await Promise.all([a?.sync.close(), b?.sync.close()]);
  });

  it('a stream through replica a duplicated into a request through replica b is flagged on b, and late on a', async () => {
    const { first, second } = await duplicateAcross(
      a,
      b,
      { requestId: 'dup-a', session: session(10), key: 'key-alice', id: 'chatcmpl-dup-51e2' },
      { requestId: 'dup-b', session: session(11), key: 'key-bob' },
    );
    expect(second.findings.map((f) => [f.reason, f.evidence.other_request_id, f.evidence.other_state])).toEqual([
      ['completion_id_collision', 'dup-a', 'in_flight'],
    ]);
    // b's claim reaches a while a's request is still in flight: a late shared finding for it.
    await sync(b, a);
    expect(a.late).toHaveLength(1);
    expect(a.late[0]).toMatchObject({
      token: first.judge.token,
      requestId: 'dup-a',
      finding: { reason: 'completion_id_collision', evidence: { other_replica: 'replica-b', other_request_id: 'dup-b', rule: 'late_shared' } },
      other: { replica: 'replica-b', requestId: 'dup-b', state: 'in_flight' },
    });
    first.end();
    second.end();
    a.late.length = 0;
  });

  it('the same id on both replicas before either synced: both get a late shared finding once the writes cross', async () => {
    const onA = startStream(a, { requestId: 'race-a', session: session(12), key: 'key-carol', id: 'chatcmpl-race-77d1' });
    const onB = startStream(b, { requestId: 'race-b', session: session(13), key: 'key-dave', id: 'chatcmpl-race-77d1' });
    onA.feed(1);
    onB.feed(1);
    expect([...onA.findings, ...onB.findings]).toEqual([]);
    await sync(a, b);
    await sync(b, a);
    expect(b.late.map((l) => [l.token, l.requestId, l.other.requestId])).toEqual([[onB.judge.token, 'race-b', 'race-a']]);
    expect(a.late.map((l) => [l.token, l.requestId, l.other.requestId])).toEqual([[onA.judge.token, 'race-a', 'race-b']]);
    onA.end();
    onB.end();
    a.late.length = 0;
    b.late.length = 0;
  });

  it('a completion delivered through replica a and replayed to another user through replica b within the window', async () => {
    expect(runStream(a, { requestId: 'orig-a', session: session(14), key: 'key-erin', id: 'chatcmpl-replay-0c4b' })).toEqual([]);
    await sync(a, b);
    const replayed = runStream(b, { requestId: 'replay-b', session: session(15), key: 'key-frank', id: 'chatcmpl-replay-0c4b' });
    expect(replayed.map((f) => [f.reason, f.evidence.other_request_id, f.evidence.other_state])).toEqual([
      ['completion_id_collision', 'orig-a', 'finished'],
    ]);
    // The other half: replica a learns that the answer it delivered went to another user on replica b.
    await sync(b, a);
    expect(a.late.map((l) => [l.token, l.requestId, l.other])).toEqual([
      [undefined, 'orig-a', { replica: 'replica-b', requestId: 'replay-b', state: 'in_flight' }],
    ]);
    // b decided on it already: the pair is not reported to b a second time.
    expect(b.late).toEqual([]);
    a.late.length = 0;
  });

  it('the same user replayed across replicas (a response cache) is not a collision', async () => {
    expect(runStream(a, { requestId: 'cache-a', session: session(16), key: 'key-gina', id: 'chatcmpl-cache-8e8e' })).toEqual([]);
    await sync(a, b);
    expect(runStream(b, { requestId: 'cache-b', session: session(16), key: 'key-gina', id: 'chatcmpl-cache-8e8e' })).toEqual([]);
    await sync(b, a);
    expect(a.late).toEqual([]);
  });

  it('a session bound to one key on replica a, used by another key on replica b', async () => {
    expect(runStream(a, { requestId: 'own-a', session: session(17), key: 'key-helen', id: 'chatcmpl-own-1a2b' })).toEqual([]);
    await sync(a, b);
    const other = b.detection.begin({ requestId: 'other-b', sessionId: session(17), keyFingerprint: 'key-ivan' });
    expect(other.checkRequest()).toEqual([
      { reason: 'session_key_conflict', evidence: { expected: 'key-helen', seen: 'key-ivan', session: session(17) } },
    ]);
  });

  it('2 × 200 clean streams, interleaved across the replicas: no finding, no late finding', async () => {
    const findings: unknown[] = [];
    for (let n = 0; n < 200; n++) {
      // Clean traffic: each key keeps its own session; ids unique; one answer in flight on each replica at once.
      const [onA, onB] = (['a', 'b'] as const).map((tag) =>
        startStream(tag === 'a' ? a : b, {
          requestId: `clean-${tag}-${n}`,
          session: session(1000 + (tag === 'a' ? 0 : 500) + (n % 70)),
          key: `key-${tag}-${n % 70}`,
          id: `chatcmpl-${tag}-${n}-c1ea9`,
        }),
      ) as [ReturnType<typeof startStream>, ReturnType<typeof startStream>];
      onA.feed(2);
      onB.feed(2);
      if (n % 20 === 19) {
        // Sync while both are in flight: each replica holds the other's live ids.
        await sync(a, b);
        await sync(b, a);
      }
      findings.push(...onA.end(), ...onB.end());
    }
    await sync(a, b);
    await sync(b, a);
    expect(findings).toEqual([]);
    expect(a.late).toEqual([]);
    expect(b.late).toEqual([]);
    // Both replicas saw all 400 answers' ids (the shared window works, it was simply clean).
    expect(a.store.deliveredOwner('chatcmpl-b-199-c1ea9')?.requestId).toBe('clean-b-199');
    expect(b.store.deliveredOwner('chatcmpl-a-0-c1ea9')?.requestId).toBe('clean-a-0');
  });

  it('on sessions never seen opened the late check keys the habit by the answer\'s model, as the judge does', async () => {
    // The 2 × 200 clean streams above ran on unbound sessions: the habit under the model name is unique on both.
    const { first, second } = await duplicateAcross(
      a,
      b,
      { requestId: 'unbound-a', session: session(2000), key: 'key-ulla', id: 'chatcmpl-unbound-3e3e' },
      { requestId: 'unbound-b', session: session(2001), key: 'key-uwe' },
    );
    expect(second.findings.map((f) => [f.reason, f.evidence.other_request_id])).toEqual([['completion_id_collision', 'unbound-a']]);
    await sync(b, a);
    expect(a.late.map((l) => [l.token, l.requestId, l.other.requestId])).toEqual([[first.judge.token, 'unbound-a', 'unbound-b']]);
    first.end();
    second.end();
    a.late.length = 0;
  });
});
