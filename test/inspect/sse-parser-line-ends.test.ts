import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from '../../src/inspect/sse-parser.js';
import { parseAll } from './fixtures.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

function eventsOf(...chunks: string[]): Omit<SseEvent, 'endOffset'>[] {
  return parseAll(chunks.map(b));
}

const two = [
  { data: 'a', oversized: false, eof: false },
  { data: 'b', oversized: false, eof: false },
];

describe('SSE line ends', () => {
  it('accepts LF', () => {
    expect(eventsOf('data: a\n\ndata: b\n\n')).toEqual(two);
  });

  it('accepts CRLF', () => {
    expect(eventsOf('data: a\r\n\r\ndata: b\r\n\r\n')).toEqual(two);
  });

  it('accepts a lone CR', () => {
    expect(eventsOf('data: a\r\rdata: b\r\r')).toEqual(two);
  });

  it('accepts the three kinds mixed in one stream', () => {
    expect(eventsOf('data: a\r\n\ndata: b\r\r\n')).toEqual(two);
  });

  it('treats CR at the end of one chunk and LF at the start of the next as one line end', () => {
    // If the split CRLF counted as two line ends, the first CRLF would end the event early and `b` would be
    // reported as a second event.
    expect(eventsOf('data: a\r', '\ndata: b\r', '\n\r', '\n')).toEqual([{ data: 'a\nb', oversized: false, eof: false }]);
  });

  it('does not swallow a real blank line that follows a split CRLF', () => {
    expect(eventsOf('data: a\r', '\n', '\r\n', 'data: b\r\n\r\n')).toEqual(two);
  });

  it('reports endOffset just after the blank line, CRLF included, in the current chunk', () => {
    const offsets: number[] = [];
    const parser = new SseParser({ maxEventBytes: 1024, onEvent: (e) => offsets.push(e.endOffset) });
    parser.write(b('data: a\r\n\r\ndata: b\n\n: x'));
    expect(offsets).toEqual([11, 20]);
    parser.write(b('\r'));
    parser.write(b('\ndata'));
    expect(offsets).toEqual([11, 20]);
    // `: x` and `data` are one block; its `data` line ends at 1 and the blank line at 2.
    parser.write(b('\r\r'));
    expect(offsets).toEqual([11, 20, 2]);
  });

  it('strips a UTF-8 BOM at stream start, also when it is split across chunks', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(parseAll([Buffer.concat([bom, b('data: a\n\n')])])).toEqual([two[0]]);
    expect(parseAll([bom.subarray(0, 1), bom.subarray(1, 2), Buffer.concat([bom.subarray(2), b('data: a\n\n')])])).toEqual([
      two[0],
    ]);
  });

  it('keeps a BOM that is not at stream start, and bytes that only looked like the start of one', () => {
    // Only a leading BOM is stripped: a later one is part of the field name, so the field is unknown and the
    // block carries no data.
    expect(parseAll([b('data: a\n\n\ufeffdata: b\n\n')])).toEqual([two[0], { data: undefined, oversized: false, eof: false }]);
    // EF BB 80 is U+FEC0, not a BOM: the bytes belong to the first line (an unknown field in the same block).
    expect(parseAll([Buffer.from([0xef, 0xbb]), Buffer.concat([Buffer.from([0x80]), b('\ndata: a\n\n')])])).toEqual([
      two[0],
    ]);
    expect(parseAll([Buffer.from([0xef, 0xbb]), Buffer.concat([Buffer.from([0x80]), b(': a\n\n')])])).toEqual([
      { data: undefined, oversized: false, eof: false },
    ]);
  });
});
