import { Transform, type TransformCallback } from 'node:stream';

/**
 * The one transform every proxied response body passes through. It forwards each chunk as the same
 * Buffer object (no copy, no re-chunking), timestamps the first chunk and counts bytes; an optional
 * observer (the crosstalk inspector) sees the same chunk. Backpressure is the Transform's own.
 */
export class ResponseTap extends Transform {
  firstChunkAt: number | undefined;
  bytes = 0;

  constructor(private readonly observe?: (chunk: Buffer) => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    if (this.firstChunkAt === undefined) this.firstChunkAt = performance.now();
    this.bytes += chunk.length;
    if (this.observe) this.observe(chunk);
    callback(null, chunk);
  }
}
