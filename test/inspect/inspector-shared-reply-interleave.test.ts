import { describe, expect, it } from 'vitest';
import { InspectorContext } from '../../src/inspect/context.js';
import type { Finding } from '../../src/inspect/detectors.js';
import { ResponseInspector } from '../../src/inspect/response-inspector.js';
import { chunkJson, feeder, MODEL_LLAMA, sse } from './fixtures.js';

// Provider bug fixed in proxy-router PR #561: one reply callback shared by all concurrent requests, so a newer
// request's chunks were written to an older request's connection. The older stream gets two interleaved ids,
// the newer one gets nothing.
describe('shared reply callback', () => {
  it('raises completion_id_interleave on the older stream the moment the ids interleave', () => {
    const ctx = new InspectorContext();
    const raised: Finding[] = [];
    const older = new ResponseInspector(ctx, { requestId: 'req-old', stream: true }, (f) => raised.push(f));
    const newer = new ResponseInspector(ctx, { requestId: 'req-new', stream: true });
    const p = feeder(older);
    const a = (content: string): string => chunkJson({ id: 'chatcmpl-A', model: MODEL_LLAMA, content });
    const b = (content: string): string => chunkJson({ id: 'chatcmpl-B', model: MODEL_LLAMA, content });

    p.write(sse(a('The'), a(' capital')));
    p.write(sse(b('Bonjour')));
    expect(raised).toEqual([]); // one id change alone is drift
    p.write(sse(a(' of')));
    expect(raised).toEqual([
      {
        reason: 'completion_id_interleave',
        evidence: { seen: 'chatcmpl-A', previous_id: 'chatcmpl-B', rule: 'reappeared' },
      },
    ]);
    p.write(sse(b(' le'), a(' France'), b(' monde'), '[DONE]'));
    p.end();

    const summary = older.finish();
    expect(summary.reasons).toEqual(['completion_id_interleave']);
    expect(summary.findings).toHaveLength(1); // each reason once, first evidence kept
    expect(summary.firstCompletionId).toBe('chatcmpl-A');
    const starved = newer.finish();
    expect(starved.reasons).toEqual([]);
    expect(starved.events).toBe(0);
  });

  it('also raises on the newer stream when it did get its first chunk before the mix-up', () => {
    const ctx = new InspectorContext();
    const older = new ResponseInspector(ctx, { requestId: 'req-old', stream: true });
    const newer = new ResponseInspector(ctx, { requestId: 'req-new', stream: true });
    const po = feeder(older);
    const pn = feeder(newer);
    po.write(sse(chunkJson({ id: 'A', model: 'm', content: 'x' })));
    pn.write(sse(chunkJson({ id: 'B', model: 'm', content: 'y' })));
    // From now on B's chunks land on the older connection.
    po.write(sse(chunkJson({ id: 'B', model: 'm', content: 'z' })));
    expect(older.reasons).toEqual(['completion_id_interleave']);
    expect(older.findings[0]?.evidence).toEqual({
      seen: 'B',
      previous_id: 'A',
      other_request_id: 'req-new',
      rule: 'inflight_owner',
    });
    expect(newer.reasons).toEqual([]);
  });
});
