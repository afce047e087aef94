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
 * Teardown is {@link relayWithTeardown}'s; this only stops reading when either side is gone.
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
 * {@link relay} with teardown in both directions: a source error destroys `dest` (the caller's response is cut,
 * never left hanging) and `dest` closing early (the client went away, or block mode ended it) destroys `source`
 * (undici then cancels the upstream request at once). `onSourceError` hears of failures of the source itself, not
 * of the destroy this causes.
 *
 * Not `stream.pipeline()`: it creates an AbortController per call and aborts it on completion, which builds a
 * DOMException with a captured stack — it showed in the proxy's CPU profile under load (`npm run bench -- --cpu-prof`).
 */
export function relayWithTeardown(
  source: Readable,
  dest: Writable,
  onSourceError: (err: Error) => void,
  onChunk?: (chunk: Buffer) => void,
): void {
  let released = false;
  source.on('error', (err: Error) => {
    if (!released) onSourceError(err);
    dest.destroy(err);
  });
  dest.once('close', () => {
    if (!source.destroyed && !source.readableEnded) {
      released = true;
      source.destroy();
    }
  });
  relay(source, dest, onChunk);
}
