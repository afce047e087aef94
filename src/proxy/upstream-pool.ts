import type { Duplex } from 'node:stream';
import { Client, Pool, type Dispatcher } from 'undici';
import { checkRequestIdEcho } from '../inspect/detectors.js';
import { HEADER_REQUEST_ID } from '../protocol/headers.js';
import { InFlightIndex } from './in-flight-index.js';

/**
 * The connection pool to the upstream, and the one place that sees each upstream exchange at the socket level.
 *
 * - Cancel: every exchange registers under the token the proxy put in an internal header, so a caller who leaves
 *   before the upstream answered cancels the upstream request at once (reply-from offers no abort of its own).
 * - Retire: a response whose `x-request-id` names another request arrived on a connection whose byte stream is no
 *   longer this request's (an unsolicited response on a kept-alive socket is the shape). Such a connection is
 *   destroyed once the response ends and never carries another request.
 */

/** Internal header carrying the proxy's exchange token; removed before the request leaves the process. */
export const HEADER_EXCHANGE_TOKEN = 'x-crosstalk-exchange';

export interface PoolOptions {
  headersTimeoutMs: number;
  /** undici's bodyTimeout is the gap between two body chunks, i.e. an idle timeout, not a total one. */
  idleTimeoutMs: number;
  connectTimeoutMs: number;
}

interface Exchange {
  controller?: Dispatcher.DispatchController;
  /** The callback API's abort (see {@link ExchangeCallbacks}). */
  abort?: (err?: Error) => void;
  responded: boolean;
  cancelled: boolean;
}

type Handler = Dispatcher.DispatchHandler;

/**
 * undici keeps a socket flagged `reset` out of the pool once its running request completes (client-h1
 * `onMessageComplete`). The flag is undici's own symbol on the socket; `upstream-connection-retired.test.ts`
 * guards that this still retires the connection.
 */
function retireSocketOf(client: Client): void {
  const own = (target: object, description: string): symbol | undefined =>
    Object.getOwnPropertySymbols(target).find((s) => s.description === description);
  const kSocket = own(client, 'socket');
  const socket = kSocket === undefined ? undefined : (client as unknown as Record<symbol, object | null>)[kSocket];
  if (!socket) return;
  const kReset = own(socket, 'reset');
  if (kReset !== undefined) (socket as Record<symbol, unknown>)[kReset] = true;
  else (socket as { destroy?: () => void }).destroy?.();
}

export class UpstreamPool {
  readonly dispatcher: Pool;
  /** By token; an InFlightIndex, since a record reaches its request (undici's abort closure and controller). */
  private readonly exchanges = new InFlightIndex<string, Exchange>();
  private serial = 0;
  /** Connections retired because they delivered a response naming another request. */
  retiredConnections = 0;

  constructor(origin: string, options: PoolOptions) {
    this.dispatcher = new Pool(origin, {
      // No artificial cap: 1,000 concurrent streams must not queue behind 128 sockets.
      connections: null,
      pipelining: 1,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.idleTimeoutMs,
      connectTimeout: options.connectTimeoutMs,
      // A sidecar verifies its upstream's certificate (reply-from's own default would not).
      connect: { rejectUnauthorized: true },
      // A Client whose dispatch wraps each handler itself. Not `client.compose()`: a composed dispatcher converts
      // every handler to the controller API and back (headers parsed to an object and re-serialised, two extra
      // calls per chunk) and answers every property read through a Proxy trap — a per-request cost the bench showed.
      factory: (o, opts) => new ExchangeClient(o, opts, this),
    });
  }

  /** A token for one exchange; put it in {@link HEADER_EXCHANGE_TOKEN}. */
  open(): string {
    const token = (++this.serial).toString(36);
    this.exchanges.set(token, { responded: false, cancelled: false });
    return token;
  }

  /** The caller left: cancel the upstream request if its response has not started (no-op afterwards). */
  cancel(token: string): void {
    const exchange = this.exchanges.take(token);
    if (!exchange || exchange.responded) return;
    exchange.cancelled = true;
    const err = new Error('the caller closed the connection before the upstream answered');
    if (exchange.controller !== undefined) exchange.controller.abort(err);
    else exchange.abort?.(err);
  }

  /** Forget an exchange that is over. */
  release(token: string): void {
    this.exchanges.take(token);
  }

  get openExchanges(): number {
    return this.exchanges.size;
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }

  /** The handler `client` runs for one upstream exchange: the caller's own, wrapped for cancel and retire. */
  wrap(client: Client, opts: Dispatcher.DispatchOptions, handler: Handler): Handler {
    const headers = opts.headers as Record<string, string | string[] | undefined> | undefined;
    const token = headers?.[HEADER_EXCHANGE_TOKEN];
    const sent = headers?.[HEADER_REQUEST_ID];
    if (headers && token !== undefined) delete headers[HEADER_EXCHANGE_TOKEN];
    const exchange = typeof token === 'string' ? this.exchanges.get(token) : undefined;
    // A token no longer registered belongs to a request that already ended (its caller left while it waited, e.g.
    // for a session look-up): it is never sent upstream.
    const over = typeof token === 'string' && exchange === undefined;
    const watch = new ExchangeWatch(exchange, over, typeof sent === 'string' ? sent : undefined, () => {
      this.retiredConnections++;
      retireSocketOf(client);
    });
    // The callback API (what undici's own request() handler, and so reply-from's, implements) is wrapped in kind;
    // a handler of the controller API gets the controller-API wrapper.
    if (handler.onRequestStart === undefined) return new ExchangeCallbacks(handler, watch);
    return controllerWrapper(handler, watch);
  }
}

