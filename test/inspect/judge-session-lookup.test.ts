import { expect, it } from 'vitest';
import { Detection } from '../../src/inspect/detection.js';
import { MemoryDetectionStore } from '../../src/inspect/store.js';

const S = `0x${'5a'.repeat(32)}`;
const LLAMA = `0x${'11'.repeat(32)}`;
const QWEN = `0x${'22'.repeat(32)}`;

it('a session never seen opened is looked up once with the request\'s credentials, then judged by its model', async () => {
  const store = new MemoryDetectionStore();
  const seen: Array<string | undefined> = [];
  const detection = new Detection({
    store,
    lookup: async (session, authorization) => {
      seen.push(authorization);
      return { session: { Id: session, ModelAgentId: LLAMA, Provider: `0x${'9'.repeat(40)}` } };
    },
  });
  // Quorums for both models, from sessions the sidecar saw opened.
  for (const [model, name] of [[LLAMA, 'llama-3.3-70b'], [QWEN, 'qwen3-235b']] as const) {
    for (const i of [1, 2]) store.voteName(model, `0x${'9'.repeat(40)}`, name, { requestId: `w${i}`, session: `s${i}` });
  }
  const judge = detection.begin({ requestId: 'r1', sessionId: S });
  expect(judge.sessionsToResolve).toEqual([S]);
  await detection.resolveSessions(judge, 'Basic dXNlcjpwYXNz');
  expect(seen).toEqual(['Basic dXNlcjpwYXNz']);
  expect(judge.sessionsToResolve).toEqual([]);
  expect(judge.onChunk({ error: false, id: 'c1', model: 'Qwen/Qwen3-235B' })).toMatchObject([
    { reason: 'model_mismatch', evidence: { seen: 'qwen3-235b', source: 'other_model', other_model_id: QWEN } },
  ]);
  // Known now: a second request on the session looks nothing up.
  await detection.resolveSessions(detection.begin({ requestId: 'r2', sessionId: S }), 'Basic x');
  expect(seen).toHaveLength(1);
  // Look-ups off: nothing happens.
  const off = new Detection({ store: new MemoryDetectionStore() });
  await off.resolveSessions(off.begin({ requestId: 'r3', sessionId: S }), 'Basic x');
});
