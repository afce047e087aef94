import { Client, Pool, type Dispatcher } from 'undici';
import { checkRequestIdEcho } from '../inspect/detectors.js';
import { HEADER_REQUEST_ID } from '../protocol/headers.js';

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
  private readonly exchanges = new Map<string, Exchange>();
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
      factory: (o, opts) => {
        const client = new Client(o, opts);
        return client.compose((dispatch) => (dispatchOpts, handler) => this.dispatch(client, dispatch, dispatchOpts, handler));
      },
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
    const exchange = this.exchanges.get(token);
    if (!exchange) return;
    this.exchanges.delete(token);
    if (exchange.responded) return;
    exchange.cancelled = true;
    exchange.controller?.abort(new Error('the caller closed the connection before the upstream answered'));
  }

  /** Forget an exchange that is over. */
  release(token: string): void {
    this.exchanges.delete(token);
  }

  get openExchanges(): number {
    return this.exchanges.size;
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }

  private dispatch(
    client: Client,
    dispatch: Dispatcher['dispatch'],
    opts: Dispatcher.DispatchOptions,
    handler: Handler,
  ): boolean {
    const headers = opts.headers as Record<string, string | string[] | undefined> | undefined;
    const token = headers?.[HEADER_EXCHANGE_TOKEN];
    const sentId = headers?.[HEADER_REQUEST_ID];
    if (headers && token !== undefined) delete headers[HEADER_EXCHANGE_TOKEN];
    const exchange = typeof token === 'string' ? this.exchanges.get(token) : undefined;
    // A token no longer registered belongs to a request that already ended (its caller left while it waited, e.g.
    // for a session look-up): it is never sent upstream.
    const over = typeof token === 'string' && exchange === undefined;
    let foreign = false;
    const wrapped: Handler = {
      onRequestStart: (controller, context) => {
        if (exchange) {
          exchange.controller = controller;
          if (exchange.cancelled) controller.abort(new Error('cancelled'));
        }
        handler.onRequestStart?.(controller, context);
        if (over) controller.abort(new Error('the caller left before the request was sent upstream'));
      },
      onRequestUpgrade: (controller, statusCode, h, socket) => handler.onRequestUpgrade?.(controller, statusCode, h, socket),
      onResponseStart: (controller, statusCode, h, statusMessage) => {
        if (exchange) exchange.responded = true;
        const echoed = h[HEADER_REQUEST_ID];
        if (typeof sentId === 'string' && echoed !== undefined) {
          const seen = Array.isArray(echoed) ? echoed.join(', ') : echoed;
          foreign = checkRequestIdEcho(sentId, seen).echo === 'mismatch';
        }
        handler.onResponseStart?.(controller, statusCode, h, statusMessage);
      },
      onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
      onResponseEnd: (controller, trailers) => {
        if (foreign) {
          this.retiredConnections++;
          retireSocketOf(client);
        }
        handler.onResponseEnd?.(controller, trailers);
      },
      onResponseError: (controller, err) => handler.onResponseError?.(controller, err),
    };
    return dispatch(opts, wrapped);
  }
}
