import { expect, it } from 'vitest';
import { incidentsUrl, joinIncidents } from '../../src/probe/incidents.js';
import type { ProbeRequestResult } from '../../src/probe/model.js';

function result(requestId: string, reasons: ProbeRequestResult['reasons'] = []): ProbeRequestResult {
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
    done: true,
    nonceSeen: true,
    findings: [],
    reasons,
    sidecarReasons: [],
    totalMs: 1,
  };
}

it('joins incidents to the run by request id; other traffic is ignored', () => {
  const requests = [result('probe-j-1', ['model_mismatch']), result('probe-j-2'), result('probe-j-3', ['foreign_nonce'])];
  const join = joinIncidents(
    requests,
    {
      total: 5,
      incidents: [
        { requestId: 'probe-j-1', reasons: ['model_mismatch', 'completion_id_interleave'], blocked: false },
        { requestId: 'probe-j-2', reasons: ['request_id_mismatch'], blocked: false },
        { requestId: 'someone-else', reasons: ['model_mismatch'], blocked: false },
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
    both: ['probe-j-1'],
    sidecarOnly: ['probe-j-2'],
    probeOnly: ['probe-j-3'],
  });
});

it('incidentsUrl keeps a base path', () => {
  expect(incidentsUrl(new URL('http://sidecar:9464'))).toBe('http://sidecar:9464/incidents?limit=1000000');
  expect(incidentsUrl(new URL('https://ops.example/crosstalk/'))).toBe('https://ops.example/crosstalk/incidents?limit=1000000');
});
