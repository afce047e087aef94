import { describe, expect, it } from 'vitest';
import { InspectorContext } from '../../src/inspect/context.js';
import type { Finding } from '../../src/inspect/detectors.js';
import { ResponseInspector, type InspectionSummary } from '../../src/inspect/response-inspector.js';
import { SseParser } from '../../src/inspect/sse-parser.js';
import {
  CONTENT_PIECES,
  MODEL_LLAMA,
  MODEL_QWEN,
  completionId,
  hex,
  randomChunks,
  rng,
  routerStream,
  sessionId,
} from './fixtures.js';

const STREAMS = 1000;
const KEYS = 120;
const MAX_CONCURRENT = 250;
const MODELS = [MODEL_LLAMA, MODEL_QWEN, 'mistralai/Mistral-Small-24B-Instruct-2501'];

interface Plan {
  requestId: string;
  key: string;
  session: string;
  drift: boolean;
  usage: boolean;
  chunks: Buffer[];
  headers: Record<string, string>;
  requestModel?: string;
}

interface Running {
  plan: Plan;
  inspector: ResponseInspector;
  parser: SseParser;
  next: number;
}

/** Spelling variants a provider and a client might use for the same model. */
function spelling(model: string, pick: number): string {
  const base = model.slice(model.indexOf('/') + 1);
  return [model, base.toLowerCase(), model.toUpperCase(), base][pick % 4] as string;
}

function plan(rand: () => number): Plan[] {
  const keys = Array.from({ length: KEYS }, (_, k) => ({
    key: `fp-${k}`,
    session: sessionId(rand),
    model: MODELS[k % MODELS.length] as string,
  }));
  return Array.from({ length: STREAMS }, (_, n) => {
    const k = keys[Math.floor(rand() * KEYS)] as (typeof keys)[number];
    const drift = rand() < 0.3;
    const usage = rand() < 0.5;
    const stableId = completionId(rand);
    const piece = () => CONTENT_PIECES[Math.floor(rand() * CONTENT_PIECES.length)] as string;
    const pieces = Array.from({ length: 2 + Math.floor(rand() * 30) }, piece);
    const text = routerStream({
      model: spelling(k.model, n % 3 === 0 ? 1 : 0),
      ids: drift ? { kind: 'drift', next: () => completionId(rand) } : { kind: 'stable', id: stableId },
      pieces,
      usage: usage ? { prompt: 10 + n, completion: pieces.length } : undefined,
      done: rand() < 0.8,
      crlf: rand() < 0.3,
      failover: rand() < 0.1 ? sessionId(rand) : undefined,
      keepAlive: rand() < 0.3,
    });
    const requestId = `req-${n}-${hex(rand, 8)}`;
    const headers: Record<string, string> = { 'content-type': 'text/event-stream', model_id: `0x${hex(rand, 64)}` };
    if (rand() < 0.6) headers['x-request-id'] = requestId;
    if (rand() < 0.3) headers.session_id = k.session;
    const p: Plan = {
      requestId,
      key: k.key,
      session: k.session,
      drift,
      usage,
      chunks: randomChunks(Buffer.from(text, 'utf8'), rand, 1 + Math.floor(rand() * 200)),
      headers,
    };
    if (rand() < 0.2) p.requestModel = spelling(k.model, 2 + (n % 2));
    return p;
  });
}

describe('1,000 clean concurrent streams', () => {
  it('raise no finding, while drift and usage are still recorded', () => {
    const rand = rng(20251124);
    const plans = plan(rand);
    const ctx = new InspectorContext();
    const findings: Finding[] = [];
    const summaries = new Map<Plan, InspectionSummary>();
    const pending = [...plans];
    const running: Running[] = [];
    let maxInflightPerKey = 0;

    while (pending.length > 0 || running.length > 0) {
      if (pending.length > 0 && ((running.length < MAX_CONCURRENT && rand() < 0.5) || running.length === 0)) {
        const p = pending.shift() as Plan;
        const inspector = new ResponseInspector(
          ctx,
          {
            requestId: p.requestId,
            sessionId: p.session,
            keyFingerprint: p.key,
            requestModel: p.requestModel,
            modelIdHeader: p.headers.model_id,
            stream: true,
          },
          (f) => findings.push(f),
        );
        maxInflightPerKey = Math.max(maxInflightPerKey, inspector.inflight.apiKey);
        inspector.checkRequest();
        inspector.onResponseHeaders(p.headers);
        const parser = new SseParser({ maxEventBytes: 64 * 1024, onEvent: (e) => inspector.onEvent(e) });
        running.push({ plan: p, inspector, parser, next: 0 });
        continue;
      }
      const idx = Math.floor(rand() * running.length);
      const r = running[idx] as Running;
      r.parser.write(r.plan.chunks[r.next++] as Buffer);
      if (r.next === r.plan.chunks.length) {
        r.parser.end();
        summaries.set(r.plan, r.inspector.finish());
        running.splice(idx, 1);
      }
    }

    expect(findings).toEqual([]);
    expect(summaries.size).toBe(STREAMS);
    expect(maxInflightPerKey).toBeGreaterThan(1); // sessions really were shared by concurrent requests
    for (const [p, s] of summaries) {
      expect(s.reasons).toEqual([]);
      expect(s.completionIdDrift).toBe(p.drift);
      expect(s.usage !== undefined).toBe(p.usage);
      expect(s.requestIdEcho).toBe(p.headers['x-request-id'] === undefined ? 'missing' : 'match');
    }
    expect(ctx.inflight.inflightForKey('fp-0')).toBe(0);

    // The same context is not blind: the sessions learned their models and the ids are remembered.
    const victim = plans[0] as Plan;
    const replayed = summaries.get(plans[1] as Plan)?.firstCompletionId as string;
    const foreign = new ResponseInspector(ctx, { requestId: 'late', sessionId: victim.session, stream: true });
    foreign.onEvent({ data: `{"id":"${replayed}","model":"some-other-model"}`, oversized: false, endOffset: 0, eof: false });
    expect(foreign.finish().reasons).toEqual(['completion_id_collision', 'model_mismatch']);
  });
});
