import { describe, expect, it } from 'vitest';
import { decideVerdict, failureBreakdown, type VerdictInput } from '../../src/probe/verdict.js';

let n = 0;
function req(over: Partial<VerdictInput> = {}): VerdictInput {
  n++;
  return {
    requestId: `probe-t-${n}`,
    lane: 'sk-AbC123',
    model: 'm',
    outcome: 'ok',
    echo: 'match',
    reasons: [],
    sidecarReasons: [],
    findings: [],
    ...over,
  };
}

describe('decideVerdict', () => {
  it('every request answered with its own echo and no finding: FIX VERIFIED, exit 0', () => {
    expect(decideVerdict([req(), req(), req()])).toEqual({
      verdict: 'FIX VERIFIED',
      exitCode: 0,
      summary: '3 requests: every answer echoed its own request id and none showed crosstalk',
      details: [],
      offending: [],
    });
  });

  it('any finding wins over everything else: CROSSTALK, exit 1, naming the offending request', () => {
    const bad = req({
      requestId: 'probe-t-bad',
      echo: 'missing',
      reasons: ['foreign_nonce'],
      findings: [{ reason: 'foreign_nonce', evidence: { others: 'probe-t-9,probe-t-10', other_requests: 2 } }],
    });
    const v = decideVerdict([req({ echo: 'missing' }), bad, req({ outcome: 'failed', error: 'http_500' })]);
    expect(v.verdict).toBe('CROSSTALK');
    expect(v.exitCode).toBe(1);
    expect(v.summary).toBe('1 of 3 requests got an answer that belongs to another request');
    expect(v.offending).toEqual([
      {
        requestId: 'probe-t-bad',
        lane: 'sk-AbC123',
        model: 'm',
        reasons: ['foreign_nonce'],
        sidecarReasons: [],
        answersOf: ['probe-t-9', 'probe-t-10'],
        answersOfTotal: 2,
      },
    ]);
    expect(v.details).toEqual(['1 request failed: http_500 ×1']);
  });

  it('a sidecar incident alone on a probe request is crosstalk too', () => {
    const v = decideVerdict([req(), req({ requestId: 'probe-t-sc', sidecarReasons: ['request_id_mismatch'] })]);
    expect(v.verdict).toBe('CROSSTALK');
    expect(v.offending.map((o) => o.requestId)).toEqual(['probe-t-sc']);
    expect(v.details).toEqual(['1 request flagged by the sidecar only']);
  });

  it('no echo on any answer: UNVERIFIED, exit 3', () => {
    const v = decideVerdict([req({ echo: 'missing' }), req({ echo: 'missing' })]);
    expect(v.verdict).toBe('UNVERIFIED');
    expect(v.exitCode).toBe(3);
    expect(v.summary).toMatch(/^no answer echoed its x-request-id \(2 answered\)/);
  });

  it('echo on some answers only: UNVERIFIED with the counts', () => {
    const v = decideVerdict([req(), req(), req({ echo: 'missing' })]);
    expect(v.verdict).toBe('UNVERIFIED');
    expect(v.summary).toBe('the request-id echo is missing on some answers (2 matched, 1 missing)');
    expect(v.details).toEqual(['1 answer of 3 carried no x-request-id echo']);
  });

  it('all echoes matched but a request failed or came back empty: UNVERIFIED', () => {
    const v = decideVerdict([req(), req({ outcome: 'failed', error: 'timeout', echo: 'missing' }), req({ outcome: 'empty' })]);
    expect(v.verdict).toBe('UNVERIFIED');
    expect(v.summary).toBe('no crosstalk seen, but not every request was verified');
    expect(v.details).toEqual(['1 request failed: timeout ×1', '1 answer came back empty (no completion chunk at all)']);
  });

  it('nothing answered: COULD NOT RUN, exit 2', () => {
    const v = decideVerdict([req({ outcome: 'failed', error: 'ECONNREFUSED', echo: 'missing' })]);
    expect(v).toMatchObject({ verdict: 'COULD NOT RUN', exitCode: 2 });
    expect(v.summary).toBe('none of 1 request was answered: check --target and the credentials');
    expect(decideVerdict([]).verdict).toBe('COULD NOT RUN');
  });

  it('aborted requests are left out of every count', () => {
    const v = decideVerdict([req(), req({ outcome: 'aborted', echo: 'missing' })]);
    expect(v.verdict).toBe('FIX VERIFIED');
    expect(v.summary).toMatch(/^1 request:/);
  });
});

it('failureBreakdown: by error type, most frequent first', () => {
  const failed = (error: string) => req({ outcome: 'failed', error });
  expect(failureBreakdown([failed('http_429'), failed('ECONNRESET'), failed('http_429'), req()])).toBe('http_429 ×2, ECONNRESET ×1');
});
