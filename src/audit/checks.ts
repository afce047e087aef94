/**
 * Every check, in report order: the seed's four first, in its numbering, then the 2025 `sessions` checks that
 * can fail, then today's `routed_sessions` pool. Each file holds one schema's checks; check-kit.ts the shape
 * they share.
 */
import { activeKeyIndex } from './check-active-key-index.js';
import type { AuditCheck } from './check-kit.js';
import {
  routedConcurrentRequests,
  routedModelIdentity,
  routedNegativeRequests,
  routedOpenExpired,
  routedProviderChange,
  routedProviderIdentity,
  routedTerminalBusy,
} from './checks-routed.js';
import { activeSummary, multipleActivePerKey, recentSessions, sharedAcrossKeys } from './checks-seed.js';
import { activeWithoutKey, ownerMismatch, sessionChurn, staleActive } from './checks-sessions.js';

export const AUDIT_CHECKS: readonly AuditCheck[] = [
  sharedAcrossKeys,
  activeSummary,
  multipleActivePerKey,
  recentSessions,
  activeKeyIndex,
  ownerMismatch,
  activeWithoutKey,
  staleActive,
  sessionChurn,
  routedConcurrentRequests,
  routedNegativeRequests,
  routedTerminalBusy,
  routedOpenExpired,
  routedModelIdentity,
  routedProviderIdentity,
  routedProviderChange,
];
