/**
 * Sends one probe request with undici and streams its answer through the SSE parser into a {@link RequestCheck}.
 * It records what the caller saw (status, timings, failures); the check decides what the bytes mean.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapSetter,
  trace,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { request, type Dispatcher } from 'undici';
import { SseParser } from '../inspect/index.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SESSION_ID,
  CROSSTALK_API_KEY_PREFIX,
  CROSSTALK_DETECTED,
  CROSSTALK_PROBE_NONCE,
  CROSSTALK_REASONS,
  CROSSTALK_REQUEST_ID,
  CROSSTALK_REQUEST_ID_ECHO,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
} from '../telemetry/attributes.js';
import { HEADER_REQUEST_ID, HEADER_SESSION_ID, HEADER_X_SESSION_ID } from '../protocol/headers.js';
import type { ProbeRequestResult, RequestOutcome } from './result.js';
import type { ProbeConfig } from './options.js';
import { probeNonce, probePrompt, probeRequestId, type PlannedSlot } from './plan.js';
import type { ProbeVerifier, RequestCheck } from './verify.js';

const CONTENT_TYPE_SSE = 'text/event-stream';
/** Error bodies are drained up to this size and never printed. */
const MAX_ERROR_BODY_BYTES = 16 * 1024;
const propagator = new W3CTraceContextPropagator();

/** One request of the plan, with what it needs to be sent. */
export interface ProbeRequest {
  slot: PlannedSlot;
  requestId: string;
  nonce: string;
  lane: string;
  /** Raw key for this lane, if any: goes into a header and nowhere else. */
  apiKey: string | undefined;
  session: string | undefined;
}

export function buildProbeRequest(config: ProbeConfig, runId: string, slot: PlannedSlot): ProbeRequest {
  const sessions = config.sessions[slot.model];
  return {
    slot,
    requestId: probeRequestId(runId, slot.index),
    nonce: probeNonce(runId, slot.index),
    lane: config.laneLabels[slot.lane] ?? `lane-${slot.lane + 1}`,
    apiKey: config.apiKeys[slot.lane],
    session: sessions === undefined ? undefined : sessions[slot.lane % sessions.length],
  };
}

/**
 * Headers of one request. Gateway: `Authorization: Bearer <key>`. Router/sidecar: the session in `session_id`
 * and `X-Session-ID` as the gateway sends it, the router's Basic auth, and the key (if any) in the sidecar's
 * key header so the sidecar can fingerprint it.
 */
export function requestHeaders(config: ProbeConfig, req: ProbeRequest): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: CONTENT_TYPE_SSE,
    [HEADER_REQUEST_ID]: req.requestId,
  };
  if (config.mode === 'gateway') {
    if (req.apiKey !== undefined) headers.authorization = `Bearer ${req.apiKey}`;
    return headers;
  }
  if (req.session !== undefined) {
    headers[HEADER_SESSION_ID] = req.session;
    headers[HEADER_X_SESSION_ID] = req.session;
  }
  if (config.basicAuth !== undefined) {
    const { username, password } = config.basicAuth;
    headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }
  if (req.apiKey !== undefined) headers[config.apiKeyHeader] = req.apiKey;
  return headers;
}

/**
 * The body. `model` is sent to router/sidecar targets too, although the gateway strips it there and the router
 * serves the session's model: with it, the sidecar's model rule compares the answer with the model this request
 * asked for instead of the model it learned for the session, which is what a probe wants to verify.
 */
export function requestBody(config: ProbeConfig, req: ProbeRequest): string {
  return JSON.stringify({
    model: req.slot.model,
    stream: true,
    max_tokens: config.maxTokens,
    temperature: 0,
    messages: [{ role: 'user', content: probePrompt(req.nonce) }],
  });
}

export interface SendContext {
  config: ProbeConfig;
  verifier: ProbeVerifier;
  dispatcher: Dispatcher;
  /** The run's signal: aborting it marks in-flight requests `aborted`. */
  signal: AbortSignal;
  tracer?: Tracer;
}

function errorType(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.code ?? e?.cause?.code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || e?.name === 'TimeoutError') return 'timeout';
  if (typeof code === 'string' && code !== '') return code;
  return typeof e?.name === 'string' ? e.name : 'Error';
}

