import { describe, expect, it } from 'vitest';
import { ContentChunkTemplate } from '../../src/inspect/chunk-fields.js';
import { InspectorContext } from '../../src/inspect/context.js';
import { ResponseInspector } from '../../src/inspect/response-inspector.js';
import { SseParser, type SseEventSkipper } from '../../src/inspect/sse-parser.js';
import { chunkJson, rng, usageChunkJson } from './fixtures.js';

const ev = (data: string, eol = '\n') => `data: ${data}${eol}${eol}`;
const content = (id: string, text: string, model = 'llama-3.3-70b') => chunkJson({ id, model, content: text });

/** Inspects `body` cut into the given pieces, with or without the fast path; returns the summary and the skips. */
function inspect(pieces: Buffer[], fast: boolean, maxEventBytes?: number) {
  const inspector = new ResponseInspector(new InspectorContext({ ...(maxEventBytes !== undefined && { maxEventBytes }) }), {
    requestId: 'req-1',
    sessionId: '0xab',
    keyFingerprint: 'k',
    stream: true,
  });
  inspector.checkRequest();
  let skipped = 0;
  const skipper: SseEventSkipper = {
    canSkipEvent: (bytes) => inspector.canSkipEvent(bytes),
    skipEvent: (chunk, start, limit) => {
      const end = inspector.skipEvent(chunk, start, limit);
      if (end !== -1) skipped++;
      return end;
    },
  };
  const parser = new SseParser({ maxEventBytes: inspector.maxEventBytes, onEvent: (e) => inspector.onEvent(e), ...(fast && { skipper }) });
  for (const p of pieces) parser.write(p);
  parser.end();
  return { summary: inspector.finish(), skipped };
}

