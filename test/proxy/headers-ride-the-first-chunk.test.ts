import net from 'node:net';
import { Duplex, Readable, Writable } from 'node:stream';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { HEADER_SESSION_ID, HEADER_X_SESSION_ID } from '../../src/protocol/headers.js';
import { relay } from '../../src/proxy/response-relay.js';
import { startProxy } from '../helpers/proxy-harness.js';
import { rawExchange } from '../helpers/raw-client.js';
import { startRawUpstream } from '../helpers/raw-upstream.js';

/**
 * The response head goes with the first body bytes when they come in the same moment, and on its own only when they
 * do not (issue 14 row 6, `row-06-headers-before-body.test.ts`). The proxy used to call `flushHeaders()` on the next
 * macrotask either way; after the first body write, Node still issues a socket write of zero bytes for it: one
 * write(2) per response for nothing (strace under `npm run bench`'s gateway scenario: 1,244 zero-byte writes for
 * 1,261 responses, Dec 2026).
 */

const EVENT = 'data: {"id":"chatcmpl-r1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n';
/** What the real gateway sends: session headers and the router's Basic credentials, no key, no `model` in the body. */
const SESSION = `0x${'ab'.repeat(32)}`;
const GATEWAY_REQUEST =
  'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n' +
  `${HEADER_SESSION_ID}: ${SESSION}\r\n${HEADER_X_SESSION_ID}: ${SESSION}\r\nauthorization: Basic ${Buffer.from('admin:pw').toString('base64')}\r\n` +
  'connection: close\r\n';
const BODY = '{"messages":[{"role":"user","content":"hi"}],"stream":true}';
const frame = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;

/** Counts the socket writes of this process while `fn` runs, and those of zero bytes. */
async function socketWrites(fn: () => Promise<void>): Promise<{ total: number; zero: number }> {
  let zero = 0;
  let total = 0;
  // net.Socket's write is Duplex.prototype's own copy of Writable's.
  const original = Duplex.prototype.write;
  const spy = vi.spyOn(Duplex.prototype, 'write').mockImplementation(function (this: Duplex, ...args: unknown[]) {
    const chunk = args[0];
    if (this instanceof net.Socket) total++;
    if (this instanceof net.Socket && (typeof chunk === 'string' || chunk instanceof Uint8Array) && chunk.length === 0) zero++;
    return (original as (...a: unknown[]) => boolean).apply(this, args);
  });
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return { total, zero };
}

describe('the response head rides the first body write', () => {
  it("relay: `started` turns true with the first write to the destination, not before", async () => {
    const src = new Readable({ read() {} });
    const writes: Buffer[] = [];
    const dest = new Writable({
      write(chunk: Buffer, _enc, cb) {
        writes.push(chunk);
        cb();
      },
    });
    const relayed = relay(src, dest);
    expect(relayed.started).toBe(false);
    src.push(Buffer.from(EVENT));
    // Gathered until the end of the tick: not written yet.
    expect(relayed.started).toBe(false);
    await nextMacrotask();
    expect(writes).toHaveLength(1);
    expect(relayed.started).toBe(true);
  });

  it('through the proxy: head and first event in one upstream read reach the caller without an extra (zero-byte) write', async () => {
    let finish: (() => void) | undefined;
    const upstream = await startRawUpstream((socket) => {
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n${frame(EVENT)}`,
      );
      // The rest comes once the caller has the first event: later than the proxy's next macrotask.
      finish = () => socket.end(`${frame('data: [DONE]\n\n')}0\r\n\r\n`);
    });
    const { url } = await startProxy(upstream.url);
    let raw = '';
    const writes = await socketWrites(async () => {
      raw = await rawExchange(
        url,
        `${GATEWAY_REQUEST}content-length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`,
        (received) => {
          if (received.includes('"hi"') && finish !== undefined) {
            finish();
            finish = undefined;
          }
          return false;
        },
      );
    });
    expect(raw.startsWith('HTTP/1.1 200')).toBe(true);
    expect(raw).toContain(EVENT);
    expect(raw).toContain('data: [DONE]');
    // The spy sees the exchange's writes (request, upstream request, answer), and none of zero bytes.
    expect(writes.total).toBeGreaterThan(2);
    expect(writes.zero).toBe(0);
  });
});
