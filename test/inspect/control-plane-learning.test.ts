import { expect, it } from 'vitest';
import { applyControlFacts, classifyControlCall, controlFacts } from '../../src/inspect/control-plane.js';
import { MemoryDetectionStore } from '../../src/inspect/store.js';

const M = `0x${'ab'.repeat(32)}`;
const S = `0x${'cd'.repeat(32)}`;
const B = `0x${'ef'.repeat(32)}`;
const P = `0x${'12'.repeat(20)}`;

it('binds a session to its model from the open call and its answer, and to its provider from bids and look-ups', () => {
  const store = new MemoryDetectionStore();
  const open = classifyControlCall('POST', `/blockchain/models/${M.toUpperCase().replace('0X', '0x')}/session`);
  expect(open).toEqual({ kind: 'open_on_model', modelId: M });
  applyControlFacts(store, controlFacts(open!, 200, { sessionID: S }));
  expect(store.session(S)).toEqual({ modelId: M, source: 'open' });

  const bid = classifyControlCall('GET', `/blockchain/bids/${B}`);
  applyControlFacts(store, controlFacts(bid!, 200, { bid: { Id: B, Provider: P, ModelAgentId: M } }));
  const S2 = `0x${'77'.repeat(32)}`;
  applyControlFacts(store, controlFacts(classifyControlCall('POST', `/blockchain/bids/${B}/session`)!, 200, { sessionID: S2 }));
  expect(store.session(S2)).toEqual({ bidId: B, modelId: M, provider: P, source: 'bid' });

  const get = classifyControlCall('GET', `/blockchain/sessions/${S}`);
  applyControlFacts(store, controlFacts(get!, 200, { session: { Id: S, Provider: P, ModelAgentId: M, BidID: B, ClosedAt: 0 } }));
  expect(store.session(S)).toEqual({ modelId: M, provider: P, bidId: B, source: 'lookup' });

  applyControlFacts(store, controlFacts(classifyControlCall('POST', `/blockchain/sessions/${S}/close`)!, 200, { tx: '0x1' }));
  expect(store.session(S)?.closed).toBe(true);
});

it('learns nothing from refused calls, other routes, malformed ids or an answer about another session', () => {
  const store = new MemoryDetectionStore();
  expect(controlFacts({ kind: 'open_on_model', modelId: M }, 401, { sessionID: S })).toEqual([]);
  expect(controlFacts({ kind: 'open_on_model', modelId: M }, 200, { sessionID: 'nope' })).toEqual([]);
  expect(controlFacts({ kind: 'get_session', session: S }, 200, { session: { Id: B, ModelAgentId: M } })).toEqual([]);
  expect(classifyControlCall('GET', '/v1/models')).toBeUndefined();
  expect(classifyControlCall('POST', '/blockchain/models/abc/session')).toBeUndefined();
  expect(classifyControlCall('GET', `/blockchain/sessions/${S}/extra`)).toBeUndefined();
  expect(store.sessionCount).toBe(0);
});
