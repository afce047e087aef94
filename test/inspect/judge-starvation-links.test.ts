import { expect, it } from 'vitest';
import { Detection } from '../../src/inspect/detection.js';
import { MemoryDetectionStore } from '../../src/inspect/store.js';

const choice = (finished: boolean) => ({
  empty: false,
  maxIndex: 0,
  finished: finished ? [0] : [],
  withContent: finished ? [] : [0],
  toolCalls: false,
  logprobs: false,
});

it('a starved 200 beside an answer that carried two completions: both flagged, each naming the other, with links', () => {
  let now = 1_000;
  const detection = new Detection({ store: new MemoryDetectionStore({ now: () => now }) });
  const recipient = detection.begin({ requestId: 'older', upstream: 'router', link: 'span-older' });
  const starved = detection.begin({ requestId: 'newer', upstream: 'router', link: 'span-newer' });
  recipient.onStatus(200);
  starved.onStatus(200);
  for (const id of ['c1', 'c2']) {
    recipient.onChunk({ id, error: false, choices: choice(false) });
    const last = recipient.onChunk({ id, error: false, choices: choice(true), usage: { inputTokens: 3, outputTokens: 4 } });
    expect(last.length).toBeGreaterThanOrEqual(0);
  }
  now += 10;
  const s = starved.finish();
  expect(s.summary.starved).toBe(true);
  expect(s.findings).toEqual([]); // alone so far: recorded, not flagged
  now += 10;
  const r = recipient.finish();
  expect(r.summary.completions).toBe(2);
  expect(r.findings).toContainEqual({ reason: 'extra_completion', evidence: { other_request_id: 'newer', seen: '2' } });
  expect(r.summary.peerFindings).toEqual([
    { requestId: 'newer', finding: { reason: 'starved_request', evidence: { other_request_id: 'older' } }, link: 'span-older' },
  ]);
  expect(r.summary.links).toEqual([{ requestId: 'newer', link: 'span-newer' }]);
});

it('an in-band error answer is not starved, and a starved answer with no peer in the window is only recorded', () => {
  const detection = new Detection({ store: new MemoryDetectionStore() });
  const err = detection.begin({ requestId: 'e' });
  err.onStatus(200);
  err.onChunk({ error: true });
  expect(err.finish().summary.starved).toBe(false);
  const lonely = detection.begin({ requestId: 'l' });
  lonely.onStatus(200);
  const done = lonely.finish();
  expect(done.summary.starved).toBe(true);
  expect(done.findings).toEqual([]);
});
