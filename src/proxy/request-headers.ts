import type { IncomingHttpHeaders } from 'node:http';
import { defaultTextMapSetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { HEADER_REQUEST_ID, HEADER_TRACEPARENT } from '../protocol/headers.js';
import type { RequestContext } from './request-context.js';
import { HEADER_EXCHANGE_TOKEN } from './upstream-pool.js';

/**
 * The request side's header rewriting, caller → upstream. Hop-by-hop fields stay on the caller's hop (RFC 9110
 * §7.6.1; reply-from already drops `connection`, the names it lists, and `transfer-encoding`; `expect` was answered
 * by Node's server with 100 Continue, and undici refuses all of these outright).
 */
const HOP_BY_HOP_REQUEST_HEADERS = ['keep-alive', 'proxy-connection', 'upgrade', 'te', 'expect'] as const;

const propagator = new W3CTraceContextPropagator();

export function rewriteRequestHeaders(ctx: RequestContext, headers: IncomingHttpHeaders): IncomingHttpHeaders {
  for (const name of HOP_BY_HOP_REQUEST_HEADERS) delete headers[name];
  headers[HEADER_REQUEST_ID] = ctx.requestId;
  // Our span is the upstream call's parent: replace the caller's traceparent/tracestate with ours.
  delete headers[HEADER_TRACEPARENT];
  delete headers.tracestate;
  propagator.inject(ctx.context, headers, defaultTextMapSetter);
  // Read (and removed) by the upstream pool: lets a caller who leaves cancel this exchange.
  if (ctx.exchange !== undefined) headers[HEADER_EXCHANGE_TOKEN] = ctx.exchange;
  return headers;
}
