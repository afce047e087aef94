import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { expect, it } from 'vitest';
import { CROSSTALK_REQUEST_ID, SPAN_NAME_PEER_FINDING } from '../../src/telemetry/attributes.js';
import { MODELS, figures, judged, keyOf, settled, startE2e } from './e2e.js';

/** Whether a span in `from`'s trace (its own, or a peer-finding span recorded there later) links to `to`'s span. */
function linksTo(spans: readonly ReadableSpan[], from: ReadableSpan, to: ReadableSpan): boolean {
  return spans.some(
    (s) =>
      s.spanContext().traceId === from.spanContext().traceId &&
      (s === from || s.name === SPAN_NAME_PEER_FINDING) &&
      s.links.some((l) => l.context.spanId === to.spanContext().spanId),
  );
}

// Issue 13 item 6, through the real proxy: the pooled gateway in front of the router's `shared-reply` bug (PR #561):
// a newer request's chunks go to an older request's connection, the newer one gets a 200 with only `[DONE]`. The
// starved request and the recipient are both flagged, each span links to the other, and each incident names the
// other request id.
it('starved requests beside the recipient: both flagged, span links both ways, incidents name each other', async () => {
  const w = await startE2e({ seed: 51, mode: 'pooled', router: { chunks: 8, chunkDelayMs: 3 } });
  for (const model of MODELS) for (let i = 0; i < 3; i++) await Promise.all([w.chat(keyOf(0), model), w.chat(keyOf(1), model)]);
  w.router.setBug('shared-reply');
  await Promise.all([1, 2, 3, 4, 5].map(async (u) => {
    for (let i = 0; i < 4; i++) await w.chat(keyOf(u), MODELS[(u + i) % 3] as string);
  }));
  await settled(w);
  const outcomes = judged(w);
  const starved = outcomes.filter((o) => o.starved);
  const recipients = outcomes.filter((o) => o.victim && !o.starved);
  console.log('e2e shared-reply / pooled gateway', JSON.stringify({
    requests: outcomes.length,
    starved: `${starved.filter((o) => o.incident).length}/${starved.length}`,
    recipients: `${recipients.filter((o) => o.incident).length}/${recipients.length}`,
    ...figures(outcomes),
  }));
  expect(starved.length).toBeGreaterThan(0);
  expect(outcomes.filter((o) => o.victim && !o.incident).map((o) => `${o.x.requestId}${o.starved ? ':starved' : ''}`)).toEqual([]);
  expect(outcomes.filter((o) => !o.victim && o.incident).map((o) => `${o.x.requestId}:${o.incident?.reasons.join('+')}`)).toEqual([]);
  expect(Number((await w.harness.proxy.metrics.starvedRequests.get()).values[0]?.value)).toBe(starved.length);

  const spans = w.harness.tracing.exporter.getFinishedSpans();
  const chatSpan = (id: string) => spans.find((s) => s.name.startsWith('chat') && s.attributes[CROSSTALK_REQUEST_ID] === id) as ReadableSpan;
  for (const o of starved) {
    const holder = outcomes.find((p) => p.x.result.body.includes(`nonce:${o.x.nonce}`));
    expect(holder, o.x.requestId).toBeDefined();
    const [a, b] = [o.x.requestId, holder?.x.requestId as string];
    expect(o.incident?.reasons).toContain('starved_request');
    expect(o.incident?.relatedRequestIds).toContain(b);
    expect(holder?.incident?.relatedRequestIds).toContain(a);
    expect(holder?.incident?.reasons).toContain('extra_completion');
    expect(linksTo(spans, chatSpan(a), chatSpan(b)), `${a} → ${b}`).toBe(true);
    expect(linksTo(spans, chatSpan(b), chatSpan(a)), `${b} → ${a}`).toBe(true);
  }
});

// A 200 with no content and nothing else in flight: counted as starved, never flagged (no partner holds its answer).
it('a starved request alone is recorded, not flagged', async () => {
  const w = await startE2e({ seed: 52, mode: 'pooled' });
  await w.chat(keyOf(0), 'qwen3-235b');
  const lone = await w.chat(keyOf(0), 'qwen3-235b', 40, {}, { 'x-sim-chunks': '0' });
  await settled(w);
  const outcome = judged(w).find((o) => o.x === lone);
  expect(lone.result.status).toBe(200);
  expect(Number((await w.harness.proxy.metrics.starvedRequests.get()).values[0]?.value)).toBe(1);
  expect(outcome?.incident).toBeUndefined();
  expect(w.harness.proxy.incidents.count).toBe(0);
});
