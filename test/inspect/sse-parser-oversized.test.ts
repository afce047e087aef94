import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from '../../src/inspect/sse-parser.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const CAP = 1024;

function parser(): { parser: SseParser; events: SseEvent[]; maxBuffered: () => number; write: (c: Buffer) => void } {
  const events: SseEvent[] = [];
  const p = new SseParser({ maxEventBytes: CAP, onEvent: (e) => events.push(e) });
  let max = 0;
  return {
    parser: p,
    events,
    maxBuffered: () => max,
    write: (c) => {
      p.write(c);
      max = Math.max(max, p.bufferedBytes);
    },
  };
}

describe('events over the size cap', () => {
  it('are reported once with oversized: true and no data, and parsing resumes after them', () => {
    const t = parser();
    t.write(b(`data: small\n\ndata: ${'x'.repeat(CAP * 3)}\nid: 9\n\ndata: after\n\n`));
    expect(t.events.map(({ data, oversized, id }) => ({ data, oversized, id }))).toEqual([
      { data: 'small', oversized: false, id: undefined },
      { data: undefined, oversized: true, id: undefined },
      { data: 'after', oversized: false, id: undefined },
    ]);
    expect(t.parser.oversizedEvents).toBe(1);
  });

  it('track the end of the oversized event exactly (endOffset) so a caller can forward whole events', () => {
    const t = parser();
    const text = `data: ${'y'.repeat(CAP * 2)}\n\n`;
    t.write(b(text + 'data: z\n\n'));
    expect(t.events.map((e) => e.endOffset)).toEqual([text.length, text.length + 9]);
  });

  it('keep memory bounded for a 5 MB event with no line end at all, fed in 64 KiB chunks', () => {
    const t = parser();
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    t.write(b('data: '));
    for (let i = 0; i < 80; i++) {
      t.write(chunk);
      expect(t.parser.inOversizedEvent).toBe(true);
    }
    expect(t.maxBuffered()).toBeLessThanOrEqual(CAP);
    t.write(b('\n\ndata: ok\n\n'));
    expect(t.events.map((e) => [e.data, e.oversized])).toEqual([
      [undefined, true],
      ['ok', false],
    ]);
  });

  it('keep memory bounded for a stream of data lines that never has a blank line', () => {
    const t = parser();
    for (let i = 0; i < 20_000; i++) t.write(b('data: {"id":"chatcmpl-1"}\n'));
    expect(t.maxBuffered()).toBeLessThanOrEqual(CAP);
    expect(t.events).toEqual([]);
    t.parser.end();
    expect(t.events.map((e) => [e.data, e.oversized, e.eof])).toEqual([[undefined, true, true]]);
  });

  it('keep memory bounded when a long line arrives byte by byte', () => {
    const t = parser();
    const line = b(`data: ${'q'.repeat(CAP * 2)}\n\n`);
    for (let i = 0; i < line.length; i++) t.write(line.subarray(i, i + 1));
    expect(t.maxBuffered()).toBeLessThanOrEqual(CAP);
    expect(t.events.map((e) => e.oversized)).toEqual([true]);
  });

  it('does not mark an event at exactly the cap as oversized', () => {
    const t = parser();
    const value = 'v'.repeat(CAP - 'data: \n'.length);
    t.write(b(`data: ${value}\n\n`));
    expect(t.events.map((e) => [e.data, e.oversized])).toEqual([[value, false]]);
  });
});
