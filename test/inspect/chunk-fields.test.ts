import { describe, expect, it } from 'vitest';
import { classifyData, extractChunkFields, MAX_FIELD_CHARS } from '../../src/inspect/chunk-fields.js';
import { chunkJson, usageChunkJson } from './fixtures.js';

describe('chunk fields', () => {
  it('reads id and model of a chat chunk and keeps no content', () => {
    const fields = extractChunkFields(chunkJson({ id: 'chatcmpl-1', model: 'llama', content: 'secret answer' }));
    expect(fields).toEqual({
      id: 'chatcmpl-1',
      model: 'llama',
      error: false,
      created: 1_764_000_000,
      choices: { empty: false, maxIndex: 0, finished: [], withContent: [0], toolCalls: false, logprobs: false },
    });
    expect(JSON.stringify(fields)).not.toContain('secret');
  });

  it('reads usage_from_provider tokens from the router usage chunk, preferring usage when present', () => {
    expect(extractChunkFields(usageChunkJson('c', 'm', 12, 34))?.usage).toEqual({ inputTokens: 12, outputTokens: 34 });
    expect(
      extractChunkFields(
        JSON.stringify({ usage: { prompt_tokens: 1, completion_tokens: 2 }, usage_from_provider: { prompt_tokens: 9 } }),
      )?.usage,
    ).toEqual({ inputTokens: 1, outputTokens: 2 });
  });

  it('reads echoed request and session ids', () => {
    expect(extractChunkFields('{"id":"c","request_id":"r-1","session_id":"0xAB"}')).toEqual({
      id: 'c',
      requestId: 'r-1',
      sessionId: '0xAB',
      error: false,
    });
  });

  it('flags error payloads', () => {
    expect(extractChunkFields('{"error":{"message":"session expired","type":"x","status":400}}')).toEqual({ error: true });
  });

  it('ignores [DONE], failover text, malformed JSON and non-objects without throwing', () => {
    for (const data of [
      '[DONE]',
      'provider failed, failover enabled',
      'new session opened: 0xabc',
      '{"id":',
      '[1,2]',
      '"str"',
      '',
    ]) {
      expect(extractChunkFields(data), data).toBeUndefined();
    }
  });

  it('ignores fields of the wrong type and cuts long ids', () => {
    expect(extractChunkFields('{"id":7,"model":null,"usage":{"prompt_tokens":"3"}}')).toEqual({ error: false });
    expect(extractChunkFields(JSON.stringify({ id: 'x'.repeat(1000) }))?.id).toHaveLength(MAX_FIELD_CHARS);
  });

  it('classifies data payloads', () => {
    expect(classifyData(' {"a":1}')).toBe('json');
    expect(classifyData('[DONE]')).toBe('done');
    expect(classifyData('provider failed, failover enabled')).toBe('text');
    expect(classifyData('')).toBe('text');
  });
});
