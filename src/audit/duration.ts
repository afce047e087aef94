/**
 * Durations as operators type them (`30s`, `24h`, `7d`), the one syntax every audit flag and env var uses.
 * A bare number is refused: `--since 24` could mean hours or seconds, and a silent guess would audit the
 * wrong window.
 */
const UNIT_MS = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
} as const;

type Unit = keyof typeof UNIT_MS;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

const UNIT_WORDS: Record<Unit, [string, string]> = {
  ms: ['millisecond', 'milliseconds'],
  s: ['second', 'seconds'],
  m: ['minute', 'minutes'],
  h: ['hour', 'hours'],
  d: ['day', 'days'],
};

/** Milliseconds for `text`, or `undefined` when it is not a positive duration with a unit. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as Unit];
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms) : undefined;
}

/** `24h` → `24 hours`, `1d` → `1 day`: the words the report uses for a window the user typed. */
export function describeDuration(text: string): string {
  const match = DURATION.exec(text.trim());
  if (!match) return text;
  const amount = Number(match[1]);
  const [one, many] = UNIT_WORDS[match[2] as Unit];
  return `${match[1]} ${amount === 1 ? one : many}`;
}
