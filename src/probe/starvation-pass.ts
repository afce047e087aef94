/**
 * The sidecar's starvation rule applied to the probe's own run (issue 13 item 6): an empty 200 answer and an answer
 * carrying several completions, in flight together on the same target, flag each other. The pairing is the
 * sidecar's ({@link pairStarvation}, the same slack and store window); "starved" and "several completions" are
 * counted by the same {@link AnswerTally}. An empty answer alone pairs with nothing and stays unverified.
 */
import { pairStarvation } from '../inspect/starvation.js';
import { MemoryDetectionStore, type RecentAnswer } from '../inspect/store.js';
import type { Finding } from '../inspect/detectors.js';
import type { ProbeRequestResult } from './result.js';

/** Adds `starved_request` / `extra_completion` findings to the results they pair (in place). */
export function pairStarvedRequests(results: ProbeRequestResult[], target: string): void {
  let now = 0;
  const store = new MemoryDetectionStore({ now: () => now });
  const byId = new Map(results.map((r) => [r.requestId, r]));
  const answered = results
    .filter((r) => r.status === 200 && (r.outcome === 'ok' || r.outcome === 'empty'))
    .sort((a, b) => a.endedAtMs - b.endedAtMs);
  for (const r of answered) {
    const starved = r.outcome === 'empty';
    if (!starved && r.completions <= 1) continue;
    now = r.endedAtMs;
    const answer: RecentAnswer = {
      requestId: r.requestId,
      upstream: target,
      startedAt: r.startedAtMs,
      endedAt: r.endedAtMs,
      starved,
      completions: r.completions,
    };
    const paired = pairStarvation(store, answer);
    for (const f of paired.findings) add(r, f);
    for (const peer of paired.peerFindings) {
      const other = byId.get(peer.requestId);
      if (other !== undefined) add(other, peer.finding);
    }
    store.addAnswer(answer);
  }
}

function add(r: ProbeRequestResult, finding: Finding): void {
  if (r.findings.some((f) => f.reason === finding.reason)) return;
  r.findings.push({ reason: finding.reason, evidence: { ...finding.evidence } });
  if (!r.reasons.includes(finding.reason)) r.reasons.push(finding.reason);
}
