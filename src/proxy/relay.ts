import type { Readable, Writable } from 'node:stream';

/**
 * `src.pipe(dest)`, except that everything `src` holds when it becomes readable goes out in one `dest.write()`.
 *
 * Why: undici pushes every chunk of a chunked upstream body separately, and `pipe()` writes each one on. When an
 * upstream streams faster than the proxy reads, one socket read carries dozens of SSE events (measured in
 * `npm run bench`, c64 with no chunk spacing: ~50 chunks per read). Written one by one, each costs a `data` event,
 * a chunked-encoding frame (`<hex>\r\n … \r\n`, four writes into the corked socket) and its share of the writev;
 * read together (`read()` returns the whole buffer once the read's pushes are done: `readable` fires on the next
 * tick) they cost one. The bytes the caller receives are the same; only where the chunk frames fall changes, which
 * HTTP leaves to each hop. A body that arrives one chunk per read (paced streams) goes through unchanged, and no
 * chunk waits: Node's http server already holds a response's writes until the end of the tick (it corks the socket).
 *
 * Backpressure is pipe's: while `dest.write()` returns false nothing more is read, `src` fills to its
 * highWaterMark and undici stops reading the upstream socket. `onChunk` sees every chunk right after it is written.
 * Teardown is the caller's (fastify's `sendStream` and `linkStreams` destroy `src` when `dest` closes early); this
 * only stops reading when either side is gone.
 */
export function relay(src: Readable, dest: Writable, onChunk?: (chunk: Buffer) => void, end = true): void {
  let awaitingDrain = false;

  function pump(): void {
    if (awaitingDrain) return;
    let chunk: Buffer | null;
    while ((chunk = src.read() as Buffer | null) !== null) {
      if (dest.destroyed) return stop();
      // Written first: an observer (flag-mode inspection) never delays the caller's bytes.
      const written = dest.write(chunk);
      onChunk?.(chunk);
      if (!written) {
        awaitingDrain = true;
        dest.once('drain', onDrain);
        return;
      }
    }
  }
  function onDrain(): void {
    awaitingDrain = false;
    pump();
  }
  function onEnd(): void {
    stop();
    if (end) dest.end();
  }
  function stop(): void {
    src.off('readable', pump);
    src.off('end', onEnd);
    src.off('close', stop);
    dest.off('drain', onDrain);
    dest.off('close', stop);
  }

  src.on('readable', pump);
  src.once('end', onEnd);
  src.once('close', stop);
  dest.once('close', stop);
}

/**
 * Makes fastify relay `stream` with {@link relay} when it is sent: `reply.send(stream)` hands a stream to
 * `stream.pipe(res)` (fastify's `sendStream`, which also keeps its own teardown and error handling around it), so
 * this instance's `pipe` is the one place to change how the bytes are pumped.
 */
export function sendWithRelay(stream: Readable, onChunk?: (chunk: Buffer) => void): Readable {
  stream.pipe = <T extends NodeJS.WritableStream>(dest: T, options?: { end?: boolean }): T => {
    relay(stream, dest as unknown as Writable, onChunk, options?.end ?? true);
    return dest;
  };
  return stream;
}
