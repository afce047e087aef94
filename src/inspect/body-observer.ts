import type { ResponseInspector } from './response-inspector.js';
import { SseParser } from './sse-parser.js';

export type BodyKind = 'sse' | 'json';

/**
 * Flag mode's inspection: feeds a response body to a `ResponseInspector` without forwarding anything. The proxy's
 * relay hands it the same chunks it has just written to the caller (no stream hop). SSE bodies go through the
 * incremental parser; a non-streamed JSON body is copied up to the inspector's cap and inspected at `end()`.
 * Metering (first-chunk time, bytes) is the proxy's one body meter, not this.
 *
 * Observing must never cost the caller a byte: given `onError`, the first exception the inspector throws stops
 * inspection of this body (reported once); without it, exceptions propagate.
 */
export class BodyObserver {
  private readonly parser: SseParser | undefined;
  private json: Buffer[] = [];
  private jsonBytes = 0;
  private jsonTooLarge = false;
  private ended = false;
  private failed = false;

  constructor(
    private readonly inspector: ResponseInspector,
    readonly kind: BodyKind,
    private readonly onError?: (err: unknown) => void,
  ) {
    if (kind === 'sse') {
      this.parser = new SseParser({
        maxEventBytes: inspector.maxEventBytes,
        onEvent: (ev) => inspector.onEvent(ev),
        skipper: inspector,
      });
    }
  }

  /** Inspection gave up on this body (the inspector threw). */
  get degraded(): boolean {
    return this.failed;
  }

  write(chunk: Buffer): void {
    if (this.failed) return;
    if (this.onError === undefined) return this.inspect(chunk);
    try {
      this.inspect(chunk);
    } catch (err) {
      this.fail(err);
    }
  }

  /** The body is complete: flush the parser's last event, or inspect the JSON body. Idempotent. */
  end(): void {
    if (this.ended || this.failed) return;
    this.ended = true;
    if (this.onError === undefined) return this.finishBody();
    try {
      this.finishBody();
    } catch (err) {
      this.fail(err);
    }
  }

  private inspect(chunk: Buffer): void {
    if (this.parser !== undefined) this.parser.write(chunk);
    else this.collectJson(chunk);
  }

  private fail(err: unknown): void {
    this.failed = true;
    this.json = [];
    this.parser?.stop();
    this.onError?.(err);
  }

  private finishBody(): void {
    if (this.parser !== undefined) {
      this.parser.end();
      return;
    }
    if (this.jsonTooLarge || this.json.length === 0) return;
    const body = this.json.length === 1 ? (this.json[0] as Buffer) : Buffer.concat(this.json, this.jsonBytes);
    this.json = [];
    this.inspector.onJsonBody(body);
  }

  private collectJson(chunk: Buffer): void {
    if (this.jsonTooLarge) return;
    if (this.jsonBytes + chunk.length > this.inspector.maxJsonBodyBytes) {
      this.jsonTooLarge = true;
      this.json = [];
      this.jsonBytes = 0;
      this.inspector.skip('body_too_large');
      return;
    }
    this.json.push(chunk);
    this.jsonBytes += chunk.length;
  }
}
