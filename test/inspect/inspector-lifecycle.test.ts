import { describe, expect, it } from 'vitest';
import { InspectorContext } from '../../src/inspect/context.js';
import type { Finding } from '../../src/inspect/detectors.js';
import { ResponseInspector } from '../../src/inspect/response-inspector.js';
import { chunkJson, feeder, sse, usageChunkJson } from './fixtures.js';

describe('inspector lifecycle', () => {
  it('raises each reason once, synchronously, keeping the first evidence', () => {
    const raised: Finding[] = [];
    const i = new ResponseInspector(new InspectorContext(), { requestId: 'r', stream: true }, (f) => raised.push(f));
    i.onResponseHeaders({ 'x-request-id': 'r-2' });
    expect(raised).toHaveLength(1);
    feeder(i).write(sse('{"request_id":"r-3"}'));
    expect(i.finish().findings).toEqual([
      { reason: 'request_id_mismatch', evidence: { expected: 'r', seen: 'r-2', source: 'header' } },
    ]);
  });

  it('finish is idempotent and releases in-flight registrations once (also after an abort)', () => {
    const ctx = new InspectorContext();
    const i = new ResponseInspector(ctx, { requestId: 'r', sessionId: '0x1', keyFingerprint: 'fp', stream: true });
    feeder(i).write(sse(chunkJson({ id: 'A', model: 'm' })));
    const s1 = i.finish();
    expect(i.finish()).toBe(s1);
    expect(ctx.inflight.inflightForKey('fp')).toBe(0);
    expect(ctx.completionIds.lookup('A')?.inflight).toBe(false);
    // Events after finish (a late chunk racing an abort) are ignored.
    feeder(i).write(sse(chunkJson({ id: 'B', model: 'other' })));
    expect(i.finish().events).toBe(1);
  });

  it('summarizes drift, usage, failover text, keep-alives, [DONE] and oversized events', () => {
    const ctx = new InspectorContext({ maxEventBytes: 512 });
    const i = new ResponseInspector(ctx, { requestId: 'r', stream: true });
    const p = feeder(i, 512);
    p.write(Buffer.from(': ping\n\ndata: provider failed, failover enabled\n\n'));
    p.write(sse(chunkJson({ id: 'A', model: 'm', content: 'x' }), chunkJson({ id: 'B', model: 'm', content: 'y' })));
    p.write(sse(`{"id":"C","pad":"${'z'.repeat(600)}"}`));
    p.write(sse(usageChunkJson('D', 'm', 3, 4), '{"error":{"message":"x"}}', '[DONE]'));
    p.end();
    expect(i.finish()).toEqual({
      requestId: 'r',
      findings: [],
      reasons: [],
      requestIdEcho: 'missing',
      completionIdDrift: true,
      firstCompletionId: 'A',
      responseModel: 'm',
      usage: { inputTokens: 3, outputTokens: 4 },
      events: 7,
      oversizedEvents: 1,
      textEvents: 1,
      errorEvents: 1,
      done: true,
      inflight: { apiKey: 0, session: 0 },
    });
  });
});
