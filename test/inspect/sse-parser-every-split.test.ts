import { describe, expect, it } from 'vitest';
import { CONTENT_PIECES, MODEL_LLAMA, parseAll, routerStream } from './fixtures.js';

// A realistic stream: keep-alives, failover lines, multi-byte UTF-8 content, a usage chunk, [DONE], CRLF.
const text =
  routerStream({
    model: MODEL_LLAMA,
    ids: { kind: 'stable', id: 'chatcmpl-abc' },
    pieces: CONTENT_PIECES,
    usage: { prompt: 12, completion: 8 },
    keepAlive: true,
    failover: '0x1234',
    crlf: true,
  }) + 'event: note\r\nid: 5\rretry: 10\ndata: a\r\ndata: b\r\r';
const whole = Buffer.from(text, 'utf8');
const expected = parseAll([whole]);

describe('a realistic stream split anywhere', () => {
  it('has the events we expect when unsplit', () => {
    expect(expected.length).toBe(CONTENT_PIECES.length + 8);
    expect(expected.filter((e) => e.data?.includes('🙂'))).toHaveLength(1);
    expect(expected.at(-1)).toEqual({ data: 'a\nb', event: 'note', id: '5', retry: 10, oversized: false, eof: false });
  });

  it('gives identical events for a split at every index', () => {
    for (let i = 0; i <= whole.length; i++) {
      expect(parseAll([whole.subarray(0, i), whole.subarray(i)]), `split at ${i}`).toEqual(expected);
    }
  });

  it('gives identical events when fed byte by byte', () => {
    const bytes: Buffer[] = [];
    for (let i = 0; i < whole.length; i++) bytes.push(whole.subarray(i, i + 1));
    expect(parseAll(bytes)).toEqual(expected);
  });

  it('decodes a multi-byte character split inside its bytes', () => {
    const buf = Buffer.from('data: 世🙂\n\n', 'utf8');
    const start = buf.indexOf(0xf0); // first byte of the 4-byte emoji
    for (let i = start + 1; i < start + 4; i++) {
      expect(parseAll([buf.subarray(0, i), buf.subarray(i)])).toEqual([{ data: '世🙂', oversized: false, eof: false }]);
    }
  });
});
