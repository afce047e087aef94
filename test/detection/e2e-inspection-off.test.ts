import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { expect, it } from 'vitest';
import {
  ATTR_SESSION_ID,
  CROSSTALK_DETECTED,
  CROSSTALK_INSPECTION_SKIPPED,
  CROSSTALK_REQUEST_ID,
  INSPECTION_OFF,
} from '../../src/telemetry/attributes.js';
import { crossModelSwapTraffic, judged, startE2e } from './e2e.js';

// `--inspection off`, the kill switch: the same gateway-shaped traffic and router bug that
// e2e-cross-model-swap-fresh-sessions flags is forwarded and traced, and nothing is judged. The test fails if the
// bug did not strike (no victims), if anything was flagged, or if the spans stop saying why they were not inspected.
it('inspection off: the swapped answers reach their callers unflagged, every chat span says inspection_off, coverage counts them', async () => {
  const w = await startE2e({ seed: 41, mode: 'session-per-key', router: { swapPairWaitMs: 20 }, proxy: { inspection: false } });
  await crossModelSwapTraffic(w, 4, 4);
  const outcomes = judged(w);

  // The router bug struck: some callers got another request's answer, and the proxy said nothing.
  expect(outcomes.filter((o) => o.victim).length).toBeGreaterThan(3);
  expect(w.harness.proxy.incidents.list()).toEqual([]);
  // No session look-up either: the detection is not running at all.
  expect(w.router.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/blockchain/sessions/'))).toEqual([]);

  // Every request is still traced with its identity, and each chat span says why it was not judged.
  const spans = w.harness.tracing.exporter.getFinishedSpans();
  const chatSpan = (id: string) => spans.find((s) => s.name.startsWith('chat') && s.attributes[CROSSTALK_REQUEST_ID] === id) as ReadableSpan;
  for (const o of outcomes) {
    const span = chatSpan(o.x.requestId);
    expect(span, o.x.requestId).toBeDefined();
    expect(span.attributes[CROSSTALK_INSPECTION_SKIPPED]).toBe(INSPECTION_OFF);
    expect(span.attributes[ATTR_SESSION_ID]).toMatch(/^0x[0-9a-f]{64}$/);
    expect(span.attributes[CROSSTALK_DETECTED]).toBeUndefined();
  }
  // The control-plane calls (session opens) are traced too, and say nothing about inspection.
  const control = spans.filter((s) => !s.name.startsWith('chat'));
  expect(control.length).toBeGreaterThan(0);
  for (const s of control) expect(s.attributes[CROSSTALK_INSPECTION_SKIPPED]).toBeUndefined();

  // Coverage: every chat response is counted uninspected (what CrosstalkInspectionDegraded alerts on).
  const coverage = (await w.harness.proxy.metrics.responsesInspected.get()).values;
  const count = (result: string) => Number(coverage.find((v) => v.labels.result === result)?.value ?? 0);
  expect(count('uninspected')).toBe(outcomes.length);
  expect(count('inspected')).toBe(0);
});
