/**
 * What all inspectors of one process share: the configuration and the bounded registries.
 */
import { compileModelAliases, type ModelAliases, type SessionScope } from './detectors.js';
import {
  CompletionIdRegistry,
  InflightTracker,
  SessionKeyRegistry,
  SessionModelRegistry,
  type Clock,
  DEFAULT_COMPLETION_ID_WINDOW_MS,
  DEFAULT_INFLIGHT_MAX_AGE_MS,
  DEFAULT_MAX_ENTRIES,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_SESSION_BINDING_WINDOW_MS,
} from './registries.js';
import { DEFAULT_MAX_EVENT_BYTES } from './sse-parser.js';

/** Non-streamed JSON bodies larger than this are forwarded uninspected. */
export const DEFAULT_MAX_JSON_BODY_BYTES = 2 * 1024 * 1024;
export const DEFAULT_SESSION_SCOPE: SessionScope = 'key';

export interface InspectorConfig {
  /** `key` (default): a session belongs to one API key; `shared`: sessions are pooled across keys by design. */
  sessionScope: SessionScope;
  /** Model name aliases, alias → canonical (`org/` prefixes and case are ignored on both sides). */
  modelAliases: Record<string, string>;
  maxEventBytes: number;
  maxJsonBodyBytes: number;
}

export interface InspectorContextOptions extends Partial<InspectorConfig> {
  now?: Clock;
  /** Completion ids held at most. */
  maxCompletionIds?: number;
  completionIdWindowMs?: number;
  inflightMaxAgeMs?: number;
  /** Sessions held at most (each of the session registries). */
  maxSessions?: number;
  sessionBindingWindowMs?: number;
}

export class InspectorContext {
  readonly config: Readonly<InspectorConfig>;
  readonly aliases: ModelAliases;
  readonly completionIds: CompletionIdRegistry;
  readonly sessionModels: SessionModelRegistry;
  readonly sessionKeys: SessionKeyRegistry;
  readonly inflight: InflightTracker;
  private serial = 0;

  constructor(options: InspectorContextOptions = {}) {
    this.config = Object.freeze({
      sessionScope: options.sessionScope ?? DEFAULT_SESSION_SCOPE,
      modelAliases: { ...options.modelAliases },
      maxEventBytes: options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES,
      maxJsonBodyBytes: options.maxJsonBodyBytes ?? DEFAULT_MAX_JSON_BODY_BYTES,
    });
    this.aliases = compileModelAliases(this.config.modelAliases);
    const now = options.now;
    this.completionIds = new CompletionIdRegistry({
      maxEntries: options.maxCompletionIds ?? DEFAULT_MAX_ENTRIES,
      windowMs: options.completionIdWindowMs ?? DEFAULT_COMPLETION_ID_WINDOW_MS,
      inflightMaxAgeMs: options.inflightMaxAgeMs ?? DEFAULT_INFLIGHT_MAX_AGE_MS,
      now,
    });
    const sessionOptions = {
      maxEntries: options.maxSessions ?? DEFAULT_MAX_SESSIONS,
      windowMs: options.sessionBindingWindowMs ?? DEFAULT_SESSION_BINDING_WINDOW_MS,
      now,
    };
    this.sessionModels = new SessionModelRegistry(sessionOptions);
    this.sessionKeys = new SessionKeyRegistry(sessionOptions);
    this.inflight = new InflightTracker();
  }

  /** A process-unique token per inspector: request ids are not trusted to be unique. */
  nextOwner(): number {
    return ++this.serial;
  }
}
