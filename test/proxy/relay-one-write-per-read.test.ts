import { Readable, Writable } from 'node:stream';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { relay } from '../../src/proxy/response-relay.js';
import { startProxy } from '../helpers/proxy-harness.js';
import { rawExchange } from '../helpers/raw-client.js';
import { startRawUpstream } from '../helpers/raw-upstream.js';

interface RecorderOptions {
  highWaterMark?: number;
  /** false: a write's callback waits for release(). */
  accept?: boolean;
  /** Stand for an HTTP response (a corkable `socket`). */
  socket?: boolean;
}

/**
 * A destination that records its writes. With `socket`, it stands for an HTTP response: its `socket` is corked by a
 * write and uncorked on the next tick, as Node's http does (see `wroteThisTick` in response-relay.ts).
 */
function recorder({ highWaterMark = 16 * 1024, accept = true, socket = false }: RecorderOptions = {}) {
  const writes: Buffer[] = [];
  let pending: (() => void) | undefined;
  let corked = false;
  const dest = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, cb) {
      writes.push(chunk);
      if (accept) cb();
      else pending = cb;
    },
  });
  if (socket) {
    Object.defineProperty(dest, 'socket', { value: { get writableCorked() { return corked ? 1 : 0; } } });
    const write = dest.write.bind(dest);
    dest.write = ((chunk: Buffer) => {
      if (!corked) {
        corked = true;
        process.nextTick(() => {
          corked = false;
        });
      }
      return write(chunk);
    }) as typeof dest.write;
  }
  return { dest, writes, release: () => pending?.() };
}

const event = (i: number) => Buffer.from(`data: {"id":"chatcmpl-1","choices":[{"delta":{"content":"piece ${i}"}}]}\n\n`);

/** Decodes a chunked HTTP/1.1 body: the frames as sent, and the bytes they carry. */
function dechunk(raw: string): { frames: number; body: Buffer } {
  let rest = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  const parts: Buffer[] = [];
  let frames = 0;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (size === 0) break;
    parts.push(Buffer.from(rest.slice(eol + 2, eol + 2 + size), 'latin1'));
    frames++;
    rest = rest.slice(eol + 2 + size + 2);
  }
  return { frames, body: Buffer.concat(parts) };
}

