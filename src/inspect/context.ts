/**
 * What all inspectors of one process share: the configuration and the bounded registries.
 */
import { compileModelAliases, type ModelAliases, type SessionScope } from './detectors.js';
import { CompletionIdRegistry, InflightTracker, SessionKeyRegistry, SessionModelRegistry, type Clock } from './registries.js';
import { inspectorSettings, type InspectorSettings } from '../config/defaults.js';

export { DEFAULT_MAX_JSON_BODY_BYTES, DEFAULT_SESSION_SCOPE } from '../config/defaults.js';

/** What the detectors read on every response. */
export interface InspectorConfig {
  /** `key` (default): a session belongs to one API key; `shared`: sessions are pooled across keys by design. */
  sessionScope: SessionScope;
  /** Model name aliases, alias → canonical (`org/` prefixes and case are ignored on both sides). */
  modelAliases: Record<string, string>;
  maxEventBytes: number;
  maxJsonBodyBytes: number;
}

/**
 * The inspector's whole configuration. Every setting not given is the one default in src/config/defaults.ts
 * (the proxy passes all of them explicitly, from its resolved config).
 */
export interface InspectorContextOptions extends Partial<InspectorSettings> {
  now?: Clock;
}

export class InspectorContext {
  readonly config: Readonly<InspectorConfig>;
  /** Every setting in force, defaults filled (what `/incidents` consumers and tests can compare with). */
  readonly settings: Readonly<InspectorSettings>;
  readonly aliases: ModelAliases;
  readonly completionIds: CompletionIdRegistry;
  readonly sessionModels: SessionModelRegistry;
  readonly sessionKeys: SessionKeyRegistry;
  readonly inflight: InflightTracker;
  private serial = 0;

  constructor(options: InspectorContextOptions = {}) {
    const settings = inspectorSettings(options);
    this.settings = Object.freeze(settings);
    this.config = Object.freeze({
      sessionScope: settings.sessionScope,
      modelAliases: { ...settings.modelAliases },
      maxEventBytes: settings.maxEventBytes,
      maxJsonBodyBytes: settings.maxJsonBodyBytes,
    });
    this.aliases = compileModelAliases(this.config.modelAliases);
    const now = options.now;
    this.completionIds = new CompletionIdRegistry({
      maxEntries: settings.maxCompletionIds,
      windowMs: settings.completionIdWindowMs,
      inflightMaxAgeMs: settings.inflightMaxAgeMs,
      now,
    });
    const sessionOptions = { maxEntries: settings.maxSessions, windowMs: settings.sessionBindingWindowMs, now };
    this.sessionModels = new SessionModelRegistry(sessionOptions);
    this.sessionKeys = new SessionKeyRegistry(sessionOptions);
    this.inflight = new InflightTracker();
  }

  /** A process-unique token per inspector: request ids are not trusted to be unique. */
  nextOwner(): number {
    return ++this.serial;
  }
}
