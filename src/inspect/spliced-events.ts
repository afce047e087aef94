/**
 * Events with another event spliced into them (issue 13 item 4): a shared reply callback that writes two
 * connections' bytes into one buffer makes `data: {…}data: {…}` on one line, or two JSON objects in one event.
 * Only payloads that failed to parse are examined here, so the fast path pays nothing. Each embedded payload is
 * handed back to be inspected like any other.
 */

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const DATA_FIELD = 'data:';

/** Pieces split off one payload at most (a payload of many spliced events is still flagged once). */
export const MAX_SPLICED_PIECES = 16;

function skipSpace(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) break;
    i++;
  }
  return i;
}

/** The index just past the JSON object or array opening at `start`, by bracket depth outside strings; or -1. */
export function endOfJsonValue(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
      if (i >= text.length) return -1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return i + 1;
      if (depth < 0) return -1;
    }
  }
  return -1;
}

export interface SpliceResult {
  /** The payloads found, in order (JSON texts or plain data such as `[DONE]`). */
  pieces: string[];
  /** Bytes that were neither (an event cut mid-object by the splice); counted, not inspected. */
  leftover: boolean;
}

/**
 * Splits a payload that is more than one event: `{…}{…}`, `{…}data: {…}`, or `data: {…}` (a `data:` field inside
 * the data). Undefined when the payload is not spliced (one value, or text with no embedded event).
 */
export function splitSplicedPayload(data: string): SpliceResult | undefined {
  const pieces: string[] = [];
  let leftover = false;
  let i = skipSpace(data, 0);
  while (i < data.length && pieces.length < MAX_SPLICED_PIECES) {
    if (data.startsWith(DATA_FIELD, i)) {
      i = skipSpace(data, i + DATA_FIELD.length);
      continue;
    }
    if (data.charCodeAt(i) === OPEN_BRACE) {
      const end = endOfJsonValue(data, i);
      if (end === -1) {
        // A cut object: the rest may still hold a whole embedded event after a `data:`.
        const next = data.indexOf(DATA_FIELD, i + 1);
        leftover = true;
        if (next === -1) break;
        i = next;
        continue;
      }
      pieces.push(data.slice(i, end));
      i = skipSpace(data, end);
      continue;
    }
    // Plain text: up to the next embedded `data:` (e.g. `[DONE]data: {…}`).
    const next = data.indexOf(DATA_FIELD, i);
    const text = (next === -1 ? data.slice(i) : data.slice(i, next)).trim();
    if (text !== '') pieces.push(text);
    if (next === -1) break;
    i = next;
  }
  const embedded = data.trimStart().startsWith(DATA_FIELD);
  // Two values, or one behind a `data:` field, or one after a cut object: a splice.
  if (pieces.length < 2 && !((embedded || leftover) && pieces.length === 1)) return undefined;
  return { pieces, leftover };
}
