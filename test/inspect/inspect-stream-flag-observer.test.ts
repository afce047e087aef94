import { createHash } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InspectorContext } from '../../src/inspect/context.js';
import { BodyObserver } from '../../src/inspect/body-observer.js';
import { ResponseInspector } from '../../src/inspect/response-inspector.js';
import { relay } from '../../src/proxy/response-relay.js';
import { CONTENT_PIECES, MODEL_LLAMA, chunkJson, randomChunks, rng, routerStream, sse } from './fixtures.js';

/**
 * Flag mode as shipped: the proxy's relay writes each upstream read to the caller and then hands the same Buffer
 * to a BodyObserver. No Transform sits in the path.
 */

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

/** Relays `chunks` (one upstream read each) to a sink, observing them; resolves with what the sink got. */
async function relayObserved(chunks: Buffer[], observer: BodyObserver): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const source = new PassThrough();
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk);
      cb();
    },
  });
  const finished = new Promise<void>((resolve) => sink.once('finish', () => resolve()));
  source.once('end', () => observer.end());
  relay(source, sink, (chunk) => observer.write(chunk));
  for (const chunk of chunks) {
    source.write(chunk);
    // One upstream read per chunk: wait until the relay has taken it.
    await new Promise((r) => setImmediate(r));
  }
  source.end();
  await finished;
  return out;
}

describe('flag mode: relay + BodyObserver', () => {
  it('the caller gets the very same Buffers, unchanged, for random chunkings; the inspector sees every event', async () => {
    const rand = rng(7);
    for (let round = 0; round < 20; round++) {
      const chunks = randomChunks(body, rand, 1 + Math.floor(rand() * 100));
      const inspector = new ResponseInspector(new InspectorContext(), { requestId: `r${round}`, stream: true });
      const out = await relayObserved(chunks, new BodyObserver(inspector, 'sse'));
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
    const out = await relayObserved([input], new BodyObserver(inspector, 'sse'));
    expect(Buffer.concat(out).equals(input)).toBe(true);
    expect(inspector.finish().reasons).toEqual(['completion_id_interleave']);
  });

  it('an inspector exception stops inspection of that body only; every byte still reaches the caller', async () => {
    const inspector = new ResponseInspector(new InspectorContext(), { requestId: 'r', stream: true });
    const errors: unknown[] = [];
    let calls = 0;
    inspector.onEvent = () => {
      calls++;
      throw new Error('boom');
    };
    const observer = new BodyObserver(inspector, 'sse', (err) => errors.push(err));
    const out = await relayObserved(randomChunks(body, rng(3), 30), observer);
    expect(Buffer.concat(out).equals(body)).toBe(true);
    expect(observer.degraded).toBe(true);
    expect([calls, errors.length]).toEqual([1, 1]);
  });

  it('a non-streamed JSON body is inspected whole at its end', async () => {
    const inspector = new ResponseInspector(new InspectorContext(), { requestId: 'r', requestModel: 'qwen', stream: false });
    const json = Buffer.from(
      JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', model: 'llama', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' } }] }),
    );
    const out = await relayObserved(randomChunks(json, rng(1), 16), new BodyObserver(inspector, 'json'));
    expect(Buffer.concat(out).equals(json)).toBe(true);
    expect(inspector.finish()).toMatchObject({ reasons: ['model_mismatch'], firstCompletionId: 'chatcmpl-1' });
  });
});
