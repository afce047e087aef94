import type { Readable, Writable } from 'node:stream';

/** What a started relay tells its owner. */
export interface Relay {
  /** Whether `dest.write()` has been called: the first write carries a response's status and headers with it. */
  readonly started: boolean;
}

/** A chunk at least this large is written as it comes, unless smaller ones of the same tick wait before it. */
const WRITE_AT_ONCE_BYTES = 4096;

/** A destination that writes into a socket of its own: an HTTP response (`ServerResponse.socket`). */
type SocketBacked = { readonly socket?: { readonly writableCorked: number } | null };

/**
 * Whether `dest`, an HTTP response, has already taken a write in this tick. Node's `write()` on a chunked response
 * corks the response's socket, unless it is corked already, and uncorks it on the next tick (`connectionCorkNT` in
 * `_http_outgoing.js`), so a corked socket means the bytes of an earlier write of this tick are still waiting in it.
 * Never true for a destination without a socket, or if Node stops corking: the relay then writes every chunk as it
 * comes, the same bytes framed one chunk at a time as `pipe()` would.
 */
function wroteThisTick(dest: Writable): boolean {
  return ((dest as SocketBacked).socket?.writableCorked ?? 0) > 0;
}

/**
 * `src.pipe(dest)`, except that the chunks `src` emits in one tick after the first go out in one `dest.write()`.
 *
 * Why gather: undici pushes every chunk of a chunked upstream body separately, and `pipe()` writes each one on. When
 * an upstream streams faster than the proxy reads, one socket read carries dozens of SSE events (measured in
 * `npm run bench`, c64 with no chunk spacing: ~50 chunks per read). Written one by one, each costs a chunked-encoding
 * frame (`<hex>\r\n … \r\n`, four writes into the corked socket) and its share of the writev; gathered they cost one.
 * The bytes the caller receives are the same; only where the chunk frames fall changes, which HTTP leaves to each
 * hop.
 *
 * Why the first chunk goes at once: a paced stream (a provider's tokens, 5 ms apart) brings one chunk per socket
 * read, and deferring every chunk to the end of its tick cost a promise reaction per chunk and a second pass of
 * Node's tick loop (a nextTick queued from a microtask). Measured by hand at c64-delay5 (5 alternating 6 s windows,
 * main thread, Dec 2026): 2.31 ms of user CPU per request with every chunk deferred, 1.91 written at once, bare
 * http-proxy 1.76. So the relay writes a chunk at once unless `wroteThisTick()` says an earlier chunk of the same
 * tick is still waiting in the destination; then it and the rest of the tick are gathered and written together by
 * a `process.nextTick` (queued after the one that flushes the first write). Only an HTTP response can tell (see
 * {@link wroteThisTick}); into any other destination every chunk is written as it comes.
 *
 * Flowing mode (`data` events), as `pipe()` reads: a paused-mode `readable` / `read()` relay paid two
 * `process.nextTick`s per chunk (emitReadable and maybeReadMore; flowing mode keeps only the second) and `read()`'s
 * bookkeeping, which on paced streams (one chunk per read) bought nothing.
 *
 * Backpressure is pipe's: while `dest.write()` returns false `src` is paused, fills to its highWaterMark and undici
 * stops reading the upstream socket. `onChunk` sees every written chunk right after it is written. Teardown is
 * {@link relayWithTeardown}'s; this only stops reading when either side is gone.
 */
export function relay(
  src: Readable,
  dest: Writable,
  onChunk?: (chunk: Buffer) => void,
  onSourceEnd?: () => void,
): Relay {
  let awaitingDrain = false;
  let started = false;
  /** The chunks of this tick after its first, written together by the nextTick after them (one array for the relay's life). */
  const pending: Buffer[] = [];
  let scheduled = false;
  let stopped = false;

  function write(chunk: Buffer): void {
    if (dest.destroyed) return stop();
    // Written first: an observer (flag-mode inspection) never delays the caller's bytes.
    started = true;
    const written = dest.write(chunk);
    onChunk?.(chunk);
    if (!written && !awaitingDrain && !stopped) {
      awaitingDrain = true;
      src.pause();
      dest.once('drain', onDrain);
    }
  }
  function flush(): void {
    scheduled = false;
    if (stopped || pending.length === 0) return;
    const chunk = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
    pending.length = 0;
    write(chunk);
  }
  function onData(chunk: Buffer): void {
    if (!scheduled) {
      // The first chunk of a tick goes at once, and so does a large chunk with nothing gathered before it: its frame
      // costs nothing beside its bytes, and gathering would copy them (a 1 GiB stream arrives in 16 KiB chunks).
      if (chunk.length >= WRITE_AT_ONCE_BYTES || !wroteThisTick(dest)) return write(chunk);
      scheduled = true;
      process.nextTick(flush);
    }
    pending.push(chunk);
  }
  function onDrain(): void {
    awaitingDrain = false;
    if (!stopped) src.resume();
  }
  function onEnd(): void {
    // 'end' may come before the nextTick of the last chunks: they go first.
    flush();
    stop();
    onSourceEnd?.();
    dest.end();
  }
  function stop(): void {
    stopped = true;
    pending.length = 0;
    // A flowing source left without a 'data' listener would go on reading and drop what it reads: it stops instead.
    if (!src.readableEnded) src.pause();
    src.off('data', onData);
    src.off('end', onEnd);
    src.off('close', stop);
    dest.off('drain', onDrain);
    dest.off('close', stop);
  }

  src.on('data', onData);
  src.once('end', onEnd);
  src.once('close', stop);
  dest.once('close', stop);
  return {
    get started() {
      return started;
    },
  };
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
  onSourceEnd?: () => void,
): Relay {
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
  return relay(source, dest, onChunk, onSourceEnd);
}
