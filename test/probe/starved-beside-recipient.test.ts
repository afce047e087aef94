import { expect, it } from 'vitest';
import type { ProbeRequestResult } from '../../src/probe/result.js';
import { pairStarvedRequests } from '../../src/probe/starvation-pass.js';
import { decideVerdict } from '../../src/probe/verdict.js';

// The probe applies the sidecar's starvation rule to its own run: an empty 200 answer beside one that carried
// several completions, in flight together, flags both; an empty answer alone stays unverified, never CROSSTALK.
const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const TARGET = 'http://127.0.0.1:1/v1/chat/completions';

function result(requestId: string, extra: Partial<ProbeRequestResult>): ProbeRequestResult {
  return {
    index: 0,
    requestId,
    lane: 'lane-0',
    model: 'm',
    outcome: 'ok',
    status: 200,
    echo: 'match',
    echoSource: 'response',
    completionIds: [],
    responseModels: [],
    chunks: 5,
    completions: 1,
    done: true,
    nonceSeen: true,
    findings: [],
    reasons: [],
    sidecarReasons: [],
    startedAtMs: T0,
    endedAtMs: T0 + 500,
    totalMs: 500,
    ...extra,
  };
}

const starved = (id: string, at = T0) => result(id, { outcome: 'empty', chunks: 0, completions: 0, nonceSeen: false, startedAtMs: at, endedAtMs: at + 400 });

it('an empty answer beside a recipient of two completions: both flagged, each naming the other', () => {
  const results = [starved('p-1'), result('p-2', { completions: 2 }), result('p-3', {})];
  pairStarvedRequests(results, TARGET);
  expect(results[0]?.reasons).toEqual(['starved_request']);
  expect(results[0]?.findings[0]?.evidence['other_request_id']).toBe('p-2');
  expect(results[1]?.reasons).toEqual(['extra_completion']);
  expect(results[1]?.findings[0]?.evidence['other_request_id']).toBe('p-1');
  expect(results[2]?.reasons).toEqual([]);
  expect(decideVerdict(results.map((r) => ({ ...r }))).verdict).toBe('CROSSTALK');
});

it('an empty answer alone is recorded, not flagged: the verdict is UNVERIFIED, not CROSSTALK', () => {
  const results = [starved('p-1'), result('p-2', {}), result('p-3', {})];
  pairStarvedRequests(results, TARGET);
  expect(results.flatMap((r) => r.reasons)).toEqual([]);
  expect(decideVerdict(results).verdict).toBe('UNVERIFIED');
});

it('only answers in flight together pair: an empty answer ten minutes after the recipient is alone', () => {
  const results = [result('p-1', { completions: 3 }), starved('p-2', T0 + 10 * 60_000)];
  pairStarvedRequests(results, TARGET);
  expect(results.flatMap((r) => r.reasons)).toEqual([]);
});

it('a failed request or a non-200 answer never pairs', () => {
  const results = [
    result('p-1', { outcome: 'failed', status: 502, chunks: 0, completions: 0 }),
    result('p-2', { outcome: 'empty', status: 204, chunks: 0, completions: 0 }),
    result('p-3', { completions: 2 }),
  ];
  pairStarvedRequests(results, TARGET);
  expect(results[0]?.reasons).toEqual([]);
  expect(results[1]?.reasons).toEqual([]);
  expect(results[2]?.reasons).toEqual([]);
});
