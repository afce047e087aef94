import { expect, it } from 'vitest';
import { crossModelSwapTraffic, judged, startE2e } from './e2e.js';
import { noncesIn } from './replay.js';

// Issue 13, through the real proxy in block mode: the old gateway opens each session through the sidecar (so its
// on-chain model is known), the router's `swap` bug sends another model's answer. The stop comes at that answer's
// first chunk: asserted on the bytes the caller received — no other request's nonce, no chunk of another model.
it('block mode stops a cross-model swap before any foreign byte reaches the caller', async () => {
  const w = await startE2e({ seed: 81, mode: 'session-per-key', router: { swapPairWaitMs: 20 }, proxy: { onCrosstalk: 'block' } });
  await crossModelSwapTraffic(w, 6, 3);
  const outcomes = judged(w);
  // Ground truth from the router's side: which requests were sent another model's answer (the caller saw only part).
  const blocked = outcomes.filter((o) => o.incident?.blocked === true);
  const crossSent = blocked.filter((o) => o.incident?.reasons.includes('model_mismatch'));
  console.log('e2e block / cross-model swap', JSON.stringify({ requests: outcomes.length, blocked: blocked.length, crossModelBlocked: crossSent.length }));
  expect(crossSent.length).toBeGreaterThan(3);
  for (const o of crossSent) {
    const seen = noncesIn(o.x.result.body);
    // Not one byte of the foreign answer: no foreign nonce, no chunk naming another model.
    expect([...seen].filter((n) => n !== o.x.nonce), o.x.requestId).toEqual([]);
    expect(o.x.result.models.filter((m) => m !== o.x.model), o.x.requestId).toEqual([]);
    expect(o.x.result.body).toContain('crosstalk');
  }
  // No request that received only its own answer was blocked or flagged.
  expect(outcomes.filter((o) => !o.victim && o.incident && !o.incident.blocked).map((o) => o.x.requestId)).toEqual([]);
  for (const o of outcomes.filter((p) => !p.incident)) expect(o.crossModel, o.x.requestId).toBe(false);
});
