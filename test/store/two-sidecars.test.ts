import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { SimulatedGateway } from '../../src/simulator/index.js';
import type { SharedDetectionStore } from '../../src/store/shared-store.js';
import { startProxy, type Harness } from '../helpers/proxy-harness.js';
import { answer, chunk, startScriptedRouter, writeSse, type ScriptedChat } from '../detection/scripted-router.js';
import { keyOf } from '../detection/e2e.js';
import { REDIS_URL, describeRedis, uniquePrefix } from './harness.js';

// Issue 17 "done when": two real sidecars (createProxyServer twice, --store redis) in front of one upstream, each
// with its own gateway (session per key, key header forwarded), catch what neither sees alone.
const MODEL = 'qwen3-235b';
const run = randomBytes(3).toString('hex');

async function settled(h: Harness): Promise<void> {
  for (let i = 0; i < 1000 && h.proxy.activeRequests > 0; i++) await new Promise((r) => setImmediate(r));
}

/** Everything `from` wrote so far is applied on `to` (ordered by stream entry ids). */
async function synced(from: Harness, to: Harness): Promise<void> {
  const id = await (from.proxy.detection.store as SharedDetectionStore).transport?.flush();
  if (id !== undefined) await (to.proxy.detection.store as SharedDetectionStore).transport?.caughtUp(id);
}

const flagged = (h: Harness) => h.proxy.incidents.list().reverse().map((i) => `${i.requestId}:${i.reasons.join('+')}`);

