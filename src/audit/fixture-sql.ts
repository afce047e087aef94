/** SQL fragments the fixtures share. */

// Timestamps are naive UTC, as the gateway writes them; seeding relative to now() keeps the data "recent".
export const NOW = "(now() AT TIME ZONE 'UTC')";

/** `0x` + sha256 of a SQL text expression: a session, model or bid id of the on-chain shape (0x + 64 hex). */
export const hex = (text: string): string => `'0x' || encode(sha256(convert_to(${text}, 'UTF8')), 'hex')`;
