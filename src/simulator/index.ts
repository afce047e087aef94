/** The simulated Lumerin proxy-router: the public surface tests, benches and the demo import. */
export { startSimulatedRouter, type SimulatedRouter, type SimulatedRouterStats } from './router.js';
export {
  SIM_BUGS,
  isSimBug,
  DEFAULT_SIM_CHUNKS,
  DEFAULT_SIM_CHUNK_BYTES,
  DEFAULT_SIM_CHUNK_DELAY_MS,
  DEFAULT_SWAP_PAIR_WAIT_MS,
  type SimBug,
  type SimulatedRouterOptions,
  type ReceivedRequest,
} from './options.js';
export {
  SIM_FAULT,
  SIM_HEADER_FAULT,
  SIM_HEADER_CHUNKS,
  SIM_HEADER_CHUNK_DELAY_MS,
  SIM_HEADER_CHUNK_BYTES,
} from './faults.js';
export {
  DEFAULT_MODELS,
  DEFAULT_MODEL_NAMES,
  HEX32_PATTERN,
  makeSessions,
  modelIdFor,
  sessionIdFor,
  type SessionSpec,
  type SimModel,
} from './catalogue.js';
export { DEFAULT_SIM_AUTH, basicAuthHeader, type SimAuth } from './basic-auth.js';
export { NONCE_PATTERN, FAILOVER_LINE, NEW_SESSION_LINE_PREFIX } from './completion-chunks.js';
export type { SessionStore, SimSession, SessionState } from './sessions.js';
export { SimulatedGateway, chunkIdentity } from './gateway.js';
export type { GatewayMode, GatewayOptions, GatewayChatRequest, GatewayChatResult } from './gateway.js';
