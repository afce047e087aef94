/**
 * Starvation pairing (issue 13 item 6): a 200 answer with no completion content (starved) and an answer on the same
 * upstream carrying more than one completion, in flight together, flag each other; each names the other's request
 * id and gets a link to it. A starved answer alone pairs with nothing (recorded by the caller, not flagged).
 */
import type { Finding } from './detectors.js';
import type { PeerFinding } from './detection.js';
import type { DetectionStore, RecentAnswer } from './store.js';

/**
 * A starved answer and a multi-completion one pair only when they were in flight together, within this slack
 * (clock granularity, the proxy seeing ends in another order than the router wrote them).
 */
export const PAIR_SLACK_MS = 2000;

export interface Pairing {
  /** This answer's findings (one per reason). */
  findings: Finding[];
  /** The partners' findings, with this answer's link. */
  peerFindings: PeerFinding[];
  links: { requestId: string; link?: unknown }[];
}

/** Pairs `answer` (starved, or with several completions) with the recent answers on its upstream. */
export function pairStarvation(store: DetectionStore, answer: RecentAnswer): Pairing {
  const out: Pairing = { findings: [], peerFindings: [], links: [] };
  const { starved, completions } = answer;
  for (const peer of store.recentAnswers(answer.upstream, answer.startedAt - PAIR_SLACK_MS)) {
    if (peer.requestId === answer.requestId) continue;
    // The same window: both were in flight together (give or take the slack), as a misdirected reply needs.
    if (peer.startedAt > answer.endedAt + PAIR_SLACK_MS) continue;
    const pair = (starved && peer.completions > 1) || (completions > 1 && peer.starved);
    if (!pair) continue;
    out.links.push({ requestId: peer.requestId, ...(peer.link !== undefined && { link: peer.link }) });
    const mine: Finding = starved
      ? { reason: 'starved_request', evidence: { other_request_id: peer.requestId, other_completions: String(peer.completions) } }
      : { reason: 'extra_completion', evidence: { other_request_id: peer.requestId, seen: String(completions) } };
    const theirs: Finding = starved
      ? { reason: 'extra_completion', evidence: { other_request_id: answer.requestId, seen: String(peer.completions) } }
      : { reason: 'starved_request', evidence: { other_request_id: answer.requestId } };
    if (!out.findings.some((f) => f.reason === mine.reason)) out.findings.push(mine);
    out.peerFindings.push({ requestId: peer.requestId, finding: theirs, ...(answer.link !== undefined && { link: answer.link }) });
  }
  return out;
}
