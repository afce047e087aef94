/**
 * Block mode's Transform on a response body: it feeds an SSE parser (or, for non-streamed bodies, a bounded
 * copy of the JSON body) to a `ResponseInspector` and withholds what must not reach the caller. Flag mode has no
 * stream hop: it observes the relayed chunks with a `BodyObserver` (body-observer.ts).
 *
 * - SSE: only bytes of complete events are forwarded (the incomplete tail of the current event is
 *   held back, at most about `maxEventBytes`). When a finding is raised, the bytes of the events before the
 *   offending one are forwarded, then one final `data: {"error":{"type":"crosstalk_detected",…}}` event, and the
 *   readable side ends; later input is discarded and `onBlock` tells the caller to destroy the upstream. An event
 *   over the size cap cannot be inspected, so its bytes are forwarded as they come.
 * - JSON: nothing is forwarded until the whole body (up to `maxJsonBodyBytes`) is inspected;
 *   `onJsonVerdict` is called before any byte is pushed, so the caller can still choose the status: on
 *   `blocked` it sends its 502 instead and the stream pushes nothing. A body over the cap is forwarded
 *   uninspected (verdict `inspected: false`).
 *
 * Findings raised before the body (request or response headers) block at the first byte in `block` mode; a
 * caller that wants a 502 instead checks `inspector.hasFindings` after `onResponseHeaders`.
 *
 * An exception from the inspector never costs the caller a byte or the process its life: the held bytes are
 * released, the rest of the body passes through uninspected, and `onDegraded` is told once (with the error, which
 * the caller logs without its message: a parser error may quote response bytes).
 *
 * The caller still calls `inspector.finish()` when the exchange ends (or is aborted).
 */
import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';
import { errors } from '../errors.js';
import type { Finding, ReasonCode } from './detectors.js';
import type { ResponseInspector } from './response-inspector.js';
import { SseParser, type SseEvent } from './sse-parser.js';
import type { BodyKind } from './body-observer.js';

export type { BodyKind };
/** The proxy's `--on-crosstalk` modes: flag mode observes with `BodyObserver`, block mode uses this stream. */
export type InspectMode = 'flag' | 'block';

/** One byte budget shared by every block-mode JSON body in the process (held bodies are memory). */
export interface HoldBudget {
  /** Reserves `bytes`; false when that would pass the cap (nothing is reserved then). */
  tryHold(bytes: number): boolean;
  release(bytes: number): void;
}

export const CROSSTALK_ERROR_TYPE = 'crosstalk_detected';

export interface BlockInfo {
  reasons: ReasonCode[];
  findings: readonly Finding[];
  /** Body bytes forwarded before the block (the error event not included). */
  forwardedBytes: number;
}

export interface JsonVerdict {
  /** A finding was raised: the caller sends its error response, the stream pushes nothing. */
  blocked: boolean;
  /** False when the body was over the cap and is forwarded uninspected. */
  inspected: boolean;
  reasons: ReasonCode[];
}

export interface InspectStreamOptions {
  inspector: ResponseInspector;
  /** Default from the request (`stream` → `sse`); prefer the response's content type. */
  kind?: BodyKind;
  /** The inspector threw: the rest of this body passes uninspected. Called once. */
  onDegraded?: (err: unknown) => void;
  /** JSON bodies: the process-wide budget for held bytes; past it the body is forwarded uninspected. */
  holdBudget?: HoldBudget;
  /** JSON bodies: the budget was exhausted and this body passes uninspected. Called once. */
  onOverBudget?: () => void;
  /** Called once, synchronously, when block mode stops forwarding. */
  onBlock?: (info: BlockInfo) => void;
  /** JSON bodies in block mode: called once before any byte is pushed. */
  onJsonVerdict?: (verdict: JsonVerdict) => void;
  transformOptions?: TransformOptions;
}

/** The final SSE event sent in block mode. Carries reason codes and the request id only. */
export function crosstalkErrorEvent(reasons: readonly ReasonCode[], requestId: string): Buffer {
  const err = new errors.CROSSTALK_ERR_FOREIGN_RESPONSE(reasons.join(', '));
  const body = {
    error: { type: CROSSTALK_ERROR_TYPE, code: err.code, message: err.message, reasons, request_id: requestId },
  };
  return Buffer.from(`data: ${JSON.stringify(body)}\n\n`);
}

