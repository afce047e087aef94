import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { InspectorContext } from '../../src/inspect/context.js';
import { InspectStream } from '../../src/inspect/inspect-stream.js';
import { ResponseInspector } from '../../src/inspect/response-inspector.js';
import { chunkJson } from './fixtures.js';

const HWM = 16 * 1024;
const EVENTS = 20_000;

async function run(): Promise<{ maxBuffered: number; bytes: number; expected: number }> {
  const inspector = new ResponseInspector(new InspectorContext(), { requestId: 'r', stream: true });
  const stream = new InspectStream({ inspector, transformOptions: { highWaterMark: HWM } });
  const event = Buffer.from(`data: ${chunkJson({ id: 'chatcmpl-bp', model: 'm', content: 'token' })}\n\n`);
  let maxBuffered = 0;
  let bytes = 0;
  // A fast producer and a slow consumer: if the stream ignored backpressure, its buffers would grow to the
  // whole body (several MB).
  const producer = Readable.from(
    (function* () {
      for (let i = 0; i < EVENTS; i++) {
        maxBuffered = Math.max(maxBuffered, stream.writableLength + stream.readableLength);
        yield event;
      }
    })(),
  );
  const consumer = new Writable({
    highWaterMark: HWM,
    write(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (bytes % 64 < 32) void tick().then(() => cb());
      else cb();
    },
  });
  await pipeline(producer, stream, consumer);
  expect(inspector.finish().events).toBe(EVENTS);
  return { maxBuffered, bytes, expected: event.length * EVENTS };
}

describe('InspectStream under backpressure', () => {
  it('block mode keeps its buffers near the high-water mark', async () => {
    const { maxBuffered, bytes, expected } = await run();
    expect(bytes).toBe(expected);
    expect(maxBuffered).toBeLessThanOrEqual(4 * HWM);
  });
});
