import type { ServerResponse } from 'node:http';
import type { Prng } from './prng.js';
import { DONE_DATA, rawEvent } from './completion-chunks.js';

export interface SseSinkOptions {
  eol: string;
  omitDone: boolean;
  /** When set, writes are coalesced and split at random byte boundaries drawn from this PRNG. */
  randomChunking: Prng | undefined;
}

/**
 * One client connection's event stream. Writers (stream generators) acquire it; when the last one releases it,
 * the sink writes `[DONE]` (unless the router is "older") and ends the response. Under the shared-reply bug a
 * connection has several writers — its own and the newer requests' — which is what makes it receive two replies.
 */
export class SseSink {
  #writers = 0;
  #finished = false;
  #reset = false;
  #pending: Buffer | undefined;
  readonly #closed: Promise<void>;
  readonly #onFinish: (() => void)[] = [];

  constructor(
    readonly res: ServerResponse,
    private readonly options: SseSinkOptions,
  ) {
    this.#closed = new Promise((resolve) => res.once('close', resolve));
  }

  /** The client went away, the socket was reset, or the response ended. */
  get closed(): boolean {
    return this.#reset || this.res.destroyed || this.res.writableEnded;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Resolves when the underlying response closes (client abort, reset, router shutdown, or normal end). */
  whenClosed(): Promise<void> {
    return this.#closed;
  }

  onFinish(listener: () => void): void {
    this.#onFinish.push(listener);
  }

  acquire(): void {
    this.#writers++;
  }

  release(): void {
    this.#writers--;
    if (this.#writers === 0) this.#finish();
  }

  /** Writes an event (or part of one); false means the socket buffer is full. */
  write(text: string): boolean {
    if (this.closed) return true;
    const prng = this.options.randomChunking;
    if (prng === undefined) return this.res.write(text);
    const incoming = Buffer.from(text);
    const buffered = this.#pending === undefined ? incoming : Buffer.concat([this.#pending, incoming]);
    const cut = prng.int(buffered.length + 1);
    this.#pending = cut === buffered.length ? undefined : buffered.subarray(cut);
    return cut === 0 ? true : this.res.write(buffered.subarray(0, cut));
  }

  /** Waits until the socket drains or closes. */
  drained(): Promise<void> {
    if (this.closed || !this.res.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.once('drain', done);
      this.res.once('close', done);
    });
  }

  /** Sends whatever random chunking still holds back. */
  flush(): void {
    if (this.#pending !== undefined && !this.closed) this.res.write(this.#pending);
    this.#pending = undefined;
  }

  /** Drops the connection mid-body after flushing what was written; the client sees a premature close. */
  reset(): void {
    this.flush();
    this.#reset = true;
    const socket = this.res.socket;
    if (socket === null) {
      this.res.destroy();
      return;
    }
    // end() sends a FIN after the bytes already queued, so the client reliably reads the chunks before the cut.
    socket.end();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (!this.closed) {
      if (!this.options.omitDone) this.write(rawEvent(`data: ${DONE_DATA}`, this.options.eol));
      this.flush();
      this.res.end();
    }
    for (const listener of this.#onFinish) listener();
  }
}
