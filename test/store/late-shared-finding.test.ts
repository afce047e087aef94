import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SimulatedGateway } from '../../src/simulator/index.js';
import type { SharedDetectionStore } from '../../src/store/shared-store.js';
import { SPAN_NAME_PEER_FINDING } from '../../src/telemetry/attributes.js';
import { startProxy, type Harness } from '../helpers/proxy-harness.js';
import { answer, chunk, startScriptedRouter, writeSse, type ScriptedChat } from '../detection/scripted-router.js';
import { keyOf } from '../detection/e2e.js';
import { REDIS_URL, describeRedis, uniquePrefix } from './harness.js';

// Issue 17 items 2 and 5: a shared fact that reaches a replica after it judged on local knowledge. Two real
// sidecars in block mode, one Redis, each behind a gateway as the real one sends (session per key, Basic auth, no
// key header, no model in the body). A request still in flight is stopped from that point (the caller gets the
// crosstalk error event after what it already had, never the rest) and recorded as blocked; a request already
// finished gets an incident and a span in its trace. Both sides' incidents name the other request with its
// replica and trace id, and the spans link to each other across the two processes' traces.
const MODEL = 'qwen3-235b';
const run = randomBytes(3).toString('hex');

const storeOf = (h: Harness) => h.proxy.detection.store as SharedDetectionStore;

async function settled(h: Harness): Promise<void> {
  for (let i = 0; i < 1000 && h.proxy.activeRequests > 0; i++) await new Promise((r) => setImmediate(r));
}

async function synced(from: Harness, to: Harness): Promise<void> {
  const id = await storeOf(from).transport?.flush();
  if (id !== undefined) await storeOf(to).transport?.caughtUp(id);
}

/** The finished server span of the request `requestId` (the chat span carries it as crosstalk.request_id). */
function spanOf(h: Harness, requestId: string, name?: string): ReadableSpan {
  const span = h.tracing.exporter
    .getFinishedSpans()
    .find((s) => s.attributes['crosstalk.request_id'] === requestId && (name === undefined ? s.name !== SPAN_NAME_PEER_FINDING : s.name === name));
  if (span === undefined) throw new Error(`no span for ${requestId}`);
  return span;
}

const linkTo = (span: ReadableSpan, other: ReadableSpan) =>
  span.links.some((l) => l.context.traceId === other.spanContext().traceId && l.context.spanId === other.spanContext().spanId);

