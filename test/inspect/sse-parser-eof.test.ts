import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from '../../src/inspect/sse-parser.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

function run(...chunks: string[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = new SseParser({ maxEventBytes: 1024, onEvent: (e) => events.push(e) });
  for (const c of chunks) parser.write(b(c));
  parser.end();
  return events;
}

// Decision (documented in sse-parser.ts): a browser discards an event not followed by a blank line, but older
// routers end streams that way and lenient clients still consume the event, so the inspector reports it (eof).
describe('end of stream', () => {
  it('reports a final event whose blank line never came', () => {
    expect(run('data: a\n\ndata: {"id":"x"}\n')).toEqual([
      { data: 'a', oversized: false, endOffset: 9, eof: false },
      { data: '{"id":"x"}', oversized: false, endOffset: 0, eof: true },
    ]);
  });

  it('reports a final line with no line end at all', () => {
    expect(run('data: a\n\n', 'data: {"id"', ':"x"}')).toEqual([
      { data: 'a', oversized: false, endOffset: 9, eof: false },
      { data: '{"id":"x"}', oversized: false, endOffset: 0, eof: true },
    ]);
  });

  it('reports nothing more when the stream ended cleanly, even after a split CRLF', () => {
    expect(run('data: a\r\n\r')).toEqual([{ data: 'a', oversized: false, endOffset: 10, eof: false }]);
  });

  it('ignores writes after end()', () => {
    const events: SseEvent[] = [];
    const parser = new SseParser({ maxEventBytes: 1024, onEvent: (e) => events.push(e) });
    parser.end();
    parser.write(b('data: a\n\n'));
    expect(events).toEqual([]);
  });
});
