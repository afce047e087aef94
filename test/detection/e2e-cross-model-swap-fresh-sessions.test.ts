import { expect, it } from 'vitest';
import { crossModelSwapTraffic, figures, judged, startE2e } from './e2e.js';

// Issue 13, through the real proxy: the old gateway opens a fresh session on every model switch (the session has
// no history), through the sidecar, so the control plane binds each new session to its on-chain model. With the
// router's `swap` bug, every answer from another model than the session's is flagged, and no request that got its
// own answer is.
it('cross-model swap on fresh sessions: every cross-model victim flagged, no innocent', async () => {
  const w = await startE2e({ seed: 41, mode: 'session-per-key', router: { swapPairWaitMs: 20 } });
  // Warm-up, clean, one at a time: each key uses every model (each switch opens a fresh session); then the bug.
  await crossModelSwapTraffic(w, 6, 4);
  const outcomes = judged(w);
  const cross = outcomes.filter((o) => o.victim && o.crossModel);
  console.log('e2e cross-model swap / old gateway', JSON.stringify({ requests: outcomes.length, crossModel: `${cross.filter((o) => o.incident).length}/${cross.length}`, ...figures(outcomes) }));
  expect(cross.length).toBeGreaterThan(3);
  expect(cross.filter((o) => !o.incident).map((o) => o.x.requestId)).toEqual([]);
  expect(cross.every((o) => o.incident?.reasons.includes('model_mismatch'))).toBe(true);
  expect(outcomes.filter((o) => !o.victim && o.incident).map((o) => `${o.x.requestId}:${o.incident?.reasons.join('+')}`)).toEqual([]);
  // The session look-up was never needed: every session was seen opened.
  expect(w.router.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/blockchain/sessions/'))).toEqual([]);
});
