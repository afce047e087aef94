import { describe, expect, it } from 'vitest';
import { InspectorContext } from '../../src/inspect/context.js';
import { InspectStream, type BlockInfo } from '../../src/inspect/inspect-stream.js';
import { ResponseInspector } from '../../src/inspect/response-inspector.js';
import { chunkJson, randomChunks, rng, runThrough } from './fixtures.js';

const ev = (payload: string, nl = '\n'): string => `data: ${payload}${nl}${nl}`;
const clean = [
  ': ping\n\n',
  ev(chunkJson({ id: 'A', model: 'm', content: 'Bonjour 🙂' })),
  ev('provider failed, failover enabled', '\r\n'),
  ev(chunkJson({ id: 'A', model: 'm', content: ' le' }), '\r'),
  ev(chunkJson({ id: 'A', model: 'm', content: ' monde' })),
].join('');
// The first foreign chunk: an id another in-flight stream is receiving.
const foreign = ev(chunkJson({ id: 'B', model: 'm', content: 'secret of request B' }));
const rest = ev(chunkJson({ id: 'A', model: 'm', content: '!' })) + ev('[DONE]');
const whole = Buffer.from(clean + foreign + rest);

const ERROR_EVENT =
  'data: {"error":{"type":"crosstalk_detected","code":"CROSSTALK_ERR_FOREIGN_RESPONSE",' +
  '"message":"The upstream response belongs to another request (completion_id_interleave); it was blocked",' +
  '"reasons":["completion_id_interleave"],"request_id":"r1"}}\n\n';

async function blockRun(chunks: Buffer[]): Promise<{ out: string; blocks: BlockInfo[] }> {
  const ctx = new InspectorContext();
  const other = new ResponseInspector(ctx, { requestId: 'r2', stream: true });
  other.onEvent({ data: chunkJson({ id: 'B', model: 'm' }), oversized: false, endOffset: 0, eof: false });
  const inspector = new ResponseInspector(ctx, { requestId: 'r1', stream: true });
  const blocks: BlockInfo[] = [];
  const out = await runThrough(new InspectStream({ inspector, onBlock: (b) => blocks.push(b) }), chunks);
  return { out: Buffer.concat(out).toString('utf8'), blocks };
}

describe('InspectStream in block mode', () => {
  it('forwards exactly the events before the foreign one, then one error event, and ends', async () => {
    const { out, blocks } = await blockRun([whole]);
    expect(out).toBe(clean + ERROR_EVENT);
    expect(blocks).toEqual([
      {
        reasons: ['completion_id_interleave'],
        findings: [
          {
            reason: 'completion_id_interleave',
            evidence: { seen: 'B', previous_id: 'A', other_request_id: 'r2', rule: 'inflight_owner' },
          },
        ],
        forwardedBytes: Buffer.byteLength(clean),
      },
    ]);
  });

  it('does so for a split at every index and for random chunkings', async () => {
    for (let i = 0; i <= whole.length; i++) {
      const { out } = await blockRun([whole.subarray(0, i), whole.subarray(i)]);
      expect(out, `split at ${i}`).toBe(clean + ERROR_EVENT);
    }
    const rand = rng(99);
    for (let round = 0; round < 100; round++) {
      const { out } = await blockRun(randomChunks(whole, rand, 1 + Math.floor(rand() * 40)));
      expect(out).toBe(clean + ERROR_EVENT);
    }
  });

  it('forwards a clean stream unchanged, keep-alives included, for random chunkings', async () => {
    const rand = rng(5);
    const body = Buffer.from(clean + rest + ': tail comment\n\n\n');
    for (let round = 0; round < 50; round++) {
      const inspector = new ResponseInspector(new InspectorContext(), { requestId: 'r', stream: true });
      const out = await runThrough(new InspectStream({ inspector }), randomChunks(body, rand, 50));
      expect(Buffer.concat(out).equals(body)).toBe(true);
    }
  });

  it('forwards a keep-alive as soon as it is complete, and holds back only an incomplete event', () => {
    const inspector = new ResponseInspector(new InspectorContext(), { requestId: 'r', stream: true });
    const stream = new InspectStream({ inspector });
    const seen: string[] = [];
    stream.on('data', (b: Buffer) => seen.push(b.toString()));
    stream.write(Buffer.from(': ping\n\ndata: {"id":"A"'));
    expect(seen).toEqual([': ping\n\n']);
    stream.write(Buffer.from('}\n\ndata'));
    expect(seen).toEqual([': ping\n\n', 'data: {"id":"A"', '}\n\n']);
  });

  it('forwards a final event without a blank line at the end when it is clean, and blocks it when not', async () => {
    const tail = Buffer.from(clean + 'data: ' + chunkJson({ id: 'A', model: 'm' }));
    const inspector = new ResponseInspector(new InspectorContext(), { requestId: 'r', stream: true });
    const out = await runThrough(new InspectStream({ inspector }), [tail]);
    expect(Buffer.concat(out).equals(tail)).toBe(true);

    const { out: blocked } = await blockRun([Buffer.from(clean + 'data: ' + chunkJson({ id: 'B', model: 'm' }))]);
    expect(blocked).toBe(clean + ERROR_EVENT);
  });

  it('sends only the error event when the headers were already found foreign', async () => {
    const inspector = new ResponseInspector(new InspectorContext(), { requestId: 'r1', stream: true });
    inspector.onResponseHeaders({ 'x-request-id': 'r9' });
    const out = await runThrough(new InspectStream({ inspector }), [whole]);
    expect(Buffer.concat(out).toString()).toBe(ERROR_EVENT.replace(/completion_id_interleave/g, 'request_id_mismatch'));
  });

  it('forwards an oversized event uninspected instead of holding it, with memory bounded by the cap', async () => {
    const ctx = new InspectorContext({ maxEventBytes: 1024 });
    const inspector = new ResponseInspector(ctx, { requestId: 'r', stream: true });
    const stream = new InspectStream({ inspector });
    const big = Buffer.from(`data: {"id":"A","pad":"${'x'.repeat(200_000)}"}\n\n` + clean);
    const chunks = randomChunks(big, rng(3), 4096);
    let maxHeld = 0;
    let received = 0;
    let forwarded = 0;
    stream.on('data', (b: Buffer) => (forwarded += b.length));
    for (const c of chunks) {
      stream.write(c);
      received += c.length;
      maxHeld = Math.max(maxHeld, received - forwarded);
    }
    stream.end();
    await new Promise((resolve) => stream.on('end', resolve));
    expect(forwarded).toBe(big.length);
    expect(maxHeld).toBeLessThanOrEqual(1024 + 4096);
    expect(inspector.finish()).toMatchObject({ oversizedEvents: 1, reasons: [] });
  });
});