describe('relay: one downstream write per upstream read', () => {
  it('writes the first chunk of a tick at once and the rest of that tick as one write, with the same bytes', async () => {
    const src = new Readable({ read() {} });
    const { dest, writes } = recorder({ socket: true });
    const seen: Buffer[] = [];
    relay(src, dest, (c) => seen.push(c));
    // resume() takes effect on the next tick; an upstream body is flowing before its bytes arrive.
    await nextMacrotask();
    const sent = Array.from({ length: 50 }, (_, i) => event(i));
    src.push(sent[0]);
    // Flowing mode emits synchronously: the first chunk is written before push() returns.
    expect(writes).toHaveLength(1);
    for (const c of sent.slice(1)) src.push(c);
    expect(writes).toHaveLength(1);
    src.push(null);
    await new Promise((resolve) => dest.once('finish', resolve));
    expect(writes).toHaveLength(2);
    expect(writes[0]?.equals(sent[0] as Buffer)).toBe(true);
    expect(Buffer.concat(writes).equals(Buffer.concat(sent))).toBe(true);
    expect(Buffer.concat(seen).equals(Buffer.concat(sent))).toBe(true);
  });

  it('into a destination without a socket (anything but an HTTP response), writes each chunk as it comes, as pipe() does', async () => {
    const src = new Readable({ read() {} });
    const { dest, writes } = recorder();
    relay(src, dest);
    await nextMacrotask();
    const sent = Array.from({ length: 5 }, (_, i) => event(i));
    for (const c of sent) src.push(c);
    expect(writes).toHaveLength(5);
    src.push(null);
    await new Promise((resolve) => dest.once('finish', resolve));
    expect(Buffer.concat(writes).equals(Buffer.concat(sent))).toBe(true);
  });

  it('calls onSourceEnd after the last chunk was written and seen, before the destination ends, even in the same tick', async () => {
    const src = new Readable({ read() {} });
    const { dest, writes } = recorder({ socket: true });
    const seen: Buffer[] = [];
    const atEnd: { seen: number; written: number; ended: boolean }[] = [];
    // The source's own 'end' comes on a later tick than the gathered chunks' write; onSourceEnd is the contract either way.
    let seenAtSourceEnd = -1;
    src.once('end', () => {
      seenAtSourceEnd = seen.length;
    });
    const onEnd = () => atEnd.push({ seen: seen.length, written: writes.length, ended: dest.writableEnded });
    relay(src, dest, (c) => seen.push(c), onEnd);
    await nextMacrotask();
    src.push(event(0));
    src.push(event(1));
    src.push(event(2));
    src.push(null);
    await new Promise((resolve) => dest.once('finish', resolve));
    // The first chunk went at once, the two after it together.
    expect(seenAtSourceEnd).toBe(2);
    expect(atEnd).toEqual([{ seen: 2, written: 2, ended: false }]);
    expect(Buffer.concat(seen).equals(Buffer.concat([event(0), event(1), event(2)]))).toBe(true);
  });

  it('writes chunks that arrive in separate ticks as they come, one write each', async () => {
    const src = new Readable({ read() {} });
    const { dest, writes } = recorder();
    relay(src, dest);
    for (let i = 0; i < 5; i++) {
      src.push(event(i));
      await nextMacrotask();
      expect(writes).toHaveLength(i + 1);
    }
    src.push(null);
    await new Promise((resolve) => dest.once('finish', resolve));
    expect(writes).toHaveLength(5);
  });

  it('stops reading while the destination is full, so the source fills up and reports backpressure', async () => {
    const src = new Readable({ read() {}, highWaterMark: 1024 });
    const { dest, writes, release } = recorder({ highWaterMark: 1, accept: false });
    relay(src, dest);
    src.push(Buffer.alloc(100));
    await nextMacrotask();
    expect(writes).toHaveLength(1);
    // The destination has not called back: nothing more is read, the source's buffer grows to its mark.
    let accepted = true;
    for (let i = 0; i < 20 && accepted; i++) accepted = src.push(Buffer.alloc(100));
    await nextMacrotask();
    expect(accepted).toBe(false);
    expect(writes).toHaveLength(1);
    expect(src.readableLength).toBeGreaterThanOrEqual(1024);
    const held = src.readableLength;
    release();
    await nextMacrotask();
    // Read again: the next chunk went, the destination is full again, and the relay waits for it once more.
    expect(writes).toHaveLength(2);
    expect(src.readableLength).toBe(held - 100);
  });

  it('stops and detaches when the destination goes away', async () => {
    const src = new Readable({ read() {} });
    const { dest, writes } = recorder();
    relay(src, dest);
    src.push(event(0));
    await nextMacrotask();
    dest.destroy();
    await nextMacrotask();
    // Stopped reading: a flowing source left without a 'data' listener would read on and drop what it read.
    expect(src.isPaused()).toBe(true);
    src.push(event(1));
    await nextMacrotask();
    expect(writes).toHaveLength(1);
    expect(src.listenerCount('data')).toBe(0);
    expect(src.listenerCount('end')).toBe(0);
  });

  it('through the proxy: an upstream read of 100 SSE events reaches the caller in far fewer chunk frames, byte for byte', async () => {
    const events = Array.from({ length: 100 }, (_, i) => event(i));
    // One socket write of 100 chunked frames: the proxy reads them at once.
    const framed = events.map((e) => `${e.length.toString(16)}\r\n${e.toString('latin1')}\r\n`).join('') + '0\r\n\r\n';
    const upstream = await startRawUpstream((socket) => {
      socket.end(`HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n${framed}`, 'latin1');
    });
    const { url } = await startProxy(upstream.url);
    const raw = await rawExchange(
      url,
      'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}',
    );
    expect(raw.startsWith('HTTP/1.1 200')).toBe(true);
    const { frames, body } = dechunk(raw);
    expect(body.equals(Buffer.concat(events))).toBe(true);
    expect(frames).toBeLessThan(10);
  });
});
