import { describe, expect, it } from 'vitest';
import { extractChunkFields, repeatableHead, repeatsHead } from '../../src/inspect/chunk-fields.js';
import { InspectorContext } from '../../src/inspect/context.js';
import { ResponseInspector } from '../../src/inspect/response-inspector.js';
import { chunkJson, usageChunkJson } from './fixtures.js';

const content = (id: string, text: string, model = 'm'): string => chunkJson({ id, model, content: text });
const headOf = (data: string): string | undefined => {
  const fields = extractChunkFields(data);
  return fields === undefined ? undefined : repeatableHead(data, fields);
};

describe('the repeated-head shortcut', () => {
  it('takes the head of a plain content chunk only', () => {
    expect(headOf(content('A', 'x'))).toBe('{"id":"A","object":"chat.completion.chunk","created":1764000000,"model":"m",');
    expect(headOf(usageChunkJson('A', 'm', 1, 2))).toBeUndefined();
    expect(headOf('{"id":"A","error":{"message":"x"},"choices":[]}')).toBeUndefined();
    expect(headOf('{"id":"A","request_id":"r","choices":[]}')).toBeUndefined();
    expect(headOf('{"choices":[],"id":"A"}')).toBeUndefined();
    expect(headOf('{"model":"m","choices":[]}')).toBeUndefined();
  });

  it('skips only payloads that repeat the head and name no inspected key after it', () => {
    const head = headOf(content('A', 'x')) as string;
    expect(repeatsHead(content('A', 'a "quoted" answer about "id" and "model"'), head)).toBe(true);
    expect(repeatsHead(content('B', 'x'), head)).toBe(false);
    expect(repeatsHead(content('A', 'x', 'other'), head)).toBe(false);
    expect(repeatsHead(head, head)).toBe(false);
    for (const tail of ['"usage":null', '"usage_from_provider":{}', '"id":"B"', '"model":"z"', '"error":{}', '"session_id":"s"', '"request_id":"r"']) {
      expect(repeatsHead(`${head}"choices":[],${tail}}`, head), tail).toBe(false);
    }
    // A tool call's nested "id" forces a parse too: conservative, never wrong.
    expect(repeatsHead(`${head}"choices":[{"delta":{"tool_calls":[{"id":"call_1"}]}}]}`, head)).toBe(false);
  });

  it('gives the same inspection results as parsing every payload', () => {
    const payloads = [
      content('A', 'one'),
      content('A', 'two'),
      `${content('A', 'three').slice(0, -1)},"id":"B"}`, // duplicate key: JSON.parse takes the last
      content('A', 'four'),
      `${content('A', 'five').slice(0, -1)},"model":"other"}`,
      `${content('A', 'six').slice(0, -1)},"usage":{"prompt_tokens":1,"completion_tokens":2}}`,
      content('A', 'seven'),
      usageChunkJson('A', 'm', 3, 4),
    ];
    const viaData = new ResponseInspector(new InspectorContext(), { requestId: 'r', requestModel: 'm', stream: true });
    const viaFields = new ResponseInspector(new InspectorContext(), { requestId: 'r', requestModel: 'm', stream: true });
    for (const p of payloads) {
      viaData.onData(p);
      viaFields.onChunk(extractChunkFields(p) ?? { error: false });
    }
    const a = viaData.finish();
    expect(a.reasons).toEqual(['completion_id_interleave', 'model_mismatch']);
    expect(a).toEqual(viaFields.finish());
  });
});