export class InspectStream extends Transform {
  readonly kind: BodyKind;
  private readonly inspector: ResponseInspector;
  private readonly onBlock: ((info: BlockInfo) => void) | undefined;
  private readonly onJsonVerdict: ((verdict: JsonVerdict) => void) | undefined;
  private readonly onDegraded: ((err: unknown) => void) | undefined;
  private readonly holdBudget: HoldBudget | undefined;
  private readonly onOverBudget: (() => void) | undefined;
  /** Bytes reserved in the hold budget for this body. */
  private reserved = 0;
  private readonly parser: SseParser | undefined;
  private readonly maxJsonBodyBytes: number;

  private blockedFlag = false;
  /** The inspector threw: everything from here on passes through. */
  private degradedFlag = false;
  private bytesOut = 0;
  /** Block mode: bytes since the last event boundary, from earlier chunks. JSON: the body so far. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private chunk: Buffer | undefined;
  private jsonTooLarge = false;
  private verdictGiven = false;
  /** Part of the chunk being parsed was forwarded already (an event boundary inside it). */
  private partlyForwarded = false;

  constructor(options: InspectStreamOptions) {
    super(options.transformOptions);
    this.inspector = options.inspector;
    this.kind = options.kind ?? (options.inspector.facts.stream ? 'sse' : 'json');
    this.onBlock = options.onBlock;
    this.onJsonVerdict = options.onJsonVerdict;
    this.onDegraded = options.onDegraded;
    this.holdBudget = options.holdBudget;
    this.onOverBudget = options.onOverBudget;
    this.maxJsonBodyBytes = options.inspector.maxJsonBodyBytes;
    if (this.kind === 'sse') {
      const inspector = options.inspector;
      this.parser = new SseParser({
        maxEventBytes: inspector.maxEventBytes,
        onEvent: (ev) => this.onBlockModeEvent(ev),
        skipper: inspector,
      });
    }
  }

  /** Block mode stopped forwarding. */
  get blocked(): boolean {
    return this.blockedFlag;
  }

  /** The inspector threw and the body passes through uninspected. */
  get degraded(): boolean {
    return this.degradedFlag;
  }

  /**
   * Stops an SSE body now, for a finding that came from outside its bytes (a late shared finding): the crosstalk
   * error event goes out after what was already forwarded, the rest is discarded, `onBlock` is called. A JSON body
   * needs no call (its verdict, at its end, sees the inspector's findings). False when nothing was stopped.
   */
  stopNow(): boolean {
    if (this.parser === undefined || this.blockedFlag || this.degradedFlag || this.writableEnded) return false;
    this.block();
    return true;
  }

