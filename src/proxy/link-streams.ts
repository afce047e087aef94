import type { Readable, Writable } from 'node:stream';
import { relay } from './relay.js';

/**
 * `source.pipe(dest)` (as {@link relay}: one write per upstream read) with teardown in both directions: a source error destroys `dest` (so the caller's response
 * is cut, never left hanging), and `dest` closing early (the client went away, or block mode ended it) destroys
 * `source` (so undici cancels the upstream request at once).
 *
 * Not `stream.pipeline()`: it creates an AbortController per call and aborts it on completion, which builds a
 * DOMException with a captured stack — it showed in the proxy's CPU profile under load (`npm run bench -- --cpu-prof`).
 * `onSourceError` is told only about failures of the source itself, not about the destroy we cause.
 */
export function linkStreams(source: Readable, dest: Writable, onSourceError: (err: Error) => void): void {
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
  relay(source, dest);
}
