import { describe, expect, it } from 'vitest';
import { InspectorContext } from '../../src/inspect/context.js';
import { InspectStream, type BlockInfo, type JsonVerdict } from '../../src/inspect/inspect-stream.js';
import { ResponseInspector } from '../../src/inspect/response-inspector.js';
import { randomChunks, rng, runThrough } from './fixtures.js';

const completion = (id: string, model: string): Buffer =>
  Buffer.from(
    JSON.stringify({
      id,
      object: 'chat.completion',
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'Paris, 🙂' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
    }),
  );

describe('InspectStream on a non-streamed JSON body', () => {
  it('block mode gives its verdict before pushing a byte, and pushes nothing when blocked', async () => {
    const inspector = new ResponseInspector(new InspectorContext(), { requestId: 'r', requestModel: 'qwen', stream: false });
    const verdicts: JsonVerdict[] = [];
    const blocks: BlockInfo[] = [];
    const stream = new InspectStream({
      inspector,
      
      onJsonVerdict: (v) => verdicts.push(v),
      onBlock: (b) => blocks.push(b),
    });
    const out = await runThrough(stream, randomChunks(completion('c', 'llama'), rng(2), 16));
    expect(out).toEqual([]);
    expect(verdicts).toEqual([{ blocked: true, inspected: true, reasons: ['model_mismatch'] }]);
    expect(blocks).toHaveLength(1);
    expect(stream.blocked).toBe(true);
  });

  it('block mode forwards a clean body whole after the verdict', async () => {
    const inspector = new ResponseInspector(new InspectorContext(), { requestId: 'r', requestModel: 'Llama', stream: false });
    const order: string[] = [];
    const stream = new InspectStream({ inspector, onJsonVerdict: (v) => order.push(`verdict:${v.blocked}`) });
    stream.on('data', () => order.push('data'));
    const body = completion('c', 'org/llama');
    const out = await runThrough(stream, randomChunks(body, rng(3), 16));
    expect(Buffer.concat(out).equals(body)).toBe(true);
    expect(order[0]).toBe('verdict:false');
  });

  it('block mode forwards a body over the cap uninspected, or blocks it when the headers were foreign', async () => {
    const body = completion('c', 'llama');
    const ctx = new InspectorContext({ maxJsonBodyBytes: 64 });
    const verdicts: JsonVerdict[] = [];
    const inspector = new ResponseInspector(ctx, { requestId: 'r', requestModel: 'qwen', stream: false });
    const out = await runThrough(
      new InspectStream({ inspector, onJsonVerdict: (v) => verdicts.push(v) }),
      randomChunks(body, rng(4), 16),
    );
    expect(Buffer.concat(out).equals(body)).toBe(true);
    expect(verdicts).toEqual([{ blocked: false, inspected: false, reasons: [] }]);
    expect(inspector.finish()).toMatchObject({ reasons: [], inspectionSkipped: 'body_too_large' });

    const flagged = new ResponseInspector(ctx, { requestId: 'r', stream: false });
    flagged.onResponseHeaders({ 'x-request-id': 'other' });
    const none = await runThrough(new InspectStream({ inspector: flagged }), randomChunks(body, rng(5), 16));
    expect(none).toEqual([]);
  });
});
