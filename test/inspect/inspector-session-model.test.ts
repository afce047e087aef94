import { describe, expect, it } from 'vitest';
import { InspectorContext } from '../../src/inspect/context.js';
import { ResponseInspector } from '../../src/inspect/response-inspector.js';
import { chunkJson, feeder, MODEL_LLAMA, MODEL_QWEN, sse } from './fixtures.js';

const S = `0x${'f'.repeat(64)}`;

function respond(ctx: InspectorContext, requestId: string, payloads: string[]): ResponseInspector {
  const i = new ResponseInspector(ctx, { requestId, sessionId: S, stream: true });
  feeder(i).write(sse(...payloads));
  return i;
}

describe('a session bound to one model, learned from its responses', () => {
  it('flags a later response with another model, but not a differently spelled name of the same model', () => {
    const ctx = new InspectorContext({ modelAliases: { 'llama-3.3-70b': MODEL_LLAMA } });
    expect(respond(ctx, 'r1', [chunkJson({ id: 'a', model: MODEL_LLAMA })]).finish().reasons).toEqual([]);
    expect(respond(ctx, 'r2', [chunkJson({ id: 'b', model: 'LLAMA-3.3-70B' })]).finish().reasons).toEqual([]);
    expect(respond(ctx, 'r3', [chunkJson({ id: 'c', model: MODEL_QWEN })]).finish().reasons).toEqual(['model_mismatch']);
    // Confirmed by two requests: the binding survives the contradiction.
    expect(ctx.sessionModels.get(S)).toBe('llama-3.3-70b');
  });

  it('does not learn from a response already found foreign', () => {
    const ctx = new InspectorContext();
    const owner = respond(ctx, 'r0', [chunkJson({ id: 'X', model: MODEL_LLAMA })]);
    // r1 starts with an id r0 is receiving: collision, so its model must not teach the session.
    respond(ctx, 'r1', [chunkJson({ id: 'X', model: MODEL_QWEN })]);
    owner.finish();
    expect(ctx.sessionModels.get(S)).toBe('llama-3.3-70b');
  });

  it('retracts what a response taught when it is found foreign later in its own stream', () => {
    const ctx = new InspectorContext();
    const i = respond(ctx, 'r1', [chunkJson({ id: 'A', model: MODEL_QWEN }), chunkJson({ id: 'B', model: MODEL_QWEN })]);
    expect(ctx.sessionModels.get(S)).toBe('qwen2.5-coder-32b');
    feeder(i).write(sse(chunkJson({ id: 'A', model: MODEL_QWEN })));
    expect(i.reasons).toEqual(['completion_id_interleave']);
    expect(ctx.sessionModels.get(S)).toBeUndefined();
  });

  it('costs at most one false flag when an undetected foreign response taught the session first', () => {
    const ctx = new InspectorContext();
    respond(ctx, 'foreign', [chunkJson({ id: 'F', model: MODEL_QWEN })]).finish();
    expect(respond(ctx, 'r2', [chunkJson({ id: 'G', model: MODEL_LLAMA })]).finish().reasons).toEqual(['model_mismatch']);
    expect(respond(ctx, 'r3', [chunkJson({ id: 'H', model: MODEL_LLAMA })]).finish().reasons).toEqual([]);
    expect(respond(ctx, 'r4', [chunkJson({ id: 'I', model: MODEL_LLAMA })]).finish().reasons).toEqual([]);
  });
});
