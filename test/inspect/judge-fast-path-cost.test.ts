import { expect, it } from 'vitest';
import { InspectorContext } from '../../src/inspect/context.js';
import { Detection } from '../../src/inspect/detection.js';
import { ResponseInspector } from '../../src/inspect/response-inspector.js';
import { SseParser } from '../../src/inspect/sse-parser.js';
import { MemoryDetectionStore } from '../../src/inspect/store.js';
import { answerEvents, sse } from '../detection/corpus.js';

// Issue 13 item 10: the gateway-aware rules add no per-chunk JSON parse to the fast path.
function parsesFor(withJudge: boolean): { parses: number; findings: number } {
  const detection = new Detection({ store: new MemoryDetectionStore() });
  const judge = withJudge ? detection.begin({ requestId: 'r', sessionId: `0x${'a'.repeat(64)}` }) : undefined;
  const inspector = new ResponseInspector(new InspectorContext(), { requestId: 'r', sessionId: `0x${'a'.repeat(64)}`, stream: true }, undefined, judge);
  const parser = new SseParser({ maxEventBytes: 1 << 20, onEvent: (e) => inspector.onEvent(e), skipper: inspector });
  const wire = Buffer.from(sse([...answerEvents({ id: 'chatcmpl-x', model: 'm', pieces: 40, promptTokens: 10 }), '[DONE]']));
  const original = JSON.parse;
  let parses = 0;
  JSON.parse = ((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => (parses++, original(text, reviver))) as typeof JSON.parse;
  try {
    for (let i = 0; i < wire.length; i += 700) parser.write(wire.subarray(i, i + 700));
    parser.end();
  } finally {
    JSON.parse = original;
  }
  return { parses, findings: inspector.finish().findings.length };
}

it('a 40-chunk stream is parsed as often with the judge as without: the first chunks and the final one', () => {
  const without = parsesFor(false);
  const withJudge = parsesFor(true);
  expect(withJudge).toEqual(without);
  expect(withJudge.parses).toBeLessThanOrEqual(4);
});
