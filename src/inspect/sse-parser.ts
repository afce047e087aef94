/**
 * Incremental Server-Sent Events parser over Buffers, following the WHATWG "Interpreting an event stream"
 * algorithm (HTML §9.2.6): lines end in CRLF, LF or CR; `data` lines of one event are joined with "\n";
 * lines starting with ":" are comments; a blank line dispatches the event.
 *
 * Built for the proxy's per-chunk hot path (undici `eventsource-stream.js` is the model):
 * - line ends are found with `Buffer.indexOf`, never a per-byte JS loop over the chunk;
 * - only complete lines are decoded, so a UTF-8 character split across chunks decodes correctly, and only the
 *   values of the fields we act on (`data`, `event`, `id`, `retry`) are turned into strings;
 * - memory is bounded: once an event's bytes exceed `maxEventBytes` its content is dropped, the parser only
 *   looks for its end, and the event is reported with `oversized: true` and no data.
 *
 * Deliberate departures from the browser algorithm, both for inspection rather than display:
 * - Every completed block is reported, including comment-only ones (`: ping`), with `data: undefined`, so a
 *   caller that forwards only complete events can forward keep-alives promptly.
 * - `end()` reports an event that was not followed by a blank line (a browser discards it). Older routers end
 *   a stream without the final blank line, and lenient clients (line-based SDK decoders) still consume such a
 *   trailing event, so an inspector must look at it too. Such an event has `eof: true`.
 * - `id` is the `id` field of this event only (a browser carries the last event id over to later events).
 */

import { DEFAULT_MAX_EVENT_BYTES } from '../config/defaults.js';
import { parseLine } from './sse-line.js';

const LF = 0x0a;
const CR = 0x0d;
const NUL = '\u0000';
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const EMPTY = Buffer.alloc(0);

/** Initial size of the buffer for a line split across chunks, and the most it keeps between lines. */
const MIN_LINE_BUFFER = 512;
const MAX_RETAINED_LINE_BUFFER = 16 * 1024;

/** Default cap on one event's bytes (src/config/defaults.ts, the one source of the inspector's defaults). */
export { DEFAULT_MAX_EVENT_BYTES };

export interface SseEvent {
  /** The `data` lines joined by "\n"; undefined when the event had no `data` field (comments only). */
  data: string | undefined;
  event?: string;
  /** The `id` field of this event, if any. */
  id?: string;
  retry?: number;
  /** The event exceeded `maxEventBytes`: its content was dropped and it was not inspected. */
  oversized: boolean;
  /**
   * Byte offset in the chunk passed to the current `write()` just after the blank line that completed this
   * event; 0 for an event reported by `end()`.
   */
  endOffset: number;
  /** Reported by `end()`: the stream ended without the event's blank line. */
  eof: boolean;
}

export interface SseParserOptions {
  maxEventBytes?: number;
  onEvent: (event: SseEvent) => void;
  /** A fast path for events the caller can account for from their bytes (see {@link SseEventSkipper}). */
  skipper?: SseEventSkipper;
}

/**
 * Takes whole events off the parser's hands without their being decoded or reported. At each event boundary (no
 * line or event in progress) the parser asks `canSkipEvent()` with the bytes left in the chunk; if so it offers the
 * chunk itself (nothing decoded), from `start`. An event `skipEvent` may take ends, with its blank line, by `limit`
 * (so it is within `maxEventBytes`).
 * Returning the offset just past that blank line means the skipper accounted for the event: `onEvent` is not
 * called for it. -1 means parse it as usual.
 */
export interface SseEventSkipper {
  /** Whether an event of at most `bytes` bytes could be skipped now (a cheap check before the bytes are compared). */
  canSkipEvent(bytes: number): boolean;
  skipEvent(chunk: Buffer, start: number, limit: number): number;
}

function isAsciiDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

export class SseParser {
  private readonly maxEventBytes: number;
  private readonly onEvent: (event: SseEvent) => void;
  private readonly skipper: SseEventSkipper | undefined;

  // The line in progress, copied out of earlier chunks into one reusable buffer (so a small tail does not pin a
  // large chunk, and completing a line costs no concatenation).
  private line: Buffer = EMPTY;
  private pendingBytes = 0;
  /** Bytes of the line in progress, including bytes dropped because the event is oversized. */
  private lineBytes = 0;
  /** The previous chunk ended in CR: an LF at the start of the next chunk belongs to that line end. */
  private lastWasCR = false;
  /** BOM bytes matched at stream start; -1 once the start of the stream is behind us. */
  private bomMatched = 0;
  private stopped = false;