  /** Body bytes pushed downstream (the block-mode error event not included). */
  get forwardedBytes(): number {
    return this.bytesOut;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.blockedFlag) {
      callback();
      return;
    }
    if (this.degradedFlag) {
      this.forward(chunk);
      callback();
      return;
    }
    try {
      if (this.parser !== undefined) this.transformSseBlock(chunk, this.parser);
      else this.transformJsonBlock(chunk);
    } catch (err) {
      this.degrade(err, chunk);
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.blockedFlag || this.degradedFlag) {
      callback();
      return;
    }
    try {
      this.flushBody();
    } catch (err) {
      this.degrade(err, undefined);
    }
    callback();
  }

  /**
   * Gives up inspecting: whatever was held goes out, then `chunk` (the one being handled when the inspector threw)
   * unless part of it was already forwarded, then everything after it, as received.
   */
  private degrade(err: unknown, chunk: Buffer | undefined): void {
    if (this.blockedFlag) return;
    this.degradedFlag = true;
    this.parser?.stop();
    const inFlight = this.chunk;
    this.chunk = undefined;
    this.releaseHeld();
    if (chunk !== undefined && !(inFlight === chunk && this.partlyForwarded)) this.forward(chunk);
    this.inspector.skip('inspector_error');
    this.onDegraded?.(err);
    if (this.kind === 'json' && !this.verdictGiven) {
      this.verdictGiven = true;
      this.onJsonVerdict?.({ blocked: false, inspected: false, reasons: [] });
    }
  }

  private flushBody(): void {
    if (this.parser !== undefined) {
      this.chunk = undefined;
      this.parser.end();
      if (!this.blockedFlag) {
        if (this.inspector.hasFindings) this.block();
        else this.releaseHeld();
      }
    } else if (!this.jsonTooLarge) {
      const body = this.held.length === 1 ? (this.held[0] as Buffer) : Buffer.concat(this.held, this.heldBytes);
      this.inspector.onJsonBody(body);
      const blocked = this.inspector.hasFindings;
      const reasons = this.inspector.reasons;
      this.verdictGiven = true;
      this.onJsonVerdict?.({ blocked, inspected: true, reasons });
      if (blocked) this.blockJson();
      else this.releaseHeld();
    }
  }

  private forward(buf: Buffer): void {
    if (buf.length === 0) return;
    this.bytesOut += buf.length;
    this.push(buf);
  }

  private releaseHeld(): void {
    for (const buf of this.held) this.forward(buf);
    this.held = [];
    this.heldBytes = 0;
    this.releaseBudget();
  }

  private releaseBudget(): void {
    if (this.reserved > 0) this.holdBudget?.release(this.reserved);
    this.reserved = 0;
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.held = [];
    this.heldBytes = 0;
    this.releaseBudget();
    callback(err);
  }

  private hold(buf: Buffer): void {
    if (buf.length === 0) return;
    this.held.push(buf);
    this.heldBytes += buf.length;
  }

  private transformSseBlock(chunk: Buffer, parser: SseParser): void {
    if (this.inspector.hasFindings) {
      this.block();
      return;
    }
    this.chunk = chunk;
    this.partlyForwarded = false;
    parser.write(chunk);
    this.chunk = undefined;
    if (this.blockedFlag) return;
    if (parser.inOversizedEvent) {
      // Over the cap: this event will not be inspected, so holding it back protects nothing.
      this.releaseHeld();
      this.forward(chunk);
      return;
    }
    const idle = parser.idleOffset;
    if (idle === -1) {
      this.hold(chunk);
      return;
    }
    this.releaseHeld();
    if (idle === chunk.length) {
      this.forward(chunk);
    } else {
      this.forward(chunk.subarray(0, idle));
      this.hold(chunk.subarray(idle));
    }
  }

  private onBlockModeEvent(event: SseEvent): void {
    this.inspector.onEvent(event);
    if (!this.inspector.hasFindings) return;
    // The bytes up to the boundary before this event belong to events that were inspected clean.
    const chunk = this.chunk;
    const idle = this.parser?.idleOffset ?? -1;
    if (chunk !== undefined && idle !== -1) {
      this.releaseHeld();
      this.forward(chunk.subarray(0, idle));
      this.partlyForwarded = true;
    }
    this.block();
  }

  private block(): void {
    if (this.blockedFlag) return;
    this.blockedFlag = true;
    this.parser?.stop();
    this.held = [];
    this.heldBytes = 0;
    this.push(crosstalkErrorEvent(this.inspector.reasons, this.inspector.facts.requestId));
    this.push(null);
    this.onBlock?.(this.blockInfo());
  }

  /** JSON bodies: push nothing; the caller answers with its own error response. */
  private blockJson(): void {
    this.blockedFlag = true;
    this.held = [];
    this.heldBytes = 0;
    this.releaseBudget();
    this.push(null);
    this.onBlock?.(this.blockInfo());
  }

  private blockInfo(): BlockInfo {
    return { reasons: this.inspector.reasons, findings: this.inspector.findings, forwardedBytes: this.bytesOut };
  }

  private transformJsonBlock(chunk: Buffer): void {
    if (this.jsonTooLarge) {
      this.forward(chunk);
      return;
    }
    const tooLarge = this.heldBytes + chunk.length > this.maxJsonBodyBytes;
    const overBudget = !tooLarge && this.holdBudget !== undefined && !this.holdBudget.tryHold(chunk.length);
    if (!tooLarge && !overBudget) {
      if (this.holdBudget !== undefined) this.reserved += chunk.length;
      this.hold(chunk);
      return;
    }
    this.jsonTooLarge = true;
    this.inspector.skip('body_too_large');
    if (overBudget) this.onOverBudget?.();
    // Findings from the headers still block a body too large to inspect.
    const blocked = this.inspector.hasFindings;
    const reasons = this.inspector.reasons;
    this.verdictGiven = true;
    this.onJsonVerdict?.({ blocked, inspected: false, reasons });
    if (blocked) {
      this.blockJson();
      return;
    }
    this.releaseHeld();
    this.forward(chunk);
  }
}
