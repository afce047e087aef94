import type { HoldBudget } from '../inspect/inspect-stream.js';

/**
 * The one byte budget for block-mode JSON bodies held until their verdict, across every response of the process:
 * 60 concurrent 7.5 MB answers must not hold 450 MB. Past it a body is forwarded uninspected (and counted).
 */
export class JsonHoldBudget implements HoldBudget {
  private held = 0;

  constructor(readonly capBytes: number) {}

  tryHold(bytes: number): boolean {
    if (this.held + bytes > this.capBytes) return false;
    this.held += bytes;
    return true;
  }

  release(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }

  get heldBytes(): number {
    return this.held;
  }
}
