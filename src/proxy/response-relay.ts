import type { Readable, Writable } from 'node:stream';

/** One settled promise: `.then(fn)` on it queues `fn` as a microtask (no AsyncResource, unlike queueMicrotask). */
const SETTLED = Promise.resolve();

/** What a started relay tells its owner. */
export interface Relay {
  /** Whether `dest.write()` has been called: the first write carries a response's status and headers with it. */
  readonly started: boolean;
}

/** A chunk at least this large is written as it comes, unless smaller ones of the same tick wait before it. */
const WRITE_AT_ONCE_BYTES = 4096;

/**
 * `src.pipe(dest)`, except that the chunks `src` emits in one tick go out in one `dest.write()`.
 *
 * Why: undici pushes every chunk of a chunked upstream body separately, and `pipe()` writes each one on. When an
 * upstream streams faster than the proxy reads, one socket read carries dozens of SSE events (measured in
 * `npm run bench`, c64 with no chunk spacing: ~50 chunks per read). Written one by one, each costs a chunked-encoding
 * frame (`<hex>\r\n … \r\n`, four writes into the corked socket) and its share of the writev; gathered (the chunks
 * of one socket read are emitted synchronously, and the microtask after them writes them together) they cost one.
 * The bytes the caller receives are the same; only where the chunk frames fall changes, which HTTP leaves to each
 * hop. A body that arrives one chunk per read (paced streams) goes through unchanged, and no chunk waits past the
 * end of the tick it arrived in.
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
  /** The chunks of this tick, written by the microtask after them (one array for the relay's life). */
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
    // A large chunk with nothing gathered before it goes at once: its frame costs nothing beside its bytes, and
    // gathering would copy them (a 1 GiB stream arrives in 16 KiB chunks).
    if (!scheduled && chunk.length >= WRITE_AT_ONCE_BYTES) return write(chunk);
    pending.push(chunk);
    if (!scheduled) {
      scheduled = true;
      void SETTLED.then(flush);
    }
  }
  function onDrain(): void {
    awaitingDrain = false;
    if (!stopped) src.resume();
  }
  function onEnd(): void {
    // 'end' may come before the microtask of the last chunks: they go first.
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