describeRedis('two sidecars sharing detection through Redis', () => {
  it('catch a cross-replica duplicate in flight, a cross-replica replay, a session used by two keys; 2 × 200 clean streams stay clean', async () => {
    // The router's script: by default a unique, stable id per answer; the test swaps in foreign ids.
    let script: (chat: ScriptedChat) => void = (chat) => writeSse(chat.res, answer({ model: chat.model, id: () => `chatcmpl-${run}-${chat.n}-a8f3e1` }));
    const router = await startScriptedRouter({ answer: (chat) => script(chat) });
    const store = { kind: 'redis' as const, url: REDIS_URL as string, keyPrefix: uniquePrefix() };
    const a = await startProxy(router.url, { sessionScope: 'key', store });
    const b = await startProxy(router.url, { sessionScope: 'key', store });
    await Promise.all([a, b].map((h) => (h.proxy.detection.store as SharedDetectionStore).transport?.flush()));
    const auth = { username: 'admin', password: 'pw' };
    const gwA = new SimulatedGateway({ baseUrl: a.url, mode: 'session-per-key', auth, keyHeader: 'x-api-key' });
    const gwB = new SimulatedGateway({ baseUrl: b.url, mode: 'session-per-key', auth, keyHeader: 'x-api-key' });
    const chat = async (gw: SimulatedGateway, h: Harness, id: string, key: string) => {
      const result = await gw.chat({ apiKey: key, model: MODEL, messages: [{ role: 'user', content: 'hello' }], headers: { 'x-request-id': id } });
      await settled(h);
      return result;
    };

    // Warm-up through a: six clean answers teach both replicas the provider's habit (unique, stable ids).
    for (let n = 0; n < 6; n++) expect((await chat(gwA, a, `warm-${n}`, keyOf(n))).status).toBe(200);
    await synced(a, b);
    expect([...flagged(a), ...flagged(b)]).toEqual([]);

    // 1. Cross-replica replay: the answer delivered to warm-0 through a is replayed to another user through b.
    const warm0Id = `chatcmpl-${run}-1-a8f3e1`;
    script = (c) => writeSse(c.res, answer({ model: c.model, id: () => warm0Id }));
    await chat(gwB, b, 'replay-b', keyOf(50));
    expect(flagged(b)).toEqual(['replay-b:completion_id_collision']);
    expect(b.proxy.incidents.list()[0]?.relatedRequestIds).toEqual(['warm-0']);

    // 2. Cross-replica duplicate in flight: a's answer is held mid-stream; b's request gets the same id.
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const dupId = `chatcmpl-${run}-dup-c0ffee`;
    script = (c) => {
      c.res.writeHead(200, { 'content-type': 'text/event-stream' });
      c.res.write(`data: ${chunk({ id: dupId, model: c.model, content: 'first ' })}\n\n`);
      void held.then(() => {
        c.res.write(`data: ${chunk({ id: dupId, model: c.model, finish: true, usage: { prompt: 20, completion: 2 } })}\n\n`);
        c.res.end('data: [DONE]\n\n');
      });
    };
    const onA = gwA.chat({ apiKey: keyOf(60), model: MODEL, messages: [{ role: 'user', content: 'hello' }], headers: { 'x-request-id': 'dup-a' } });
    while (a.proxy.detection.store.liveOwner(dupId) === undefined) await new Promise((r) => setImmediate(r));
    await synced(a, b);
    const onB = gwB.chat({ apiKey: keyOf(61), model: MODEL, messages: [{ role: 'user', content: 'hello' }], headers: { 'x-request-id': 'dup-b' } });
    while (b.proxy.detection.store.liveOwner(dupId)?.requestId !== 'dup-b') await new Promise((r) => setImmediate(r));
    // b's claim reaches a while dup-a is still in flight: a late shared finding on a.
    await synced(b, a);
    release();
    await Promise.all([onA, onB]);
    await Promise.all([settled(a), settled(b)]);
    expect(flagged(b)).toEqual(['replay-b:completion_id_collision', 'dup-b:completion_id_collision']);
    expect(b.proxy.incidents.list()[0]).toMatchObject({ relatedRequestIds: ['dup-a'], evidence: [{ other_state: 'in_flight' }] });
    const late = a.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => String(l.msg).includes('late shared finding'));
    // Replica a also learns the other half of the replay (warm-0's answer went to another user on b).
    expect(late).toMatchObject([
      { requestId: 'warm-0', inFlight: false, otherRequestId: 'replay-b', reasons: ['completion_id_collision'] },
      { requestId: 'dup-a', inFlight: true, otherRequestId: 'dup-b', reasons: ['completion_id_collision'] },
    ]);

    // 3. A session used by two keys on two replicas: bound to key 70 through a, then used with key 71 through b.
    let lastN = 0;
    script = (c) => {
      lastN = Math.max(lastN, c.n);
      writeSse(c.res, answer({ model: c.model, id: () => `chatcmpl-${run}-${c.n}-a8f3e1` }));
    };
    await chat(gwA, a, 'owner-a', keyOf(70));
    await synced(a, b);
    const session = (gwA as unknown as { byKey: Map<string, { id: string }> }).byKey.get(keyOf(70))?.id as string;
    const res = await fetch(`${b.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...gwB.chatHeaders(session, keyOf(71)), 'x-request-id': 'thief-b' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }], stream: true }),
    });
    await res.text();
    await settled(b);
    expect(flagged(b).at(-1)).toBe('thief-b:session_key_conflict');

    // 4. 2 × 200 clean streams, ten at a time on each replica: no incident on either.
    const before = [flagged(a).length, flagged(b).length];
    for (let wave = 0; wave < 20; wave++) {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => [
          chat(gwA, a, `clean-a-${wave}-${i}`, keyOf(100 + i)),
          chat(gwB, b, `clean-b-${wave}-${i}`, keyOf(200 + i)),
        ]).flat(),
      );
    }
    await synced(a, b);
    await synced(b, a);
    expect([flagged(a).length, flagged(b).length]).toEqual(before);
    // b's clean answers were shared with a (the window is one across replicas; it was simply clean).
    const lastId = `chatcmpl-${run}-${lastN}-a8f3e1`;
    expect([a, b].map((h) => h.proxy.detection.store.deliveredOwner(lastId)?.requestId.startsWith('clean-'))).toEqual([true, true]);
  });
});
