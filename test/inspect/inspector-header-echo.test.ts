import { describe, expect, it } from 'vitest';
import { InspectorContext } from '../../src/inspect/context.js';
import { ResponseInspector } from '../../src/inspect/response-inspector.js';
import { chunkJson, feeder, sse } from './fixtures.js';

const S1 = `0x${'a'.repeat(64)}`;
const S2 = `0x${'b'.repeat(64)}`;
const MODEL_ID = `0x${'c'.repeat(64)}`;

function inspector(): ResponseInspector {
  return new ResponseInspector(new InspectorContext(), {
    requestId: 'req-1',
    sessionId: S1,
    modelIdHeader: MODEL_ID,
    stream: true,
  });
}

describe('echoes from the upstream', () => {
  it('record a matching request id echo and raise nothing', () => {
    const i = inspector();
    i.onResponseHeaders({ 'x-request-id': 'req-1', session_id: S1.toUpperCase().replace('0X', '0x') });
    expect(i.finish()).toMatchObject({ requestIdEcho: 'match', reasons: [] });
  });

  it('record a missing echo without a finding', () => {
    const i = inspector();
    i.onResponseHeaders({ 'content-type': 'text/event-stream' });
    expect(i.finish()).toMatchObject({ requestIdEcho: 'missing', reasons: [] });
  });

  it('raise request_id_mismatch for another request id in the header', () => {
    const i = inspector();
    i.onResponseHeaders({ 'x-request-id': ['req-2'] });
    expect(i.finish()).toMatchObject({
      requestIdEcho: 'mismatch',
      findings: [{ reason: 'request_id_mismatch', evidence: { expected: 'req-1', seen: 'req-2', source: 'header' } }],
    });
  });

  it('raise request_id_mismatch and session_mismatch for ids echoed in a chunk', () => {
    const i = inspector();
    i.onResponseHeaders({});
    feeder(i).write(sse(JSON.stringify({ id: 'c', request_id: 'req-9', session_id: S2 })));
    expect(i.finish().findings).toEqual([
      { reason: 'request_id_mismatch', evidence: { expected: 'req-1', seen: 'req-9', source: 'chunk' } },
      { reason: 'session_mismatch', evidence: { expected: S1, seen: S2, source: 'chunk' } },
    ]);
  });

  it('raise session_mismatch for another session in x-session-id', () => {
    const i = inspector();
    i.onResponseHeaders({ 'x-session-id': S2 });
    expect(i.finish().findings).toEqual([
      { reason: 'session_mismatch', evidence: { expected: S1, seen: S2, source: 'header', header: 'x-session-id' } },
    ]);
  });

  it('record the on-chain model_id but never compare it with model names', () => {
    const i = inspector();
    i.onResponseHeaders({ model_id: `0x${'d'.repeat(64)}` });
    feeder(i).write(sse(chunkJson({ id: 'c', model: 'llama-3.3-70b', content: 'x' })));
    expect(i.finish()).toMatchObject({ modelId: MODEL_ID, responseModel: 'llama-3.3-70b', reasons: [] });
  });
});