describeRedis('a late shared finding (block mode, two sidecars)', () => {
  it('stops a stream still in flight from that point, records a finished one, and links both sides across replicas', async () => {
    let script: (chat: ScriptedChat) => void = (chat) => writeSse(chat.res, answer({ model: chat.model, id: () => `chatcmpl-${run}-${chat.n}-5be1a9` }));
    const router = await startScriptedRouter({ answer: (chat) => script(chat) });
    const store = { kind: 'redis' as const, url: REDIS_URL as string, keyPrefix: uniquePrefix() };
    const a = await startProxy(router.url, { onCrosstalk: 'block', store });
    const b = await startProxy(router.url, { onCrosstalk: 'block', store });
    const [replicaA, replicaB] = [storeOf(a).replica, storeOf(b).replica];
    expect(replicaA).not.toBe(replicaB);
    const auth = { username: 'admin', password: 'pw' };
    const gwA = new SimulatedGateway({ baseUrl: a.url, mode: 'session-per-key', auth });
    const gwB = new SimulatedGateway({ baseUrl: b.url, mode: 'session-per-key', auth });
    const chat = (gw: SimulatedGateway, id: string, key: string) =>
      gw.chat({ apiKey: key, model: MODEL, messages: [{ role: 'user', content: 'hello' }], headers: { 'x-request-id': id } });

    // Warm-up through a: the provider's ids are unique and stable, on both replicas.
    for (let n = 0; n < 6; n++) expect((await chat(gwA, `warm-${n}`, keyOf(n))).status).toBe(200);
    await settled(a);
    await synced(a, b);

    // 1. In flight: dup-a's answer on a is held after its first chunk; b's request gets the same completion id.
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const dupId = `chatcmpl-${run}-dup-77aa01`;
    let secondChunkWritten = false;
    script = (c) => {
      c.res.writeHead(200, { 'content-type': 'text/event-stream' });
      c.res.write(`data: ${chunk({ id: dupId, model: c.model, content: 'alpha ' })}\n\n`);
      void held.then(() => {
        if (c.res.destroyed) return;
        secondChunkWritten = true;
        c.res.write(`data: ${chunk({ id: dupId, model: c.model, content: 'omega ' })}\n\n`);
        c.res.write(`data: ${chunk({ id: dupId, model: c.model, finish: true, usage: { prompt: 20, completion: 2 } })}\n\n`);
        c.res.end('data: [DONE]\n\n');
      });
    };
    const onA = chat(gwA, 'dup-a', keyOf(60));
    while (storeOf(a).liveOwner(dupId)?.requestId !== 'dup-a') await new Promise((r) => setImmediate(r));
    await synced(a, b);
    // b knows a's live claim: dup-b is blocked at once, before any foreign byte (a local decision).
    const dupB = await chat(gwB, 'dup-b', keyOf(61));
    expect(dupB.body).not.toContain('alpha');
    expect(dupB.body).toContain('crosstalk_detected');
    await settled(b);
    // b's claim reaches a while dup-a is still in flight: the late finding stops dup-a's stream here.
    await synced(b, a);
    const dupA = await onA;
    release();
    expect(dupA.status).toBe(200);
    expect(dupA.body).toContain('alpha');
    expect(dupA.body).toContain('crosstalk_detected');
    expect(dupA.body).not.toContain('omega');
    await settled(a);
    // The router's stream for dup-a was cancelled (the block tore the upstream down) or its rest discarded.
    if (secondChunkWritten) expect(dupA.body).not.toContain('omega');

    const incidentA = a.proxy.incidents.list().find((i) => i.requestId === 'dup-a');
    const incidentB = b.proxy.incidents.list().find((i) => i.requestId === 'dup-b');
    const spanA = spanOf(a, 'dup-a');
    const spanB = spanOf(b, 'dup-b');
    expect(incidentA).toMatchObject({
      blocked: true,
      replica: replicaA,
      reasons: ['completion_id_collision'],
      evidence: [{ rule: 'late_shared', other_replica: replicaB, other_request_id: 'dup-b' }],
      relatedRequestIds: ['dup-b'],
      relatedRequests: [{ requestId: 'dup-b', replica: replicaB, traceId: spanB.spanContext().traceId }],
    });
    expect(incidentB).toMatchObject({
      blocked: true,
      replica: replicaB,
      relatedRequestIds: ['dup-a'],
      relatedRequests: [{ requestId: 'dup-a', replica: replicaA, traceId: spanA.spanContext().traceId }],
    });
    expect(spanA.attributes['crosstalk.blocked']).toBe(true);
    // Jaeger walks both ways across the two sidecars' traces.
    expect(linkTo(spanA, spanB)).toBe(true);
    expect(linkTo(spanB, spanA)).toBe(true);

    // 2. Finished: warm-0's answer (delivered through a) is replayed to another user through b.
    const warm0Id = `chatcmpl-${run}-1-5be1a9`;
    script = (c) => writeSse(c.res, answer({ model: c.model, id: () => warm0Id }));
    const replay = await chat(gwB, 'replay-b', keyOf(70));
    expect(replay.body).toContain('crosstalk_detected');
    await settled(b);
    await synced(b, a);
    const warm0 = a.proxy.incidents.list().find((i) => i.requestId === 'warm-0');
    const spanWarm0 = spanOf(a, 'warm-0');
    const spanReplay = spanOf(b, 'replay-b');
    expect(warm0).toMatchObject({
      blocked: false,
      replica: replicaA,
      traceId: spanWarm0.spanContext().traceId,
      reasons: ['completion_id_collision'],
      evidence: [{ rule: 'late_shared', other_request_id: 'replay-b', other_state: 'in_flight' }],
      relatedRequests: [{ requestId: 'replay-b', replica: replicaB, traceId: spanReplay.spanContext().traceId }],
    });
    // warm-0's span had ended: the finding is a short span in its trace, linked to replay-b's span on b.
    const peer = spanOf(a, 'warm-0', SPAN_NAME_PEER_FINDING);
    expect(peer.spanContext().traceId).toBe(spanWarm0.spanContext().traceId);
    expect(linkTo(peer, spanReplay)).toBe(true);
    expect(b.proxy.incidents.list().find((i) => i.requestId === 'replay-b')?.relatedRequests).toEqual([
      { requestId: 'warm-0', replica: replicaA, traceId: spanWarm0.spanContext().traceId },
    ]);
    expect(linkTo(spanReplay, spanWarm0)).toBe(true);
  });
});
