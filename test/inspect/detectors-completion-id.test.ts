import { describe, expect, it } from 'vitest';
import { classifyCompletionId, type CompletionIdFacts } from '../../src/inspect/detectors.js';

const fresh: CompletionIdFacts = { previousId: undefined, seenOnThisRequest: false, owner: undefined };
const other = (inflight: boolean) => ({ self: false, inflight, requestId: 'req-other' });

describe('completion id rules', () => {
  it('classifies the normal cases without a finding', () => {
    expect(classifyCompletionId('A', fresh)).toEqual({ kind: 'first' });
    expect(classifyCompletionId('A', { ...fresh, previousId: 'A', owner: { self: true, inflight: true, requestId: 'me' } })).toEqual({
      kind: 'repeat',
    });
  });

  it('treats a never-seen new id as drift, not crosstalk', () => {
    expect(classifyCompletionId('B', { ...fresh, previousId: 'A' })).toEqual({ kind: 'drift' });
  });

  it('raises completion_id_interleave when an id reappears after another (A…B…A)', () => {
    const r = classifyCompletionId('A', { previousId: 'B', seenOnThisRequest: true, owner: undefined });
    expect(r.kind).toBe('interleave');
    expect(r.finding).toEqual({
      reason: 'completion_id_interleave',
      evidence: { seen: 'A', previous_id: 'B', rule: 'reappeared' },
    });
    // Known only from the registry (the per-request set is bounded): still this request's own id.
    expect(
      classifyCompletionId('A', { previousId: 'B', seenOnThisRequest: false, owner: { self: true, inflight: true, requestId: 'me' } })
        .kind,
    ).toBe('interleave');
  });

  it('raises completion_id_interleave for a mid-stream id owned by another in-flight stream', () => {
    expect(classifyCompletionId('X', { previousId: 'A', seenOnThisRequest: false, owner: other(true) })).toEqual({
      kind: 'interleave',
      finding: {
        reason: 'completion_id_interleave',
        evidence: { seen: 'X', previous_id: 'A', other_request_id: 'req-other', rule: 'inflight_owner' },
      },
    });
  });

  it('raises completion_id_collision when the first id already belongs to another request', () => {
    expect(classifyCompletionId('X', { ...fresh, owner: other(true) })).toEqual({
      kind: 'collision',
      finding: {
        reason: 'completion_id_collision',
        evidence: { seen: 'X', other_request_id: 'req-other', other_state: 'in_flight' },
      },
    });
    expect(classifyCompletionId('X', { ...fresh, owner: other(false) }).finding?.evidence.other_state).toBe('finished');
  });

  it('raises completion_id_collision for a mid-stream id of a finished request (a replayed response)', () => {
    expect(classifyCompletionId('X', { previousId: 'A', seenOnThisRequest: false, owner: other(false) }).kind).toBe(
      'collision',
    );
  });
});
