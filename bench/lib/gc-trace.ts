/**
 * `npm run bench -- --gc`: the node proxies run with V8's `--trace-gc-nvp`, and their stdout's scavenge lines are
 * tallied per measured window: how many, their pauses, and what they copied and promoted.
 *
 * Why: CPU seconds on a shared VM move by tens of percent between runs, while what a proxy promotes per request
 * is a property of its code. It found a request's whole object graph being promoted on every request (an ended
 * upstream exchange kept undici's abort closure, see src/proxy/in-flight-index.ts): 2.2 MB promoted per
 * scavenge against bare http-proxy's 0.0, and scavenges three times as long.
 */

/** Scavenges seen so far (a tally is cumulative; subtract two to get a window's). */
export interface ScavengeTally {
  scavenges: number;
  pauseMs: number;
  /** Bytes moved to the old generation (objects that survived two scavenges). */
  promotedBytes: number;
  /** Bytes copied within the young generation (alive at one scavenge). */
  survivedBytes: number;
}

export const NO_SCAVENGES: ScavengeTally = Object.freeze({ scavenges: 0, pauseMs: 0, promotedBytes: 0, survivedBytes: 0 });

/** A line V8's GC tracing writes to stdout (`[pid:0xisolate] 1234 ms: …`), never a helper's ready line. */
export function isV8TraceLine(line: string): boolean {
  return /^\[\d+:0x[0-9a-f]+\]/.test(line);
}

/** The numbers of one `--trace-gc-nvp` scavenge line (`gc=s`), else undefined. */
export function parseScavengeLine(line: string): ScavengeTally | undefined {
  if (!isV8TraceLine(line) || !line.includes(' gc=s ')) return undefined;
  const fields = new Map<string, number>();
  for (const part of line.split(' ')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq), Number(part.slice(eq + 1)));
  }
  const field = (name: string): number => fields.get(name) ?? 0;
  return { scavenges: 1, pauseMs: field('pause'), promotedBytes: field('promoted'), survivedBytes: field('new_space_survived') };
}

/** `a + sign × b`, field by field: the one place the tally's fields are combined. */
function combine(a: ScavengeTally, b: ScavengeTally, sign: 1 | -1): ScavengeTally {
  return {
    scavenges: a.scavenges + sign * b.scavenges,
    pauseMs: a.pauseMs + sign * b.pauseMs,
    promotedBytes: a.promotedBytes + sign * b.promotedBytes,
    survivedBytes: a.survivedBytes + sign * b.survivedBytes,
  };
}

export function addScavenges(a: ScavengeTally, b: ScavengeTally): ScavengeTally {
  return combine(a, b, 1);
}

/** `after − before`: one window's scavenges. */
export function scavengesBetween(before: ScavengeTally, after: ScavengeTally): ScavengeTally {
  return combine(after, before, -1);
}

/** Tallies the scavenge lines of a process's stdout, fed chunk by chunk (lines may span chunks). */
export class ScavengeCounter {
  private partial = '';
  private total: ScavengeTally = NO_SCAVENGES;

  write(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const s = parseScavengeLine(line);
      if (s !== undefined) this.total = addScavenges(this.total, s);
    }
  }

  get tally(): ScavengeTally {
    return this.total;
  }
}

/** A window's scavenges per request: pause ms per 1,000 requests, promoted and survived KB (10^3 B) per request. */
export interface ScavengesPerRequest {
  pauseMsPer1k: number;
  promotedKbPerRequest: number;
  survivedKbPerRequest: number;
}

export function scavengesPerRequest(s: ScavengeTally, requests: number): ScavengesPerRequest {
  if (!(requests > 0)) return { pauseMsPer1k: Number.NaN, promotedKbPerRequest: Number.NaN, survivedKbPerRequest: Number.NaN };
  return {
    pauseMsPer1k: (s.pauseMs / requests) * 1000,
    promotedKbPerRequest: s.promotedBytes / 1000 / requests,
    survivedKbPerRequest: s.survivedBytes / 1000 / requests,
  };
}

/** `14× 4.1 ms = 3.2 ms/1k req, promoted 0.05 KB/req, survived 1.2 KB/req` (the progress line's part). */
export function scavengeLine(s: ScavengeTally, requests: number): string {
  const p = scavengesPerRequest(s, requests);
  const each = s.scavenges > 0 ? (s.pauseMs / s.scavenges).toFixed(1) : '0';
  return (
    `${s.scavenges}× ${each} ms = ${p.pauseMsPer1k.toFixed(1)} ms/1k req, ` +
    `promoted ${p.promotedKbPerRequest.toFixed(2)} KB/req, survived ${p.survivedKbPerRequest.toFixed(2)} KB/req`
  );
}