/** A Client that wraps every handler it is given with its pool's exchange bookkeeping. */
class ExchangeClient extends Client {
  constructor(
    origin: string | URL,
    options: Client.Options,
    private readonly exchanges: UpstreamPool,
  ) {
    super(origin, options);
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Handler): boolean {
    return super.dispatch(opts, this.exchanges.wrap(this, opts, handler));
  }
}

/** The upstream's `x-request-id` values in raw headers (name, value, name, value…), joined as Node joins them. */
function echoedRequestId(raw: readonly (Buffer | string)[]): string | undefined {
  let seen: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as Buffer | string;
    if (name.length !== HEADER_REQUEST_ID.length || name.toString('latin1').toLowerCase() !== HEADER_REQUEST_ID) continue;
    const value = (raw[i + 1] as Buffer | string).toString('latin1');
    seen = seen === undefined ? value : `${seen}, ${value}`;
  }
  return seen;
}

/** What the pool notes about one exchange, whichever handler API carries it: cancel, stale token, foreign echo. */
class ExchangeWatch {
  private foreign = false;

  constructor(
    private readonly exchange: Exchange | undefined,
    /** The token is no longer registered: the caller already left. */
    private readonly over: boolean,
    private readonly sentId: string | undefined,
    private readonly retire: () => void,
  ) {}

  /** The request is about to go out: remember how to abort it, and abort it if its caller left already. */
  started(abort: (err: Error) => void): void {
    if (this.exchange?.cancelled) abort(new Error('cancelled'));
    if (this.over) abort(new Error('the caller left before the request was sent upstream'));
  }

  /** The response's head: the exchange can no longer be cancelled; an echo naming another request marks the socket. */
  responded(echoed: string | undefined): void {
    if (this.exchange) this.exchange.responded = true;
    if (this.sentId !== undefined && echoed !== undefined) this.foreign = checkRequestIdEcho(this.sentId, echoed).echo === 'mismatch';
  }

  /** The response ended: a connection that carried another request's bytes is retired. */
  ended(): void {
    if (this.foreign) this.retire();
  }

  set abort(abort: (err?: Error) => void) {
    if (this.exchange) this.exchange.abort = abort;
  }

  set controller(controller: Dispatcher.DispatchController) {
    if (this.exchange) this.exchange.controller = controller;
  }
}

/** One exchange in the callback API: forwards every call to the caller's handler, and tells the watch. */
class ExchangeCallbacks implements Handler {
  constructor(
    private readonly inner: Handler,
    private readonly watch: ExchangeWatch,
  ) {}

  onConnect(abort: (err?: Error) => void, context?: unknown): void {
    this.watch.abort = abort;
    (this.inner.onConnect as ((abort: (err?: Error) => void, context?: unknown) => void) | undefined)?.call(this.inner, abort, context);
    this.watch.started(abort);
  }

  onResponseStarted(): void {
    this.inner.onResponseStarted?.();
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    // 1xx heads are informational: the response's own head comes after them.
    if (statusCode >= 200) this.watch.responded(echoedRequestId(headers));
    return this.inner.onHeaders?.(statusCode, headers, resume, statusText) ?? true;
  }

  onData(chunk: Buffer): boolean {
    return this.inner.onData?.(chunk) ?? true;
  }

  onComplete(trailers: string[] | null): void {
    this.watch.ended();
    this.inner.onComplete?.(trailers);
  }

  onError(err: Error): void {
    this.inner.onError?.(err);
  }

  onUpgrade(statusCode: number, headers: Buffer[] | string[] | null, socket: Duplex): void {
    this.inner.onUpgrade?.(statusCode, headers, socket);
  }

  onBodySent(chunkSize: number, totalBytesSent: number): void {
    this.inner.onBodySent?.(chunkSize, totalBytesSent);
  }

  onRequestSent(): void {
    (this.inner as { onRequestSent?: () => void }).onRequestSent?.();
  }
}

/** The same for a handler of the controller API. */
function controllerWrapper(handler: Handler, watch: ExchangeWatch): Handler {
  return {
    onRequestStart: (controller, context) => {
      watch.controller = controller;
      handler.onRequestStart?.(controller, context);
      watch.started((err) => controller.abort(err));
    },
    onRequestUpgrade: (controller, statusCode, h, socket) => handler.onRequestUpgrade?.(controller, statusCode, h, socket),
    onResponseStart: (controller, statusCode, h, statusMessage) => {
      const echoed = h[HEADER_REQUEST_ID];
      watch.responded(Array.isArray(echoed) ? echoed.join(', ') : echoed);
      handler.onResponseStart?.(controller, statusCode, h, statusMessage);
    },
    onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
    onResponseEnd: (controller, trailers) => {
      watch.ended();
      handler.onResponseEnd?.(controller, trailers);
    },
    onResponseError: (controller, err) => handler.onResponseError?.(controller, err),
  };
}
