import type { ServerResponse } from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { errors } from '../errors.js';
import { MEDIA_TYPE_JSON, mediaTypeOf } from '../protocol/headers.js';

/**
 * The request side's body handling: facts (`model`, `stream`) from a JSON request body, read whole when small or
 * through a tap that keeps a bounded copy, and an idle limit between body bytes (a body trickled a byte at a time
 * must not hold a caller and an upstream connection forever).
 */

export interface RequestBodyFacts {
  /** The body's top-level `model` field, when the body is a JSON object naming one. */
  model?: string;
  /** The body's top-level `stream` flag. */
  stream?: boolean;
  /** The parsed JSON object itself (the detection reads the request's shape from it: messages, n, tools…). */
  json?: Record<string, unknown>;
}

/**
 * Pass-through for the request body: every chunk goes upstream untouched and unbuffered, while a copy of
 * at most `maxCopyBytes` is kept so the JSON can be parsed once it ends. A larger body is still forwarded
 * whole; only its facts are unknown.
 */
export class BodyTap extends Transform {
  private readonly chunks: Buffer[] = [];
  private copied = 0;
  private overflow = false;

  constructor(
    private readonly maxCopyBytes: number,
    private readonly onFacts: (facts: RequestBodyFacts) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    if (!this.overflow) {
      this.copied += chunk.length;
      if (this.copied > this.maxCopyBytes) {
        this.overflow = true;
        this.chunks.length = 0;
      } else {
        this.chunks.push(chunk);
      }
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.overflow && this.chunks.length > 0) this.onFacts(parseBodyFacts(Buffer.concat(this.chunks)));
    this.chunks.length = 0;
    callback();
  }
}

/**
 * Reads a whole request body of a known, small length (the caller checked `content-length`). Node's parser stops
 * at that length, so `end` means the body is complete; a client that goes away before that fails the read.
 */
export function readWholeBody(payload: Readable, onBody: (body: Buffer) => void, onError: (err: Error) => void): void {
  const chunks: Buffer[] = [];
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
  };
  const onEnd = (): void => {
    settle();
    onBody(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
  };
  const onFailure = (err: Error): void => {
    settle();
    onError(err);
  };
  // 'close' before 'end': the client left. (The error is built only then: an Error captures a stack.)
  const onClose = (): void => onFailure(new errors.CROSSTALK_ERR_REQUEST_BODY_ABORTED());
  const settle = (): void => {
    payload.off('data', onData);
    payload.off('end', onEnd);
    payload.off('error', onFailure);
    payload.off('close', onClose);
  };
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onFailure);
  payload.on('close', onClose);
}

export function parseBodyFacts(body: Buffer): RequestBodyFacts {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return {};
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
  const { model, stream } = parsed as { model?: unknown; stream?: unknown };
  const facts: RequestBodyFacts = { json: parsed as Record<string, unknown> };
  if (typeof model === 'string' && model.length > 0 && model.length <= 256) facts.model = model;
  if (typeof stream === 'boolean') facts.stream = stream;
  return facts;
}

/** `application/json`, `Application/JSON; charset=utf-8`, `application/vnd.x+json` (media types are case-insensitive). */
export function isJsonContentType(contentType: string | string[] | undefined): boolean {
  const type = mediaTypeOf(contentType);
  return type !== undefined && (type === MEDIA_TYPE_JSON || type.endsWith('+json'));
}

/**
 * Fails `payload` with a 408 error when no body byte arrived for `idleMs` (the timer restarts on every chunk and
 * stops at the end of the body). Returns a function that stops watching.
 *
 * The error is emitted to the body's consumers (the whole-body read, or the tap feeding the upstream request, which
 * undici then aborts: the upstream is released), not by destroying `payload`: destroying an IncomingMessage
 * destroys its socket, and the caller would get a bare close instead of the 408. `response` (the caller's) is told
 * not to keep the connection alive: a request whose body never finished leaves nothing to read the next request
 * from, and the socket is closed once the 408 is written (issue 14 row 9).
 */
export function limitBodyIdle(payload: Readable, idleMs: number, onIdle: () => void, response?: ServerResponse): () => void {
  if (idleMs <= 0 || payload.readableEnded) return () => undefined;
  let timer: NodeJS.Timeout | undefined;
  const expire = (): void => {
    stop();
    onIdle();
    if (response !== undefined) response.shouldKeepAlive = false;
    const err = new errors.CROSSTALK_ERR_REQUEST_BODY_TIMEOUT();
    payload.unpipe();
    payload.pause();
    if (payload.listenerCount('error') > 0) payload.emit('error', err);
    else payload.destroy(err);
  };
  const arm = (): void => {
    if (timer === undefined) {
      timer = setTimeout(expire, idleMs);
      timer.unref();
    } else {
      timer.refresh();
    }
  };
  const stop = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    payload.off('data', arm);
    payload.off('end', stop);
    payload.off('close', stop);
  };
  // A 'data' listener would switch the stream to flowing mode; the chunk count is read from the stream's own
  // events instead, so the stream keeps whatever consumer the caller gives it.
  payload.prependListener('data', arm);
  payload.once('end', stop);
  payload.once('close', stop);
  arm();
  return stop;
}
