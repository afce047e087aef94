import { expect, it } from 'vitest';
import { incidentsUrl, joinIncidents, parseIncidentsPage, type SidecarIncident } from '../../src/probe/incidents.js';
import type { ProbeRequestResult } from '../../src/probe/result.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const S1 = `0x${'1'.repeat(64)}`;

function result(requestId: string, extra: Partial<ProbeRequestResult> = {}): ProbeRequestResult {
  return {
    index: 0,
    requestId,
    lane: 'sk-AbC123',
    model: 'm',
    outcome: 'ok',
    echo: 'match',
    echoSource: 'response',
    completionIds: [],
    responseModels: [],
    chunks: 1,
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

const incident = (requestId: string, extra: Partial<SidecarIncident> = {}): SidecarIncident => ({
  requestId,
  reasons: ['model_mismatch'],
  blocked: false,
  completionIds: [],
  ...extra,
});

it('joins incidents to the run by request id; other traffic is ignored', () => {
  const requests = [result('probe-j-1', { reasons: ['model_mismatch'] }), result('probe-j-2'), result('probe-j-3', { reasons: ['foreign_nonce'] })];
  const join = joinIncidents(
    requests,
    {
      total: 5,
      incidents: [
        incident('probe-j-1', { reasons: ['model_mismatch', 'completion_id_interleave'] }),
        incident('probe-j-2', { reasons: ['request_id_mismatch'] }),
        incident('someone-else'),
      ],
    },
    'http://admin/incidents?limit=1000000',
  );
  expect(requests.map((r) => r.sidecarReasons)).toEqual([['model_mismatch', 'completion_id_interleave'], ['request_id_mismatch'], []]);
  expect(join).toEqual({
    url: 'http://admin/incidents?limit=1000000',
    total: 5,
    onThisRun: 2,
    truncated: true,
    joinedBy: { request_id: 2, completion_id: 0, session_time: 0 },
    ambiguous: 0,
    both: ['probe-j-1'],
    sidecarOnly: ['probe-j-2'],
    probeOnly: ['probe-j-3'],
  });
});

it('through the newer gateway: joined by the X-Request-Id the gateway returned (its own id, forwarded to the sidecar)', () => {
  const requests = [result('probe-g-1', { upstreamRequestId: 'gw-7f3a' }), result('probe-g-2', { upstreamRequestId: 'gw-7f3b' })];
  const join = joinIncidents(requests, { total: 1, incidents: [incident('gw-7f3b')] }, 'u');
  expect(requests.map((r) => [r.sidecarReasons, r.sidecarJoin])).toEqual([[[], undefined], [['model_mismatch'], 'request_id']]);
  expect(join.joinedBy.request_id).toBe(1);
});

it('through the older gateway (no request id forwarded): joined by the completion id the sidecar recorded', () => {
  const requests = [
    result('probe-o-1', { completionIds: ['chatcmpl-aaa'] }),
    result('probe-o-2', { completionIds: ['chatcmpl-bbb'] }),
    result('probe-o-3', { completionIds: ['chatcmpl-ccc'] }),
  ];
  const join = joinIncidents(
    requests,
    {
      total: 2,
      incidents: [
        // The sidecar's own id (the gateway sent none), the completion id it saw in its evidence.
        incident('a1b2c3d4', {
          reasons: ['completion_id_collision'],
          completionIds: ['chatcmpl-bbb'],
        }),
        incident('e5f6a7b8', { completionIds: ['chatcmpl-zzz'] }),
      ],
    },
    'u',
  );
  expect(requests.map((r) => r.sidecarReasons)).toEqual([[], ['completion_id_collision'], []]);
  expect(requests[1]?.sidecarJoin).toBe('completion_id');
  expect([join.onThisRun, join.joinedBy, join.sidecarOnly]).toEqual([
    1,
    { request_id: 0, completion_id: 1, session_time: 0 },
    ['probe-o-2'],
  ]);
});

it('by session and time only when exactly one request on that session was in flight; never by time alone', () => {
  const requests = [
    result('probe-t-1', { session: S1, startedAtMs: T0, endedAtMs: T0 + 400 }),
    result('probe-t-2', { session: S1, startedAtMs: T0 + 1_000, endedAtMs: T0 + 9_000 }),
    result('probe-t-3', { session: S1, startedAtMs: T0 + 5_000, endedAtMs: T0 + 6_000 }),
    result('probe-t-4', { startedAtMs: T0 + 20_000, endedAtMs: T0 + 21_000 }),
  ];
  const join = joinIncidents(
    requests,
    {
      total: 3,
      incidents: [
        // Recorded just after probe-t-1 ended, before t-2 started: t-1's.
        incident('x-1', { session: S1, timeMs: T0 + 700 }),
        // While t-2 and t-3 were both in flight on S1: ambiguous, left unjoined.
        incident('x-2', { session: S1, timeMs: T0 + 5_500 }),
        // During t-4, whose session the probe does not know: no time-only join.
        incident('x-3', { session: `0x${'2'.repeat(64)}`, timeMs: T0 + 20_500 }),
      ],
    },
    'u',
  );
  expect(requests.map((r) => r.sidecarJoin)).toEqual(['session_time', undefined, undefined, undefined]);
  expect([join.onThisRun, join.ambiguous, join.joinedBy.session_time]).toEqual([1, 1, 1]);
});

it('incidentsUrl keeps a base path', () => {
  expect(incidentsUrl(new URL('http://sidecar:9464'))).toBe('http://sidecar:9464/incidents?limit=1000000');
  expect(incidentsUrl(new URL('https://ops.example/crosstalk/'))).toBe('https://ops.example/crosstalk/incidents?limit=1000000');
});

it("reads an incident's completion ids from the completion-id rules' evidence, never a model name", () => {

  const page = parseIncidentsPage({
    total: 1,
    incidents: [
      {
        time: '2026-12-01T10:00:00.700Z',
        requestId: 'a1b2c3d4',
        session: S1.toUpperCase().replace('0X', '0x'),
        reasons: ['completion_id_collision', 'model_mismatch'],
        evidence: [
          { reason: 'completion_id_collision', seen: 'chatcmpl-bbb', previous_id: 'chatcmpl-aaa', other_request_id: 'f00' },
          { reason: 'model_mismatch', expected: 'llama-3.3-70b', seen: 'qwen-2.5-72b' },
        ],
        blocked: false,
      },
    ],
  });
  expect(page.incidents).toEqual([
    {
      requestId: 'a1b2c3d4',
      reasons: ['completion_id_collision', 'model_mismatch'],
      blocked: false,
      timeMs: T0 + 700,
      session: S1,
      completionIds: ['chatcmpl-bbb', 'chatcmpl-aaa'],
    },
  ]);
});