function cut(body: Buffer, rand: () => number, maxPiece: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; ) {
    const n = 1 + Math.floor(rand() * maxPiece);
    out.push(body.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** Text pieces that stress the content string: escapes, quotes, keys inside the text, multi-byte UTF-8. */
const TEXTS = [
  'plain words',
  'a "quoted" answer about "id" and "model"',
  'back\\slash and a line\nbreak',
  '"id":"chatcmpl-other","model":"gpt"',
  'žluťoučký kůň 🐎',
  '\\"',
  '',
  '}]},"usage":{"prompt_tokens":1}',
];

/** A random stream: mostly repeats, with the events a template must not swallow mixed in. */
function randomStream(seed: number): Buffer {
  const rand = rng(seed);
  const parts: string[] = [': ping\n\n'];
  let id = 'chatcmpl-A';
  for (let i = 0; i < 120; i++) {
    const r = rand();
    const text = TEXTS[Math.floor(rand() * TEXTS.length)] as string;
    if (r < 0.03) id = `chatcmpl-${Math.floor(rand() * 3)}`; // another completion id (drift or interleave)
    if (r < 0.05) parts.push(ev(content(id, text, 'other-model')));
    else if (r < 0.07) parts.push(ev(`${content(id, text).slice(0, -1)},"request_id":"req-2"}`));
    else if (r < 0.09) parts.push(ev(content(id, text), '\r\n'));
    else if (r < 0.1) parts.push(ev(content(id, 'RAW')).replace('RAW', 'raw\nline')); // a raw LF: two lines
    else if (r < 0.105) parts.push(ev(content(id, 'RAW')).replace('RAW', 'a\n\ndata: [DONE]\n\ndata: b')); // three events
    else if (r < 0.11) parts.push(ev('provider failed, failover enabled'));
    else if (r < 0.12) parts.push(`data:${content(id, text)}\n\n`);
    else if (r < 0.13) parts.push(ev(content(id, text)).replace('data: ', 'data: \\u0020'));
    else parts.push(ev(content(id, text)));
  }
  parts.push(ev(usageChunkJson(id, 'llama-3.3-70b', 10, 120)), ev('[DONE]'));
  return Buffer.from(parts.join(''), 'utf8');
}

describe('SSE fast path: events that repeat the last chunk are counted from their bytes', () => {
  it('takes the ordinary chunks of a stream without parsing them, with the same summary', () => {
    const body = Buffer.from(
      [...Array.from({ length: 50 }, (_, i) => ev(content('chatcmpl-A', `piece ${i} ${TEXTS[i % TEXTS.length]}`))), ev(usageChunkJson('chatcmpl-A', 'llama-3.3-70b', 3, 50)), ev('[DONE]')].join(''),
    );
    const slow = inspect([body], false);
    const fast = inspect([body], true);
    // The first chunk is parsed, the second teaches the template; the rest are skipped.
    expect(fast.skipped).toBe(48);
    expect(fast.summary).toEqual(slow.summary);
    expect(fast.summary.events).toBe(52);
    expect(fast.summary.usage).toEqual({ inputTokens: 3, outputTokens: 50 });
  });

  it('never skips a chunk from another completion: the interleave is still found', () => {
    const body = Buffer.from(
      [ev(content('chatcmpl-A', 'one')), ev(content('chatcmpl-A', 'two')), ev(content('chatcmpl-A', 'three')), ev(content('chatcmpl-B', 'foreign')), ev(content('chatcmpl-A', 'four'))].join(''),
    );
    const fast = inspect([body], true);
    expect(fast.skipped).toBe(1);
    expect(fast.summary.reasons).toEqual(['completion_id_interleave']);
    expect(fast.summary).toEqual(inspect([body], false).summary);
  });

  it('leaves an event over the size cap to the parser (reported oversized, not counted as a repeat)', () => {
    const big = 'x'.repeat(2048);
    const body = Buffer.from([ev(content('chatcmpl-A', 'a')), ev(content('chatcmpl-A', 'b')), ev(content('chatcmpl-A', big))].join(''));
    const fast = inspect([body], true, 1024);
    expect(fast.summary.oversizedEvents).toBe(1);
    expect(fast.summary).toEqual(inspect([body], false, 1024).summary);
  });

  it('gives the same summary as the parser on random streams cut at random boundaries', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const body = randomStream(seed);
      const rand = rng(seed * 7919);
      const whole = inspect([body], false).summary;
      for (const maxPiece of [1, 17, 300, 5000]) {
        const pieces = cut(body, rand, maxPiece);
        expect(inspect(pieces, true).summary, `seed ${seed}, pieces ≤ ${maxPiece}`).toEqual(whole);
      }
    }
  });

  it('matches a template only where the bytes are the template with another JSON string in place of the text', () => {
    const t = ContentChunkTemplate.fromData(content('chatcmpl-A', 'seed')) as ContentChunkTemplate;
    const at = (s: string) => t.match(Buffer.from(s, 'utf8'), 0, Buffer.byteLength(s));
    const same = ev(content('chatcmpl-A', 'other text with "quotes" and \\ and ž'));
    expect(at(same)).toBe(Buffer.byteLength(same));
    expect(at(ev(content('chatcmpl-B', 'x')))).toBe(-1);
    expect(at(ev(content('chatcmpl-A', 'x', 'other')))).toBe(-1);
    expect(at(ev(content('chatcmpl-A', 'x'), '\r\n'))).toBe(-1);
    expect(at(ev(content('chatcmpl-A', 'TEXT')).replace('TEXT', 'x\ny'))).toBe(-1); // a raw line end splits the line
    expect(at(ev(content('chatcmpl-A', 'TEXT')).replace('TEXT', 'x\ry'))).toBe(-1);
    expect(at(ev(content('chatcmpl-A', 'TEXT')).replace('TEXT', 'x\\\ny'))).toBe(-1); // even right after a backslash
    expect(at(ev(content('chatcmpl-A', 'x')).slice(0, -1))).toBe(-1); // no blank line yet
    // Ends past the limit: not this call's to take.
    expect(t.match(Buffer.from(same), 0, Buffer.byteLength(same) - 1)).toBe(-1);
    // Matched where it starts inside a larger chunk, and only there.
    const two = Buffer.from(ev(content('chatcmpl-A', 'one')) + same);
    const first = t.match(two, 0, two.length);
    expect(first).toBe(Buffer.byteLength(ev(content('chatcmpl-A', 'one'))));
    expect(t.match(two, first, two.length)).toBe(two.length);
    expect(t.match(two, 1, two.length)).toBe(-1);
    // A payload without a content string gives no template.
    expect(ContentChunkTemplate.fromData('{"id":"chatcmpl-A","choices":[{"delta":{"tool_calls":[]}}]}')).toBeUndefined();
  });
});
