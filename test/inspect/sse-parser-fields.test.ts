import { describe, expect, it } from 'vitest';
import { parseLine } from '../../src/inspect/sse-line.js';
import { parseAll } from './fixtures.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const events = (s: string): ReturnType<typeof parseAll> => parseAll([b(s)]);

describe('parseLine', () => {
  it('classifies blank, comment and each known field', () => {
    expect(parseLine(b(''))).toEqual({ kind: 'blank' });
    expect(parseLine(b(': ping'))).toEqual({ kind: 'comment' });
    expect(parseLine(b(':'))).toEqual({ kind: 'comment' });
    expect(parseLine(b('data: {"a":1}'))).toEqual({ kind: 'data', value: '{"a":1}' });
    expect(parseLine(b('event: message'))).toEqual({ kind: 'event', value: 'message' });
    expect(parseLine(b('id: 7'))).toEqual({ kind: 'id', value: '7' });
    expect(parseLine(b('retry: 3000'))).toEqual({ kind: 'retry', value: '3000' });
  });

  it('strips exactly one space after the colon', () => {
    expect(parseLine(b('data:x'))).toEqual({ kind: 'data', value: 'x' });
    expect(parseLine(b('data:  x'))).toEqual({ kind: 'data', value: ' x' });
    expect(parseLine(b('data: '))).toEqual({ kind: 'data', value: '' });
  });

  it('treats a line without a colon as a field name with an empty value', () => {
    expect(parseLine(b('data'))).toEqual({ kind: 'data', value: '' });
    expect(parseLine(b('dat'))).toEqual({ kind: 'ignored' });
  });

  it('ignores unknown and look-alike field names', () => {
    expect(parseLine(b('Data: x'))).toEqual({ kind: 'ignored' });
    expect(parseLine(b('datum: x'))).toEqual({ kind: 'ignored' });
    expect(parseLine(b('provider failed, failover enabled'))).toEqual({ kind: 'ignored' });
    expect(parseLine(b('x-custom-field: x'))).toEqual({ kind: 'ignored' });
  });

  it('reads only the given range of a larger buffer', () => {
    const buf = b('data: a\nid: 9\n');
    expect(parseLine(buf, 8, 13)).toEqual({ kind: 'id', value: '9' });
    // "data" then the line end: the colon search must not run into the next line.
    expect(parseLine(b('data\nid: 1'), 0, 4)).toEqual({ kind: 'data', value: '' });
    expect(parseLine(b('data:\n x'), 0, 5)).toEqual({ kind: 'data', value: '' });
  });
});

describe('SSE fields', () => {
  it('joins multi-line data with LF', () => {
    expect(events('data: {"a":\ndata: 1}\ndata:\n\n')).toEqual([{ data: '{"a":\n1}\n', oversized: false, eof: false }]);
  });

  it('reports comment-only blocks (keep-alives) with no data', () => {
    expect(events(': ping\n\ndata: a\n\n')).toEqual([
      { data: undefined, oversized: false, eof: false },
      { data: 'a', oversized: false, eof: false },
    ]);
  });

  it('ignores comments inside an event', () => {
    expect(events('data: a\n: keep-alive\ndata: b\n\n')).toEqual([{ data: 'a\nb', oversized: false, eof: false }]);
  });

  it('reads event, id and retry; ids with NUL and non-numeric retry are ignored', () => {
    expect(events('event: delta\nid: 42\nretry: 1500\ndata: x\n\n')).toEqual([
      { data: 'x', event: 'delta', id: '42', retry: 1500, oversized: false, eof: false },
    ]);
    expect(events('id: a\u0000b\nretry: 1.5\ndata: x\n\n')).toEqual([{ data: 'x', oversized: false, eof: false }]);
  });

  it('resets event fields between events', () => {
    expect(events('event: a\nid: 1\ndata: x\n\ndata: y\n\n')).toEqual([
      { data: 'x', event: 'a', id: '1', oversized: false, eof: false },
      { data: 'y', oversized: false, eof: false },
    ]);
  });

  it('passes [DONE] and the router failover text through as data', () => {
    expect(
      events(
        'data: provider failed, failover enabled\n\ndata: new session opened: 0xabc\n\ndata: {"id":"x"}\n\ndata: [DONE]\n\n',
      ).map((e) => e.data),
    ).toEqual(['provider failed, failover enabled', 'new session opened: 0xabc', '{"id":"x"}', '[DONE]']);
  });

  it('does not report stray blank lines as events', () => {
    expect(events('\n\n\r\ndata: a\n\n\n\n')).toEqual([{ data: 'a', oversized: false, eof: false }]);
  });
});