function startSpan(tracer: Tracer | undefined, req: ProbeRequest, headers: Record<string, string>): Span | undefined {
  if (tracer === undefined) return undefined;
  const span = tracer.startSpan(`${GEN_AI_OPERATION_NAME_VALUE_CHAT} ${req.slot.model}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_CHAT,
      [ATTR_GEN_AI_REQUEST_MODEL]: req.slot.model,
      [CROSSTALK_REQUEST_ID]: req.requestId,
      [CROSSTALK_PROBE_NONCE]: req.nonce,
      ...(req.lane.startsWith('sk-') && { [CROSSTALK_API_KEY_PREFIX]: req.lane.replace(/#\d+$/, '') }),
      ...(req.session !== undefined && { [ATTR_SESSION_ID]: req.session }),
    },
  });
  // The sidecar continues this trace: its server span becomes a child of the probe's client span.
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, defaultTextMapSetter);
  return span;
}

function endSpan(span: Span | undefined, result: ProbeRequestResult): void {
  if (span === undefined) return;
  if (result.status !== undefined) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, result.status);
  span.setAttribute(CROSSTALK_REQUEST_ID_ECHO, result.echo);
  span.setAttribute(CROSSTALK_DETECTED, result.reasons.length > 0);
  if (result.reasons.length > 0) span.setAttribute(CROSSTALK_REASONS, result.reasons);
  if (result.responseModels[0] !== undefined) span.setAttribute(ATTR_GEN_AI_RESPONSE_MODEL, result.responseModels[0]);
  if (result.completionIds[0] !== undefined) span.setAttribute(ATTR_GEN_AI_RESPONSE_ID, result.completionIds[0]);
  if (result.error !== undefined) span.setAttribute(ATTR_ERROR_TYPE, result.error);
  if (result.reasons.length > 0) span.setStatus({ code: SpanStatusCode.ERROR, message: `crosstalk: ${result.reasons.join(', ')}` });
  else if (result.outcome === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: result.error ?? 'failed' });
  span.end();
}

async function readBody(body: Dispatcher.ResponseData['body'], check: RequestCheck, contentType: string, onFirst: () => void): Promise<void> {
  if (contentType.startsWith(CONTENT_TYPE_SSE)) {
    const parser = new SseParser({ onEvent: (event) => check.onEvent(event) });
    for await (const chunk of body) {
      onFirst();
      parser.write(chunk as Buffer);
    }
    parser.end();
    return;
  }
  // Some upstreams answer a stream request with one JSON body: the same rules apply to it.
  const parts: Buffer[] = [];
  for await (const chunk of body) {
    onFirst();
    parts.push(chunk as Buffer);
  }
  check.onData(Buffer.concat(parts).toString('utf8'));
}

async function drain(body: Dispatcher.ResponseData['body']): Promise<void> {
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_ERROR_BODY_BYTES) break;
  }
  body.destroy();
}

/** Sends one request and returns what it showed; never throws. */
export async function sendProbeRequest(req: ProbeRequest, ctx: SendContext): Promise<ProbeRequestResult> {
  const { config, verifier } = ctx;
  const headers = requestHeaders(config, req);
  const span = startSpan(ctx.tracer, req, headers);
  const check = verifier.begin({
    index: req.slot.index,
    requestId: req.requestId,
    nonce: req.nonce,
    model: req.slot.model,
    ...(req.session !== undefined && { session: req.session }),
  });
  const started = performance.now();
  const startedAtMs = Date.now();
  let ttfcMs: number | undefined;
  let status: number | undefined;
  let outcome: RequestOutcome = 'ok';
  let error: string | undefined;
  let answered = false;
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(config.timeoutMs)]);
  try {
    const res = await request(config.chatUrl, {
      method: 'POST',
      headers,
      body: requestBody(config, req),
      dispatcher: ctx.dispatcher,
      signal,
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs,
    });
    status = res.statusCode;
    check.onResponseHeaders(res.headers);
    if (status < 200 || status > 299) {
      outcome = 'failed';
      error = `http_${status}`;
      await drain(res.body);
    } else {
      const contentType = String(res.headers['content-type'] ?? '');
      if (!contentType.startsWith(CONTENT_TYPE_SSE) && !contentType.includes('json')) {
        outcome = 'failed';
        error = 'unexpected_content_type';
        await drain(res.body);
      } else {
        answered = true;
        await readBody(res.body, check, contentType, () => {
          ttfcMs ??= performance.now() - started;
        });
      }
    }
  } catch (err) {
    if (ctx.signal.aborted) outcome = 'aborted';
    else {
      outcome = 'failed';
      error = status === undefined ? errorType(err) : 'stream_error';
    }
  }
  const verification = check.finish(answered);
  if (outcome === 'ok' && verification.inBandError) {
    outcome = 'failed';
    error = 'in_band_error';
  }
  if (outcome === 'ok' && verification.chunks === 0) outcome = 'empty';
  const result: ProbeRequestResult = {
    index: req.slot.index,
    requestId: req.requestId,
    ...(verification.upstreamRequestId !== undefined && { upstreamRequestId: verification.upstreamRequestId }),
    lane: req.lane,
    model: req.slot.model,
    ...(req.session !== undefined && { session: req.session }),
    outcome,
    ...(status !== undefined && { status }),
    ...(error !== undefined && { error }),
    echo: verification.echo,
    echoSource: verification.echoSource,
    completionIds: verification.completionIds,
    responseModels: verification.responseModels,
    chunks: verification.chunks,
    completions: verification.completions,
    done: verification.done,
    nonceSeen: verification.nonceSeen,
    findings: verification.findings,
    reasons: verification.reasons,
    sidecarReasons: [],
    startedAtMs,
    endedAtMs: Date.now(),
    ...(ttfcMs !== undefined && { ttfcMs: Math.round(ttfcMs * 10) / 10 }),
    totalMs: Math.round((performance.now() - started) * 10) / 10,
  };
  endSpan(span, result);
  return result;
}