  // The event in progress.
  private hasContent = false;
  private eventBytes = 0;
  private dataBytes = 0;
  private oversized = false;
  private data: string | undefined = undefined;
  private eventType: string | undefined = undefined;
  private eventId: string | undefined = undefined;
  private retry: number | undefined = undefined;

  private idle = -1;
  private oversizedCount = 0;

  constructor(options: SseParserOptions) {
    this.maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.onEvent = options.onEvent;
    this.skipper = options.skipper;
  }

  /**
   * Offset in the chunk of the current (or last) `write()` just after the last line end at which no event was in
   * progress (after a blank line), or -1 if there was none in that chunk. Bytes before it belong to complete
   * events only. While `onEvent` runs it is still the offset before the event being reported.
   */
  get idleOffset(): number {
    return this.idle;
  }

  /** The event in progress exceeded the cap: its bytes are no longer examined. */
  get inOversizedEvent(): boolean {
    return this.oversized;
  }

  /** Bytes the parser holds for the event in progress; never more than `maxEventBytes`. */
  get bufferedBytes(): number {
    return this.pendingBytes + this.dataBytes;
  }

  get oversizedEvents(): number {
    return this.oversizedCount;
  }

  /** Stop parsing: later `write()`/`end()` calls do nothing and no more events are reported. */
  stop(): void {
    this.stopped = true;
    this.line = EMPTY;
    this.pendingBytes = 0;
    this.data = undefined;
  }

  write(chunk: Buffer): void {
    if (this.stopped) return;
    const len = chunk.length;
    let pos = 0;
    this.idle = this.isIdle() ? 0 : -1;
    if (len === 0) return;
    if (this.lastWasCR) {
      this.lastWasCR = false;
      if (chunk[0] === LF) pos = 1;
    }
    if (this.bomMatched !== -1) pos = this.skipBom(chunk, pos);
    // Positions of the next LF / CR at or after `pos`; -1 when there is none left in this chunk, so each kind is
    // searched at most once per line end and the whole chunk is scanned in linear time.
    let nextLf = -2;
    let nextCr = -2;
    const skipper = this.skipper;
    while (pos < len && !this.stopped) {
      if (skipper !== undefined && this.lineBytes === 0 && !this.hasContent) {
        // An event boundary: offer the skipper the event that starts here.
        const limit = Math.min(len, pos + this.maxEventBytes + 1);
        const end = skipper.canSkipEvent(limit - pos) ? skipper.skipEvent(chunk, pos, limit) : -1;
        if (end !== -1) {
          this.idle = end;
          pos = end;
          continue;
        }
      }
      if (nextLf !== -1 && nextLf < pos) nextLf = chunk.indexOf(LF, pos);
      if (nextCr !== -1 && nextCr < pos) nextCr = chunk.indexOf(CR, pos);
      let eol: number;
      if (nextLf === -1) {
        if (nextCr === -1) {
          this.appendPartial(chunk, pos, len);
          return;
        }
        eol = nextCr;
      } else {
        eol = nextCr === -1 || nextLf < nextCr ? nextLf : nextCr;
      }
      let next = eol + 1;
      if (eol === nextCr) {
        if (next < len) {
          if (chunk[next] === LF) next++;
        } else {
          this.lastWasCR = true;
        }
      }
      this.completeLine(chunk, pos, eol, next);
      pos = next;
    }
  }

  /** The stream ended: a line or event still in progress is completed and reported (see the module comment). */
  end(): void {
    if (this.stopped) return;
    if (this.bomMatched > 0) this.appendPartial(BOM, 0, this.bomMatched);
    this.bomMatched = -1;
    this.idle = -1;
    if (this.lineBytes > 0) this.completeLine(EMPTY, 0, 0, 0);
    if (this.hasContent) this.dispatch(0, true);
    this.stopped = true;
  }

  private isIdle(): boolean {
    return !this.hasContent && this.lineBytes === 0 && this.bomMatched <= 0;
  }

