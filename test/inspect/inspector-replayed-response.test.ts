import { describe, expect, it } from 'vitest';
import { InspectorContext } from '../../src/inspect/context.js';
import { ResponseInspector } from '../../src/inspect/response-inspector.js';
import { chunkJson, feeder, sse } from './fixtures.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('a completion id already delivered on another request', () => {
  it('raises completion_id_collision within the recent window, and not after it', () => {
    const c = clock();
    const ctx = new InspectorContext({ now: c.now, completionIdWindowMs: 60_000 });
    const first = new ResponseInspector(ctx, { requestId: 'r1', stream: true });
    feeder(first).write(sse(chunkJson({ id: 'chatcmpl-X', model: 'm', content: 'hi' })));
    first.finish();

    c.advance(59_000);
    const replay = new ResponseInspector(ctx, { requestId: 'r2', stream: true });
    feeder(replay).write(sse(chunkJson({ id: 'chatcmpl-X', model: 'm', content: 'hi' })));
    expect(replay.finish().findings).toEqual([
      {
        reason: 'completion_id_collision',
        evidence: { seen: 'chatcmpl-X', other_request_id: 'r1', other_state: 'finished' },
      },
    ]);

    c.advance(2_000);
    const later = new ResponseInspector(ctx, { requestId: 'r3', stream: true });
    feeder(later).write(sse(chunkJson({ id: 'chatcmpl-X', model: 'm', content: 'hi' })));
    expect(later.finish().reasons).toEqual([]);
  });

  it('raises completion_id_collision when a new stream starts with an id another stream is still receiving', () => {
    const ctx = new InspectorContext();
    const a = new ResponseInspector(ctx, { requestId: 'r1', stream: true });
    const b = new ResponseInspector(ctx, { requestId: 'r2', stream: true });
    feeder(a).write(sse(chunkJson({ id: '1', model: 'm', content: 'x' })));
    feeder(b).write(sse(chunkJson({ id: '1', model: 'm', content: 'y' })));
    expect(b.reasons).toEqual(['completion_id_collision']);
    expect(a.reasons).toEqual([]);
  });

  it('does not let a foreign id become this request’s own', () => {
    const ctx = new InspectorContext();
    const a = new ResponseInspector(ctx, { requestId: 'r1', stream: true });
    feeder(a).write(sse(chunkJson({ id: 'X', model: 'm' })));
    const b = new ResponseInspector(ctx, { requestId: 'r2', stream: true });
    feeder(b).write(sse(chunkJson({ id: 'X', model: 'm' })));
    b.finish();
    expect(ctx.completionIds.lookup('X')).toMatchObject({ requestId: 'r1', inflight: true });
  });
});
