import { expect, it, onTestFinished } from 'vitest';
import { SimulatedGateway, startSimulatedRouter } from '../../src/simulator/index.js';
import { createPrng } from '../../src/simulator/prng.js';
import { nonceBody, replay, type Exchange } from './replay.js';

const MODELS = ['llama-3.3-70b', 'qwen3-235b', 'mistral-31-24b'];

// Issue 13's second measurement, at the inspector level: the newer gateway (pooled sessions, shared across users)
// in front of a router with the `shared-reply` bug (PR #561). The requests that received several answers AND the
// requests that received nothing ("connections never receiving responses") are flagged; no request that got its
// own answer is.
it('router bug shared-reply behind the pooled gateway: recipients and starved requests flagged, no innocent', async () => {
  const router = await startSimulatedRouter({ seed: 31, chunks: 8, chunkDelayMs: 3 });
  onTestFinished(() => router.close());
  const gateway = new SimulatedGateway({ baseUrl: router.url, mode: 'pooled', auth: router.auth });
  const prng = createPrng(31);
  const exchanges: Exchange[] = [];
  let n = 0;
  const one = async (user: number, model: string): Promise<void> => {
    const nonce = `n${++n}x${prng.hex(6)}`;
    const requestId = `req-${n}`;
    const body = nonceBody(nonce, 60);
    const result = await gateway.chat({ apiKey: `sk-user0${user}.${'1'.repeat(64)}`, model, body, headers: { 'x-request-id': requestId } });
    exchanges.push({ requestId, nonce, model, body, result });
  };
  // Clean warm-up, two at a time so the pool holds two sessions per model.
  for (const model of MODELS) for (let i = 0; i < 3; i++) await Promise.all([one(0, model), one(1, model)]);
  router.setBug('shared-reply');
  await Promise.all(
    [1, 2, 3, 4, 5].map(async (user) => {
      for (let i = 0; i < 4; i++) await one(user, MODELS[Math.floor(prng.next() * 3)] as string);
    }),
  );
  const outcomes = replay(gateway, exchanges, 'shared');
  const victims = outcomes.filter((o) => o.victim);
  const starved = victims.filter((o) => o.starved);
  const recipients = victims.filter((o) => !o.starved);
  const innocents = outcomes.filter((o) => !o.victim);
  const figures = {
    requests: outcomes.length,
    recipients: `${recipients.filter((o) => o.flaggedBy.length > 0).length}/${recipients.length}`,
    starved: `${starved.filter((o) => o.flaggedBy.length > 0).length}/${starved.length}`,
    innocentsFlagged: `${innocents.filter((o) => o.flaggedBy.length > 0).length}/${innocents.length}`,
  };
  console.log('shared-reply / pooled gateway', JSON.stringify(figures));
  expect(starved.length).toBeGreaterThan(0);
  expect(victims.filter((o) => o.flaggedBy.length === 0).map((o) => `${o.exchange.requestId}${o.starved ? ':starved' : ''}`)).toEqual([]);
  expect(innocents.filter((o) => o.flaggedBy.length > 0).map((o) => `${o.exchange.requestId}:${o.flaggedBy.join('+')}`)).toEqual([]);
  // Each starved request is paired with the request that received its answer (among the ones it is linked to).
  const pairs = new Map<string, Set<string>>();
  const pair = (a: string, b: string) => pairs.set(a, (pairs.get(a) ?? new Set()).add(b));
  for (const o of outcomes) {
    for (const f of o.summary.findings) {
      if (f.evidence.other_request_id !== undefined) pair(o.exchange.requestId, String(f.evidence.other_request_id));
    }
    for (const p of o.summary.detection?.peerFindings ?? []) {
      if (p.finding.evidence.other_request_id !== undefined) pair(p.requestId, String(p.finding.evidence.other_request_id));
    }
    // Every pairing is a span link (the evidence names the first).
    for (const l of o.summary.detection?.links ?? []) pair(o.exchange.requestId, l.requestId);
  }
  for (const o of starved) {
    const holder = outcomes.find((p) => p.exchange.result.body.includes(`nonce:${o.exchange.nonce}`));
    expect(holder).toBeDefined();
    expect([...(pairs.get(o.exchange.requestId) ?? [])]).toContain(holder?.exchange.requestId);
  }
});
