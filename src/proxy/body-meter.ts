/** What the proxy reads off a response body once it is over. */
export interface BodyMeter {
  /** `performance.now()` when the first body byte arrived from the upstream. */
  firstChunkAt: number | undefined;
  receivedBytes: number;
}

/** A meter fed the chunks the relay writes on (no stream hop of its own). */
export class ChunkMeter implements BodyMeter {
  firstChunkAt: number | undefined;
  receivedBytes = 0;

  write(chunk: Buffer): void {
    if (this.receivedBytes === 0) this.firstChunkAt = performance.now();
    this.receivedBytes += chunk.length;
  }
}

export const NOTHING_RECEIVED: BodyMeter = Object.freeze({ firstChunkAt: undefined, receivedBytes: 0 });
