/**
 * `--provider-state <file>`: what the audit remembers between runs. A `routed_sessions` row keeps only the
 * latest `provider_address` of its session id, so one snapshot cannot show that it changed; comparing the
 * live sessions' providers with the previous run's can. The file holds on-chain session ids and provider
 * addresses (public on chain), nothing else, and is replaced atomically.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from './metrics-file.js';

export const PROVIDER_STATE_FORMAT = 'crosstalk-audit-provider-state/v1';
/** Sessions remembered per database at most (a pool holds far fewer live sessions). */
export const MAX_REMEMBERED_SESSIONS = 100_000;

export interface ProviderSnapshot {
  recordedAt: string;
  /** Session id → provider address, as the last run saw them on live sessions. */
  providers: Record<string, string>;
}

interface ProviderStateFile {
  format: typeof PROVIDER_STATE_FORMAT;
  databases: Record<string, ProviderSnapshot>;
}

/** The per-database view a check gets: the previous run's providers, and where to put this run's. */
export interface ProviderMemory {
  previous: ReadonlyMap<string, string> | undefined;
  previousAt: string | undefined;
  record(current: ReadonlyMap<string, string>): void;
}

export class ProviderState {
  private readonly recorded = new Map<string, ProviderSnapshot>();

  private constructor(
    readonly path: string,
    private readonly loaded: Record<string, ProviderSnapshot>,
  ) {}

  /** Reads the file; a missing file is a first run. A file of another shape is refused, naming it. */
  static async load(path: string): Promise<ProviderState> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new ProviderState(path, {});
      throw new Error(`could not read --provider-state ${path}: ${(err as Error).message}`, { cause: err });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(`--provider-state ${path} is not JSON`, { cause: err });
    }
    const file = parsed as Partial<ProviderStateFile> | null;
    if (file?.format !== PROVIDER_STATE_FORMAT || typeof file.databases !== 'object' || file.databases === null) {
      throw new Error(`--provider-state ${path} is not a ${PROVIDER_STATE_FORMAT} file`);
    }
    return new ProviderState(path, file.databases);
  }

  /** The memory of one database (by its label). */
  memory(label: string): ProviderMemory {
    const snapshot = this.loaded[label];
    const previous =
      snapshot === undefined
        ? undefined
        : new Map(Object.entries(snapshot.providers).filter((e): e is [string, string] => typeof e[1] === 'string'));
    return {
      previous,
      previousAt: snapshot?.recordedAt,
      record: (current) => {
        const providers: Record<string, string> = {};
        let n = 0;
        for (const [id, address] of current) {
          if (n++ >= MAX_REMEMBERED_SESSIONS) break;
          providers[id] = address;
        }
        this.recorded.set(label, { recordedAt: new Date().toISOString(), providers });
      },
    };
  }

  /** Writes this run's snapshots over the previous ones; databases not recorded this run keep theirs. */
  async save(): Promise<void> {
    const databases: Record<string, ProviderSnapshot> = { ...this.loaded, ...Object.fromEntries(this.recorded) };
    const file: ProviderStateFile = { format: PROVIDER_STATE_FORMAT, databases };
    await writeFileAtomically(this.path, `${JSON.stringify(file, null, 2)}\n`);
  }
}
