import type { Context, Span } from '@opentelemetry/api';
import type { ResponseInspector } from '../inspect/index.js';
import type { ApiKeyIdentity } from './api-key.js';
import type { BodyMeter } from './body-meter.js';

/** Per-request state lives behind a symbol on the fastify request (fastify `lib/symbols.js` style). */
export const kRequestState = Symbol('crosstalk.requestState');

export type StreamEndReason =
  | 'complete'
  | 'client_aborted'
  | 'upstream_reset'
  | 'upstream_idle_timeout'
  | 'upstream_error'
  | 'blocked'
  | 'shutdown';

export interface RequestState {
  /** `performance.now()` at the start of the request. */
  startedAt: number;
  requestId: string;
  requestIdRejected: boolean;
  method: string;
  /** Path without query. */
  path: string;
  /** Low-cardinality route template for span names and metric labels. */
  route: string;
  isChat: boolean;
  span: Span;
  /** Context holding `span`, for propagation upstream. */
  context: Context;
  sessionId?: string;
  modelIdHeader?: string;
  apiKey?: ApiKeyIdentity;
  apiKeyId?: string;
  /** From the JSON body, once the body has been read. */
  requestModel?: string;
  requestStream?: boolean;
  /** A small JSON request body read whole (see the preParsing hook): forwarded as these bytes. */
  requestBody?: Buffer;
  /** What the upstream's `x-request-id` response header said, if anything. */
  upstreamRequestIdEcho?: string;
  upstreamStatus?: number;
  /** The response body's meter (first-chunk time, bytes), once the upstream answered. */
  meter?: BodyMeter;
  endReason?: StreamEndReason;
  errorType?: string;
  inflightApiKey: number;
  inflightSession: number;
  /** The crosstalk inspector for chat completions (undefined for other routes). */
  inspector?: ResponseInspector;
  /** Block mode stopped (or replaced) this response. */
  blocked?: boolean;
  ended: boolean;
}
