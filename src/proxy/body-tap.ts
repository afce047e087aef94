import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { errors } from '../errors.js';

export interface RequestBodyFacts {
  /** The body's top-level `model` field, when the body is a JSON object naming one. */
  model?: string;
  /** The body's top-level `stream` flag. */
  stream?: boolean;
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
  const facts: RequestBodyFacts = {};
  if (typeof model === 'string' && model.length > 0 && model.length <= 256) facts.model = model;
  if (typeof stream === 'boolean') facts.stream = stream;
  return facts;
}

export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json');
}
