/**
 * Pre-serialised pieces of the router's SSE and JSON answers. A chunk is `prefix + content + suffix`, where the
 * prefix (id, created, model) is built once per stream, so the hot path concatenates short strings and never
 * calls JSON.stringify. Content comes from an ASCII filler without quotes or backslashes, and nonces are limited
 * to a JSON-safe alphabet, so no escaping is needed.
 */

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** What the last user message asked us to echo: `nonce:<token>`. */
export const NONCE_PATTERN = /nonce:([A-Za-z0-9._-]{1,128})/;

export const DONE_DATA = '[DONE]';
export const FAILOVER_LINE = 'provider failed, failover enabled';
export const NEW_SESSION_LINE_PREFIX = 'new session opened: ';
export const PING_COMMENT = ': ping';

const FILLER =
  'The simulated provider streams this reply in small pieces, as a real model would. ' +
  'Every piece travels through the router to the gateway and on to the client, ' +
  'and every piece must reach the connection of the request that asked for it. ';

const piecesBySize = new Map<number, string[]>();

/** Content of the `index`-th chunk for a chunk size: consecutive windows over the filler, cached per size. */
export function contentPiece(chunkBytes: number, index: number): string {
  let pieces = piecesBySize.get(chunkBytes);
  if (pieces === undefined) {
    pieces = [];
    const long = FILLER.repeat(Math.ceil((chunkBytes * 2) / FILLER.length) + 1);
    // 32 distinct windows are enough for realistic text; more would only grow the cache.
    for (let i = 0; i < 32; i++) {
      const start = (i * chunkBytes) % FILLER.length;
      pieces.push(long.slice(start, start + chunkBytes));
    }
    if (piecesBySize.size < 64) piecesBySize.set(chunkBytes, pieces);
  }
  return pieces[index % pieces.length] ?? '';
}

/** The first chunk carries the nonce, padded with filler up to the chunk size. */
export function nonceFirstPiece(chunkBytes: number, nonce: string): string {
  const head = `nonce:${nonce} `;
  return head.length >= chunkBytes ? head : head + contentPiece(chunkBytes, 0).slice(0, chunkBytes - head.length);
}

/** `data: {"id":…,"object":"chat.completion.chunk",…,"delta":{"content":"` — `extra` is `,"k":v` or empty. */
export function chunkPrefix(id: string, created: number, modelJson: string, extra: string): string {
  return (
    `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${modelJson}${extra}` +
    `,"choices":[{"index":0,"delta":{"content":"`
  );
}

export function chunkSuffix(eol: string): string {
  return `"},"finish_reason":null}]}${eol}${eol}`;
}

export function usageJson(usage: Usage): string {
  return `{"prompt_tokens":${usage.prompt_tokens},"completion_tokens":${usage.completion_tokens},"total_tokens":${usage.total_tokens}}`;
}

/** The last chunk: empty delta, `finish_reason: "stop"`, and the three usage objects routers send since 2025. */
export function finalChunk(
  id: string,
  created: number,
  modelJson: string,
  extra: string,
  usage: Usage,
  eol: string,
): string {
  const u = usageJson(usage);
  return (
    `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${modelJson}${extra}` +
    `,"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]` +
    `,"usage":${u},"usage_from_provider":${u},"usage_from_consumer":${u}}${eol}${eol}`
  );
}

/** A plain `data:` line (failover notices, `[DONE]`) or a comment, as one event. */
export function rawEvent(line: string, eol: string): string {
  return `${line}${eol}${eol}`;
}

/** Rough token count (≈4 bytes a token), enough for plausible usage numbers. */
export function approxTokens(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 4));
}
