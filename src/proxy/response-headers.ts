import type { IncomingHttpHeaders } from 'node:http';
import { HEADER_CONNECTION, HEADER_REQUEST_ID, HEADER_REQUEST_ID_ECHO } from '../protocol/headers.js';
import type { Finding } from '../inspect/index.js';
import { judgeEcho, type RequestContext } from './request-context.js';

/**
 * The response side's header rewriting, upstream → caller. Order matters: the upstream's own echo headers are
 * read first (before hop-by-hop stripping, which would drop an `x-request-id` its `Connection` header named),
 * then the hop-by-hop fields go, then the sidecar's own headers are set.
 */

/** Response headers that describe the upstream connection only (RFC 9110 §7.6.1); Node frames the caller's. */
const HOP_BY_HOP_RESPONSE_HEADERS = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'] as const;

export function stripHopByHopResponseHeaders(headers: IncomingHttpHeaders): void {
  const connection = headers[HEADER_CONNECTION];
  if (typeof connection === 'string') {
    // Headers the upstream named as hop-by-hop in its Connection header.
    for (const name of connection.split(',')) {
      const n = name.trim().toLowerCase();
      if (n !== '') delete headers[n];
    }
  }
  for (const name of HOP_BY_HOP_RESPONSE_HEADERS) delete headers[name];
}

/**
 * Judges the echo (one rule: request-context.ts), shows the inspector the upstream's headers as they came, strips
 * hop-by-hop fields, and sets `x-request-id` (always the sidecar's) and `x-crosstalk-request-id-echo` (the
 * verdict). Returns the finding when the echo names another request (on any route).
 */
export function rewriteResponseHeaders(
  ctx: RequestContext,
  headers: IncomingHttpHeaders,
  showInspector: (headers: IncomingHttpHeaders) => void,
): Finding | undefined {
  const finding = judgeEcho(ctx, headers[HEADER_REQUEST_ID]);
  showInspector(headers);
  stripHopByHopResponseHeaders(headers);
  headers[HEADER_REQUEST_ID] = ctx.requestId;
  headers[HEADER_REQUEST_ID_ECHO] = ctx.echo ?? 'missing';
  return finding;
}
