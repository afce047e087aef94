import { describe, expect, it } from 'vitest';
import { checkRequestIdEcho, REASON_CODES } from '../../src/inspect/detectors.js';

describe('request_id_mismatch rule', () => {
  it('matches an identical echo', () => {
    expect(checkRequestIdEcho('req-1', 'req-1')).toEqual({ echo: 'match' });
    expect(checkRequestIdEcho('req-1', ' req-1 ')).toEqual({ echo: 'match' });
    expect(checkRequestIdEcho('req-1', 'req-1, req-1')).toEqual({ echo: 'match' });
  });

  it('treats a missing echo as missing, not as a finding (older routers echo nothing)', () => {
    expect(checkRequestIdEcho('req-1', undefined)).toEqual({ echo: 'missing' });
    expect(checkRequestIdEcho('req-1', '')).toEqual({ echo: 'missing' });
  });

  it('raises request_id_mismatch with both ids as evidence', () => {
    expect(checkRequestIdEcho('req-1', 'req-2')).toEqual({
      echo: 'mismatch',
      finding: { reason: 'request_id_mismatch', evidence: { expected: 'req-1', seen: 'req-2', source: 'header' } },
    });
    expect(checkRequestIdEcho('req-1', 'req-1, req-2', 'chunk').finding?.evidence.source).toBe('chunk');
  });

  it('uses the public reason codes', () => {
    expect(REASON_CODES).toEqual([
      'request_id_mismatch',
      'session_mismatch',
      'completion_id_collision',
      'completion_id_interleave',
      'model_mismatch',
      'session_key_conflict',
      'prompt_tokens_mismatch',
      'completion_tokens_exceed_max',
      'choice_index_out_of_range',
      'unrequested_tool_calls',
      'unrequested_logprobs',
      'created_before_request',
      'duplicate_finish_reason',
      'duplicate_usage',
      'content_after_finish',
      'spliced_event',
      'starved_request',
      'extra_completion',
    ]);
  });
});
