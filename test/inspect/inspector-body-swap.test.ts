import { describe, expect, it } from 'vitest';
import { InspectorContext } from '../../src/inspect/context.js';
import { ResponseInspector } from '../../src/inspect/response-inspector.js';
import { chunkJson, feeder, MODEL_LLAMA, MODEL_QWEN, sse } from './fixtures.js';

const S1 = `0x${'1'.repeat(64)}`;
const S2 = `0x${'2'.repeat(64)}`;

function run(ctx: InspectorContext, requestId: string, sessionId: string, body: Buffer): ResponseInspector {
  const inspector = new ResponseInspector(ctx, { requestId, sessionId, stream: true });
  const p = feeder(inspector);
  p.write(body);
  p.end();
  return inspector;
}

const stream = (id: string, model: string): Buffer =>
  sse(chunkJson({ id, model, content: 'a' }), chunkJson({ id, model, content: 'b' }), '[DONE]');

describe('two concurrent streams with swapped bodies', () => {
  it('raise model_mismatch on both when their sessions are bound to different models', () => {
    const ctx = new InspectorContext();
    // Earlier clean responses bind each session to its model.
    expect(run(ctx, 'warm-1', S1, stream('W1', MODEL_LLAMA)).finish().reasons).toEqual([]);
    expect(run(ctx, 'warm-2', S2, stream('W2', MODEL_QWEN)).finish().reasons).toEqual([]);

    const r1 = new ResponseInspector(ctx, { requestId: 'r1', sessionId: S1, stream: true });
    const r2 = new ResponseInspector(ctx, { requestId: 'r2', sessionId: S2, stream: true });
    feeder(r1).write(stream('C2', MODEL_QWEN)); // r1 gets r2's body
    feeder(r2).write(stream('C1', MODEL_LLAMA)); // and vice versa
    expect(r1.finish().findings).toEqual([
      {
        reason: 'model_mismatch',
        evidence: { expected: 'llama-3.3-70b', seen: 'qwen2.5-coder-32b', source: 'session' },
      },
    ]);
    expect(r2.finish().reasons).toEqual(['model_mismatch']);
    // The bindings confirmed only by the warm-up requests were contradicted and dropped: one undetected foreign
    // first response must not poison a session for good.
  });

  it('raise model_mismatch against the model the request body names', () => {
    const ctx = new InspectorContext();
    const r1 = new ResponseInspector(ctx, { requestId: 'r1', requestModel: 'llama-3.3-70b', stream: true });
    feeder(r1).write(stream('C2', MODEL_QWEN));
    expect(r1.finish().reasons).toEqual(['model_mismatch']);
  });

  it('raise completion_id_interleave on both when the swap happens mid-stream', () => {
    const ctx = new InspectorContext();
    const r1 = new ResponseInspector(ctx, { requestId: 'r1', stream: true });
    const r2 = new ResponseInspector(ctx, { requestId: 'r2', stream: true });
    const p1 = feeder(r1);
    const p2 = feeder(r2);
    p1.write(sse(chunkJson({ id: 'C1', model: MODEL_LLAMA, content: 'a' })));
    p2.write(sse(chunkJson({ id: 'C2', model: MODEL_LLAMA, content: 'b' })));
    p1.write(sse(chunkJson({ id: 'C2', model: MODEL_LLAMA, content: 'c' })));
    p2.write(sse(chunkJson({ id: 'C1', model: MODEL_LLAMA, content: 'd' })));
    expect(r1.finish().reasons).toEqual(['completion_id_interleave']);
    expect(r2.finish().reasons).toEqual(['completion_id_interleave']);
  });
});
