import { expect, it } from 'vitest';
import { keyOf } from './e2e.js';
import { answer, scriptedWorld } from './scripted-router.js';

// Issue 13 item 4, through the real proxy: an event with another event spliced into it (a `data:` inside a data
// line, two JSON objects in one event) is flagged, and the embedded event is inspected too (here: another model's
// chunk). A payload that parses neither way is counted (crosstalk_inspection_degraded_total{payload_unparsed}),
// not flagged and not dropped silently. Clean answers of the same provider are not flagged.
it('spliced events are flagged and their embedded chunks inspected; unparsable payloads counted', async () => {
  let shape: 'clean' | 'data-in-data' | 'two-objects' | 'broken' = 'clean';
  const w = await scriptedWorld(({ n, model }) => {
    const own = answer({ model, id: () => `chatcmpl-${n}-f00d${n}` });
    const foreign = answer({ model: 'qwen3-235b', id: () => `chatcmpl-x${n}-beef${n}` });
    const sse = (payloads: string[]) => payloads.map((p) => `data: ${p}\n\n`).join('');
    if (shape === 'data-in-data') return `data: ${own[0]}\n\ndata: ${own[1]}data: ${foreign[1]}\n\n${sse(own.slice(2))}data: [DONE]\n\n`;
    if (shape === 'two-objects') return `data: ${own[0]}${foreign[0]}\n\n${sse(own.slice(1))}data: [DONE]\n\n`;
    if (shape === 'broken') return `${sse(own.slice(0, 2))}data: {"id":"chatcmpl-${n}","choices":[{"delta":\n\n${sse(own.slice(2))}data: [DONE]\n\n`;
    return own;
  });
  for (let i = 0; i < 3; i++) await w.chat(`clean-${i}`, keyOf(i), 'llama-3.3-70b');
  shape = 'data-in-data';
  await w.chat('spliced-data', keyOf(5), 'llama-3.3-70b');
  shape = 'two-objects';
  await w.chat('spliced-json', keyOf(6), 'llama-3.3-70b');
  shape = 'broken';
  await w.chat('broken', keyOf(7), 'llama-3.3-70b');
  shape = 'clean';
  await w.chat('clean-after', keyOf(8), 'llama-3.3-70b');
  const incidents = new Map(w.h.proxy.incidents.list().map((i) => [i.requestId, i]));
  expect([...incidents.keys()].sort()).toEqual(['spliced-data', 'spliced-json']);
  for (const id of ['spliced-data', 'spliced-json']) {
    expect(incidents.get(id)?.reasons).toContain('spliced_event');
    // The embedded chunk was inspected: its completion id is among the ones the incident names.
    expect(incidents.get(id)?.completionIds.some((c) => c.startsWith('chatcmpl-x'))).toBe(true);
  }
  const degraded = (await w.h.proxy.metrics.inspectionDegraded.get()).values.find((v) => v.labels.reason === 'payload_unparsed');
  expect(degraded?.value).toBe(1);
});
