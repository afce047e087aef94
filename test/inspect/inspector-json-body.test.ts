import { describe, expect, it } from 'vitest';
import { InspectorContext } from '../../src/inspect/context.js';
import { ResponseInspector } from '../../src/inspect/response-inspector.js';

const body = (id: string, model: string): Buffer =>
  Buffer.from(
    JSON.stringify({
      id,
      object: 'chat.completion',
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'private text' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
    }),
  );

describe('non-streamed JSON responses', () => {
  it('are inspected with the same rules', () => {
    const ctx = new InspectorContext();
    const a = new ResponseInspector(ctx, { requestId: 'r1', requestModel: 'llama', stream: false });
    a.onJsonBody(body('chatcmpl-1', 'org/Llama'));
    expect(a.finish()).toMatchObject({
      reasons: [],
      firstCompletionId: 'chatcmpl-1',
      responseModel: 'org/Llama',
      usage: { inputTokens: 5, outputTokens: 7 },
    });
    const b = new ResponseInspector(ctx, { requestId: 'r2', requestModel: 'qwen', stream: false });
    b.onJsonBody(body('chatcmpl-1', 'llama'));
    expect(b.finish().reasons).toEqual(['completion_id_collision', 'model_mismatch']);
  });

  it('are skipped over the size cap', () => {
    const ctx = new InspectorContext({ maxJsonBodyBytes: 100 });
    const a = new ResponseInspector(ctx, { requestId: 'r1', stream: false });
    a.onJsonBody(body('chatcmpl-1', 'llama'));
    expect(a.finish()).toMatchObject({ reasons: [], inspectionSkipped: 'body_too_large' });
  });

  it('ignore error and non-JSON bodies', () => {
    const a = new ResponseInspector(new InspectorContext(), { requestId: 'r1', stream: false });
    a.onJsonBody(Buffer.from('invalid username or password'));
    a.onJsonBody(Buffer.from('{"error":{"message":"session expired"}}'));
    expect(a.finish().reasons).toEqual([]);
  });
});