  /** Skips a UTF-8 BOM at the very start of the stream, even when it is split across chunks. */
  private skipBom(chunk: Buffer, pos: number): number {
    while (pos < chunk.length && this.bomMatched < BOM.length) {
      if (chunk[pos] !== BOM[this.bomMatched]) {
        // Not a BOM after all: the bytes matched in earlier chunks are ordinary line bytes.
        if (this.bomMatched > 0) this.appendPartial(BOM, 0, this.bomMatched);
        this.bomMatched = -1;
        return pos;
      }
      this.bomMatched++;
      pos++;
    }
    if (this.bomMatched === BOM.length) this.bomMatched = -1;
    return pos;
  }

  private appendPartial(buf: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n === 0) return;
    this.lineBytes += n;
    this.eventBytes += n;
    this.hasContent = true;
    if (this.oversized) return;
    if (this.eventBytes > this.maxEventBytes) {
      this.markOversized();
      return;
    }
    this.reserve(this.pendingBytes + n);
    buf.copy(this.line, this.pendingBytes, start, end);
    this.pendingBytes += n;
  }

  /** Grows the line buffer to hold `bytes` (never beyond the cap: the caller checked). */
  private reserve(bytes: number): void {
    if (bytes <= this.line.length) return;
    const grown = Buffer.allocUnsafe(Math.min(Math.max(bytes, this.line.length * 2, MIN_LINE_BUFFER), this.maxEventBytes));
    this.line.copy(grown, 0, 0, this.pendingBytes);
    this.line = grown;
  }

  /** The line `chunk[start, end)` (preceded by any pending bytes) ended; `next` is the offset after its line end. */
  private completeLine(chunk: Buffer, start: number, end: number, next: number): void {
    const n = end - start;
    if (this.lineBytes === 0) {
      if (n === 0) {
        this.blankLine(next);
        return;
      }
      // Count the line end too, so the cap bounds what a caller holds back for an event.
      this.eventBytes += next - start;
      this.hasContent = true;
      if (this.oversized) return;
      if (this.eventBytes > this.maxEventBytes) {
        this.markOversized();
        return;
      }
      this.applyLine(chunk, start, end);
      return;
    }
    this.lineBytes = 0;
    this.eventBytes += next - start;
    if (this.oversized) return;
    if (this.eventBytes > this.maxEventBytes) {
      this.markOversized();
      return;
    }
    const length = this.pendingBytes + n;
    this.reserve(length);
    chunk.copy(this.line, this.pendingBytes, start, end);
    this.pendingBytes = 0;
    this.applyLine(this.line, 0, length);
    // Keep a small buffer for the next split line; let a big one go.
    if (this.line.length > MAX_RETAINED_LINE_BUFFER) this.line = EMPTY;
  }

  private applyLine(buf: Buffer, start: number, end: number): void {
    const line = parseLine(buf, start, end);
    switch (line.kind) {
      case 'data':
        this.data = this.data === undefined ? line.value : `${this.data}\n${line.value}`;
        this.dataBytes += end - start;
        break;
      case 'event':
        this.eventType = line.value;
        break;
      case 'id':
        if (!line.value.includes(NUL)) this.eventId = line.value;
        break;
      case 'retry':
        if (isAsciiDigits(line.value)) this.retry = Number(line.value);
        break;
      default:
        break;
    }
  }

  private markOversized(): void {
    if (!this.oversized) this.oversizedCount++;
    this.oversized = true;
    this.line = EMPTY;
    this.pendingBytes = 0;
    this.data = undefined;
    this.dataBytes = 0;
    this.eventType = undefined;
    this.eventId = undefined;
    this.retry = undefined;
  }

  private blankLine(next: number): void {
    if (this.hasContent) this.dispatch(next, false);
    this.idle = next;
  }

  private dispatch(endOffset: number, eof: boolean): void {
    const event: SseEvent = { data: this.data, oversized: this.oversized, endOffset, eof };
    if (this.eventType !== undefined) event.event = this.eventType;
    if (this.eventId !== undefined) event.id = this.eventId;
    if (this.retry !== undefined) event.retry = this.retry;
    this.hasContent = false;
    this.eventBytes = 0;
    this.dataBytes = 0;
    this.oversized = false;
    this.data = undefined;
    this.eventType = undefined;
    this.eventId = undefined;
    this.retry = undefined;
    this.onEvent(event);
  }
}
