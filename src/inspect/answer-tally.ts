/**
 * What one answer carried, content-free: whether any choice had content, how many `finish_reason`s each choice
 * got, how many usage chunks. The judge's stream-structure rules and the starvation rule read it, and so does
 * the probe, so "starved" and "several completions" mean the same thing on both sides (issue 13 items 4 and 6).
 */
import type { ChoiceFacts } from './chunk-fields.js';

/** Choices whose finish_reasons are counted at most (a hostile `n` cannot grow the map). */
export const MAX_TRACKED_CHOICES = 16;

export class AnswerTally {
  contentSeen = false;
  usageChunks = 0;
  private readonly finishCount = new Map<number, number>();

  /** Adds one chunk's choices; returns the choices that got content after their finish and a second finish (undefined: none). */
  addChoices(choices: ChoiceFacts): { contentAfterFinish: number[]; secondFinish: number[] } | undefined {
    // Every chunk comes through here: nothing is allocated unless a choice breaks the rules.
    let found: { contentAfterFinish: number[]; secondFinish: number[] } | undefined;
    for (const index of choices.withContent) {
      this.contentSeen = true;
      if ((this.finishCount.get(index) ?? 0) > 0) (found ??= { contentAfterFinish: [], secondFinish: [] }).contentAfterFinish.push(index);
    }
    for (const index of choices.finished) {
      if (this.finishCount.size >= MAX_TRACKED_CHOICES && !this.finishCount.has(index)) continue;
      const n = (this.finishCount.get(index) ?? 0) + 1;
      this.finishCount.set(index, n);
      if (n === 2) (found ??= { contentAfterFinish: [], secondFinish: [] }).secondFinish.push(index);
    }
    return found;
  }

  /** Counts one usage chunk; returns how many there were. */
  addUsage(): number {
    return ++this.usageChunks;
  }

  /** Content the caller saw without it being parsed (the fast path's byte test). */
  markContent(): void {
    this.contentSeen = true;
  }

  /** Whether any choice finished yet. */
  get anyFinished(): boolean {
    return this.finishCount.size > 0;
  }

  /** Completions the answer carried: finish_reasons of one choice, or usage chunks. */
  get completions(): number {
    return Math.max(this.usageChunks, ...this.finishCount.values(), 0);
  }

  /** A 200 answer with no completion content and no error event. */
  starved(status: number | undefined, errorSeen: boolean): boolean {
    return status === 200 && !this.contentSeen && !errorSeen;
  }
}
