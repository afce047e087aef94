/**
 * The owners of delivered completion ids, one per finished request, held for the whole `--completion-id-window`
 * (issue 13 item 8) in a compact columnar table rather than one object each.
 *
 * Why: with gateway-shaped traffic a provider's ids are stable, so every request delivers one id and the window
 * holds one owner per request — 1,000,000 at 100,000 requests a minute over 10 minutes. As objects (one each, with
 * its own copies of the session, key and model strings a request parsed) they cost ~700 bytes a request, measured
 * (`test/inspect/completion-id-window-volume.test.ts`). Here an owner is six 32-bit references into a string
 * table: its request id (and span reference, when shared) are its own strings; the session, key fingerprint, model
 * and replica repeat across requests and are stored once per table.
 */

import { doubled } from './typed-arrays.js';

/** Who an id was delivered to: enough for evidence and for the same-user replay exemption. */
export interface DeliveredOwner {
  requestId: string;
  /** Key fingerprint, when the deployment forwards one. */
  key?: string;
  session?: string;
  /** Normalized response model name. */
  model?: string;
  /**
   * The request's span as `<traceId>-<spanId>` (W3C hex), set only when the store is shared (issue 17 item 5): a
   * replica that finds this request involved links its own span to it. Ids only, never content.
   */
  trace?: string;
  /**
   * The replica whose batch delivered it (shared store; `''` for writes applied from an unnamed source). Absent
   * for this replica's own requests. Set by the store that applies the batch, never read from the wire.
   */
  replica?: string;
}

const FIELDS = ['requestId', 'key', 'session', 'model', 'trace', 'replica'] as const;
type Field = (typeof FIELDS)[number];
const WIDTH = FIELDS.length;
/** Per field: its values repeat across requests (the session, key, model, replica), so one copy per table. */
const SHARED: readonly boolean[] = FIELDS.map((f) => f === 'key' || f === 'session' || f === 'model' || f === 'replica');
/** Reference 0: the field is absent. */
const ABSENT = 0;
const INITIAL_OWNERS = 64;

export class DeliveredOwnerTable {
  /** Index 0 stands for "absent". */
  private readonly strings: string[] = [''];
  /** Value → its index in `strings`, for the shared fields; dropped once the table is sealed. */
  private shared: Map<string, number> | undefined = new Map();
  private cols = new Uint32Array(INITIAL_OWNERS * WIDTH);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds `owner`; returns its index. */
  add(owner: DeliveredOwner): number {
    const shared = this.shared;
    if (shared === undefined) throw new Error('a sealed owner table takes no more owners');
    if ((this.count + 1) * WIDTH > this.cols.length) this.cols = doubled(this.cols);
    const at = this.count * WIDTH;
    for (let f = 0; f < WIDTH; f++) {
      const field = FIELDS[f] as Field;
      const value = owner[field];
      if (value === undefined) {
        this.cols[at + f] = ABSENT;
        continue;
      }
      let ref = SHARED[f] === true ? shared.get(value) : undefined;
      if (ref === undefined) {
        ref = this.strings.push(value) - 1;
        if (SHARED[f] === true) shared.set(value, ref);
      }
      this.cols[at + f] = ref;
    }
    return this.count++;
  }

  /** A fresh object for owner `index` (each call makes a new one: compare owners by their fields). */
  get(index: number): DeliveredOwner {
    const at = index * WIDTH;
    const out: DeliveredOwner = { requestId: this.strings[this.cols[at] as number] as string };
    for (let f = 1; f < WIDTH; f++) {
      const ref = this.cols[at + f] as number;
      if (ref !== ABSENT) out[FIELDS[f] as Field] = this.strings[ref] as string;
    }
    return out;
  }

  /** No more owners: the look-up map and the spare room go. */
  seal(): void {
    this.shared = undefined;
    if (this.cols.length > this.count * WIDTH) this.cols = this.cols.slice(0, this.count * WIDTH);
  }
}
