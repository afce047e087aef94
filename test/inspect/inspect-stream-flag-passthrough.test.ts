import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InspectorContext } from '../../src/inspect/context.js';
import { InspectStream } from '../../src/inspect/inspect-stream.js';
import { ResponseInspector } from '../../src/inspect/response-inspector.js';
import { CONTENT_PIECES, MODEL_LLAMA, chunkJson, randomChunks, rng, routerStream, runThrough, sse } from './fixtures.js';

const sha256 = (bufs: Buffer[]): string => {
  const h = createHash('sha256');
  for (const b of bufs) h.update(b);
  return h.digest('hex');
};

const body = Buffer.from(
  routerStream({
    model: MODEL_LLAMA,
    ids: { kind: 'stable', id: 'chatcmpl-flag' },
    pieces: [...CONTENT_PIECES, ...CONTENT_PIECES],
    usage: { prompt: 3, completion: 16 },
    keepAlive: true,
    failover: '0xfeed',
    crlf: true,
  }),
);

describe('InspectStream in flag mode', () => {
  it('forwards the very same Buffers, unchanged, for random chunkings', async () => {
    const rand = rng(7);
    for (let round = 0; round < 50; round++) {
      const chunks = randomChunks(body, rand, 1 + Math.floor(rand() * 300));
      const inspector = new ResponseInspector(new InspectorContext(), { requestId: `r${round}`, stream: true });
      const out = await runThrough(new InspectStream({ inspector, mode: 'flag' }), chunks);
      expect(sha256(out)).toBe(sha256([body]));
      expect(out.length).toBe(chunks.length);
      out.forEach((b, i) => expect(b).toBe(chunks[i])); // zero copies
      expect(inspector.finish()).toMatchObject({ reasons: [], events: 2 * CONTENT_PIECES.length + 5, done: true });
    }
  });

  it('keeps forwarding everything after a finding', async () => {
    const ctx = new InspectorContext();
    const other = new ResponseInspector(ctx, { requestId: 'other', stream: true });
    other.onEvent({ data: chunkJson({ id: 'B', model: 'm' }), oversized: false, endOffset: 0, eof: false });
    const inspector = new ResponseInspector(ctx, { requestId: 'r', stream: true });
    const input = sse(chunkJson({ id: 'A', model: 'm' }), chunkJson({ id: 'B', model: 'm' }), chunkJson({ id: 'A', model: 'm' }));
    const stream = new InspectStream({ inspector, mode: 'flag' });
    const out = await runThrough(stream, [input]);
    expect(Buffer.concat(out).equals(input)).toBe(true);
    expect(stream.blocked).toBe(false);
    expect(inspector.finish().reasons).toEqual(['completion_id_interleave']);
  });
});
