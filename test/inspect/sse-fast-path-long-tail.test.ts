import { expect, it } from 'vitest';
import { ContentChunkTemplate } from '../../src/inspect/chunk-fields.js';
import { InspectorContext } from '../../src/inspect/context.js';
import { ResponseInspector } from '../../src/inspect/response-inspector.js';
import { SseParser } from '../../src/inspect/sse-parser.js';

// Issue 14 row 1: a chunk with ~40 KB after its "content" string. The fast path once compiled a regex from that
// tail (`Regular expression too large`); now it compares bytes, so nothing is compiled and nothing throws.
const tail = `,"pad":"${'x'.repeat(40_000)}","more":"${'(['.repeat(2000)}"`;
const chunk = (id: string, text: string) =>
  `{"id":"${id}","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"${text}"},"finish_reason":null}]${tail}}`;

it('a 40 KB tail after "content" builds a template, matches its repeats and no regex is compiled', () => {
  const compiled: unknown[] = [];
  const Original = RegExp;
  const spy = new Proxy(Original, { construct: (target, args) => (compiled.push(args), Reflect.construct(target, args)) });
  globalThis.RegExp = spy;
  try {
    const template = ContentChunkTemplate.fromData(chunk('c1', 'a'));
    expect(template).toBeDefined();
    const wire = `data: ${chunk('c1', 'other text \\" with escape')}\n\n`;
    const bytes = Buffer.from(wire);
    expect(template?.match(bytes, 0, bytes.length)).toBe(bytes.length);
    // One byte short of the blank line: no match, no throw.
    expect(template?.match(bytes, 0, bytes.length - 1)).toBe(-1);
    // A raw line end inside the content string is not the template's event.
    const broken = Buffer.from(`data: ${chunk('c1', 'a\nb')}\n\n`);
    expect(template?.match(broken, 0, broken.length)).toBe(-1);
  } finally {
    globalThis.RegExp = Original;
  }
  expect(compiled).toEqual([]);
});

it('a whole stream of such chunks is inspected without throwing, the repeats counted from their bytes', () => {
  const inspector = new ResponseInspector(new InspectorContext({ maxEventBytes: 1 << 20 }), { requestId: 'r', stream: true });
  const parser = new SseParser({ maxEventBytes: inspector.maxEventBytes, onEvent: (e) => inspector.onEvent(e), skipper: inspector });
  const wire = [1, 2, 3, 4, 5].map((n) => `data: ${chunk('c1', `piece ${n}`)}\n\n`).join('') + 'data: [DONE]\n\n';
  expect(() => {
    parser.write(Buffer.from(wire));
    parser.end();
  }).not.toThrow();
  const summary = inspector.finish();
  expect(summary).toMatchObject({ events: 6, done: true, findings: [], firstCompletionId: 'c1' });
});
