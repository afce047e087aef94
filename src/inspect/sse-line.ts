/**
 * One line of a Server-Sent Events stream, classified (WHATWG HTML §9.2.6 "Interpreting an event stream": a line
 * starting with ":" is a comment, `name: value` a field, the single space after the colon is not part of the value).
 * The line side of {@link SseParser} (`sse-parser.ts`), which finds line ends and assembles events.
 */

const COLON = 0x3a;
const SPACE = 0x20;

/** A field name that ends with a colon can only be one we act on if the colon is within this many bytes. */
const MAX_FIELD_NAME_BYTES = 5;

const NAME_DATA = Buffer.from('data');
const NAME_EVENT = Buffer.from('event');
const NAME_ID = Buffer.from('id');
const NAME_RETRY = Buffer.from('retry');

export type SseFieldName = 'data' | 'event' | 'id' | 'retry';

/** One line, classified. Unknown fields are `ignored` (the spec ignores them too). */
export type SseLine =
  | { readonly kind: 'blank' | 'comment' | 'ignored' }
  | { readonly kind: SseFieldName; readonly value: string };

const BLANK: SseLine = { kind: 'blank' };
const COMMENT: SseLine = { kind: 'comment' };
const IGNORED: SseLine = { kind: 'ignored' };

function nameIs(buf: Buffer, start: number, end: number, name: Buffer): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (buf[start + i] !== name[i]) return false;
  return true;
}

/**
 * Classifies the line `buf[start, end)` (without its line end). Only the value of a known field is decoded.
 */
export function parseLine(buf: Buffer, start = 0, end = buf.length): SseLine {
  if (start >= end) return BLANK;
  if (buf[start] === COLON) return COMMENT;
  // Look for the colon only among the first bytes: a longer field name is one we ignore anyway.
  const limit = Math.min(end, start + MAX_FIELD_NAME_BYTES + 1);
  let colon = -1;
  for (let i = start + 1; i < limit; i++) {
    if (buf[i] === COLON) {
      colon = i;
      break;
    }
  }
  let nameEnd = end;
  let valueStart = end;
  if (colon !== -1) {
    nameEnd = colon;
    valueStart = colon + 1;
    if (valueStart < end && buf[valueStart] === SPACE) valueStart++;
  } else if (end - start > MAX_FIELD_NAME_BYTES) {
    return IGNORED;
  }
  let kind: SseFieldName;
  if (nameIs(buf, start, nameEnd, NAME_DATA)) kind = 'data';
  else if (nameIs(buf, start, nameEnd, NAME_ID)) kind = 'id';
  else if (nameIs(buf, start, nameEnd, NAME_EVENT)) kind = 'event';
  else if (nameIs(buf, start, nameEnd, NAME_RETRY)) kind = 'retry';
  else return IGNORED;
  return { kind, value: valueStart < end ? buf.toString('utf8', valueStart, end) : '' };
}
