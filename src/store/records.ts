/**
 * The records replicas exchange through the shared store (issue 17): the detection store's own writes
 * (`StoreWrite`) plus the live-id claims a shared store adds, in batches tagged with the writing replica.
 *
 * Everything read back from Redis is untrusted: {@link decodeBatch} validates every field, copies only the known
 * ones, and drops what does not fit — a Redis that answers garbage costs a counted rejection, never a crash.
 * Records hold ids, hashes and names only, never content or a credential.
 */
import type { DeliveredOwner } from '../inspect/completion-id-window.js';
import type { SessionBinding, StoreWrite } from '../inspect/store.js';

/** A live stream's ids, claimed by a request in flight on the writing replica. */
export interface LiveWrite {
  op: 'live';
  ids: string[];
  owner: DeliveredOwner;
}

export type SharedWrite = StoreWrite | LiveWrite;

/** One XADD entry: a replica's writes since its last flush. */
export interface SharedBatch {
  replica: string;
  writes: SharedWrite[];
}

/** Batch format version, stored in each entry (`v`). */
export const BATCH_VERSION = '1';
/** Longest string accepted in a remote record (ids, hashes, names, request ids). */
export const MAX_FIELD_CHARS = 512;
/** Ids accepted per remote record (a request tracks at most 1024 by default). */
export const MAX_IDS_PER_RECORD = 4096;
/** Writes accepted per remote batch. */
export const MAX_WRITES_PER_BATCH = 100_000;
/** Bytes accepted per remote batch's JSON. */
export const MAX_BATCH_BYTES = 16 * 1024 * 1024;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_FIELD_CHARS ? v : undefined;
}

/** An optional string field: absent is fine, present must be valid (else the record is rejected). */
function optStr(o: Obj, k: string): { ok: boolean; value?: string } {
  if (o[k] === undefined) return { ok: true };
  const value = str(o[k]);
  return value === undefined ? { ok: false } : { ok: true, value };
}

/** A span reference as {@link DeliveredOwner.trace} holds it: 32 hex, a dash, 16 hex (a fixed pattern, not data). */
const TRACE_REF = /^[0-9a-f]{32}-[0-9a-f]{16}$/;

/** `<traceId>-<spanId>` of a span context, for {@link DeliveredOwner.trace}. */
export function traceRef(traceId: string, spanId: string): string {
  return `${traceId}-${spanId}`;
}

/** The trace and span id of a {@link traceRef}, or undefined when it is not one. */
export function parseTraceRef(ref: string | undefined): { traceId: string; spanId: string } | undefined {
  if (ref === undefined || !TRACE_REF.test(ref)) return undefined;
  return { traceId: ref.slice(0, 32), spanId: ref.slice(33) };
}

function owner(v: unknown): DeliveredOwner | undefined {
  if (!isObj(v)) return undefined;
  const requestId = str(v.requestId);
  if (requestId === undefined) return undefined;
  const out: DeliveredOwner = { requestId };
  for (const k of ['key', 'session', 'model'] as const) {
    const f = optStr(v, k);
    if (!f.ok) return undefined;
    if (f.value !== undefined) out[k] = f.value;
  }
  if (v.trace !== undefined) {
    if (typeof v.trace !== 'string' || parseTraceRef(v.trace) === undefined) return undefined;
    out.trace = v.trace;
  }
  return out;
}

function ids(v: unknown): string[] | undefined {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_IDS_PER_RECORD) return undefined;
  const out: string[] = [];
  for (const id of v) {
    const s = str(id);
    if (s === undefined) return undefined;
    out.push(s);
  }
  return out;
}

const SOURCES = new Set(['open', 'lookup', 'bid']);

function binding(v: unknown): SessionBinding | undefined {
  if (!isObj(v)) return undefined;
  const out: SessionBinding = {};
  for (const k of ['modelId', 'provider', 'bidId', 'key'] as const) {
    const f = optStr(v, k);
    if (!f.ok) return undefined;
    if (f.value !== undefined) out[k] = f.value;
  }
  if (v.source !== undefined) {
    if (typeof v.source !== 'string' || !SOURCES.has(v.source)) return undefined;
    out.source = v.source as 'open' | 'lookup' | 'bid';
  }
  if (v.closed !== undefined) {
    if (typeof v.closed !== 'boolean') return undefined;
    out.closed = v.closed;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** One remote write, validated and copied field by field; undefined when anything does not fit. */
export function validateWrite(v: unknown): SharedWrite | undefined {
  if (!isObj(v)) return undefined;
  switch (v.op) {
    case 'session': {
      const session = str(v.session);
      const b = binding(v.binding);
      return session === undefined || b === undefined ? undefined : { op: 'session', session, binding: b };
    }
    case 'bid': {
      const bidId = str(v.bidId);
      const modelId = str(v.modelId);
      const provider = optStr(v, 'provider');
      if (bidId === undefined || modelId === undefined || !provider.ok) return undefined;
      return provider.value === undefined ? { op: 'bid', bidId, modelId } : { op: 'bid', bidId, modelId, provider: provider.value };
    }
    case 'delivered':
    case 'live': {
      const list = ids(v.ids);
      const o = owner(v.owner);
      return list === undefined || o === undefined ? undefined : { op: v.op, ids: list, owner: o };
    }
    case 'name_vote': {
      const modelId = str(v.modelId);
      const name = str(v.name);
      const provider = optStr(v, 'provider');
      const vote = v.vote;
      if (modelId === undefined || name === undefined || !provider.ok || !isObj(vote)) return undefined;
      const requestId = str(vote.requestId);
      const session = str(vote.session);
      if (requestId === undefined || session === undefined) return undefined;
      const out: SharedWrite = { op: 'name_vote', modelId, name, vote: { requestId, session } };
      if (provider.value !== undefined) out.provider = provider.value;
      return out;
    }
    case 'id_habit': {
      const upstream = str(v.upstream);
      const o = v.observation;
      if (upstream === undefined || !isObj(o)) return undefined;
      const { drifted, reused, counterLike } = o;
      if (typeof drifted !== 'boolean' || typeof reused !== 'boolean' || typeof counterLike !== 'boolean') return undefined;
      return { op: 'id_habit', upstream, observation: { drifted, reused, counterLike } };
    }
    default:
      return undefined;
  }
}

/** The fields of one XADD entry. */
export function encodeBatch(batch: SharedBatch): string[] {
  return ['v', BATCH_VERSION, 'r', batch.replica, 'w', JSON.stringify(batch.writes)];
}

export interface DecodedBatch {
  batch?: SharedBatch;
  /** Records (or whole entries) that did not validate. */
  rejected: number;
}

/** One XREAD entry's flat field list, validated; unknown versions and garbage are rejected, never thrown. */
export function decodeBatch(fields: unknown): DecodedBatch {
  if (!Array.isArray(fields)) return { rejected: 1 };
  const map = new Map<string, unknown>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(String(fields[i]), fields[i + 1]);
  const replica = str(map.get('r'));
  const raw = map.get('w');
  if (map.get('v') !== BATCH_VERSION || replica === undefined || typeof raw !== 'string' || raw.length > MAX_BATCH_BYTES) {
    return { rejected: 1 };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { rejected: 1 };
  }
  if (!Array.isArray(parsed) || parsed.length > MAX_WRITES_PER_BATCH) return { rejected: 1 };
  const writes: SharedWrite[] = [];
  let rejected = 0;
  for (const item of parsed) {
    const w = validateWrite(item);
    if (w === undefined) rejected++;
    else writes.push(w);
  }
  return { batch: { replica, writes }, rejected };
}
