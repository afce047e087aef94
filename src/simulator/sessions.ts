import { createHash } from 'node:crypto';
import type { Prng } from './prng.js';
import { HEX32_PATTERN, type SessionSpec, type SimModel } from './catalogue.js';

/** A session as the simulated router tracks it; times are unix seconds, `closedAt` 0 while open (as on chain). */
export interface SimSession {
  readonly id: string;
  readonly model: SimModel;
  readonly bidId: string;
  readonly user: string;
  readonly provider: string;
  openedAt: number;
  endsAt: number;
  closedAt: number;
}

export type SessionState = 'open' | 'expired' | 'closed';

/** The body of `GET /blockchain/sessions/{id}`, field names as the router's session struct spells them. */
export interface BlockchainSessionBody {
  Id: string;
  User: string;
  Provider: string;
  ModelAgentId: string;
  BidID: string;
  Stake: string;
  PricePerSecond: string;
  CloseoutReceipt: string;
  CloseoutType: number;
  ProviderWithdrawnAmount: string;
  OpenedAt: number;
  EndsAt: number;
  ClosedAt: number;
}

function address(prng: Prng): string {
  return `0x${prng.hex(40)}`;
}

/**
 * The provider serving a model's sessions when no bid says otherwise: one per model, as on a marketplace where
 * a few providers serve each model (a provider per session would make every session a stranger to the others).
 */
export function providerFor(model: SimModel): string {
  return `0x${createHash('sha256').update(`crosstalk-sim/provider/${model.id}`).digest('hex').slice(0, 40)}`;
}

/** A provider's offer for a model; sessions are opened on a bid. */
export interface SimBid {
  readonly id: string;
  readonly provider: string;
  readonly model: SimModel;
}

/** The body of `GET /blockchain/bids/{id}` (inside `{"bid": …}`). */
export interface BlockchainBidBody {
  Id: string;
  Provider: string;
  ModelAgentId: string;
  PricePerSecond: string;
  Nonce: string;
  CreatedAt: number;
  DeletedAt: number;
}

/** Sessions by id (lower-cased), each bound to one model of the catalogue. */
export class SessionStore {
  readonly #byId = new Map<string, SimSession>();
  readonly #bids = new Map<string, SimBid>();

  constructor(
    private readonly models: readonly SimModel[],
    private readonly prng: Prng,
    private readonly clockMs: () => number,
    private readonly durationSec: number,
  ) {}

  /** The catalogue model with this name or 0x id, if any. */
  findModel(nameOrId: string): SimModel | undefined {
    const lower = nameOrId.toLowerCase();
    return this.models.find((m) => m.name === nameOrId || m.id.toLowerCase() === lower);
  }

  /** Registers a pre-configured session; throws on a malformed id or a model outside the catalogue. */
  add(spec: SessionSpec): SimSession {
    if (!HEX32_PATTERN.test(spec.id)) throw new Error(`session id ${spec.id} is not 0x + 64 hex`);
    const model = this.findModel(spec.model);
    if (model === undefined) throw new Error(`session ${spec.id} names unknown model ${spec.model}`);
    return this.#insert(spec.id, model, this.durationSec);
  }

  /** Opens a new session on a model (what `POST /blockchain/models/{id}/session` does). */
  open(model: SimModel, durationSec = this.durationSec): SimSession {
    return this.#insert(`0x${this.prng.hex(64)}`, model, durationSec);
  }

  /** Opens a new session on a known bid: same provider and model (`POST /blockchain/bids/{id}/session`). */
  openOnBid(bidId: string, durationSec = this.durationSec): SimSession | undefined {
    const bid = this.bid(bidId);
    if (bid === undefined) return undefined;
    return this.#insert(`0x${this.prng.hex(64)}`, bid.model, durationSec, bid);
  }

  /** The bid behind some session (bids are made with the sessions that use them). */
  bid(bidId: string): SimBid | undefined {
    return this.#bids.get(bidId.toLowerCase());
  }

  #insert(id: string, model: SimModel, durationSec: number, bid?: SimBid): SimSession {
    const now = this.nowSec();
    const session: SimSession = {
      id: id.toLowerCase(),
      model,
      bidId: bid?.id ?? `0x${this.prng.hex(64)}`,
      user: address(this.prng),
      provider: bid?.provider ?? providerFor(model),
      openedAt: now,
      endsAt: now + durationSec,
      closedAt: 0,
    };
    if (bid === undefined) this.#bids.set(session.bidId, { id: session.bidId, provider: session.provider, model });
    this.#byId.set(session.id, session);
    return session;
  }

  get(id: string): SimSession | undefined {
    return this.#byId.get(id.toLowerCase());
  }

  list(): SimSession[] {
    return [...this.#byId.values()];
  }

  /** Sessions bound to the model with this name or id. */
  forModel(nameOrId: string): SimSession[] {
    const model = this.findModel(nameOrId);
    return model === undefined ? [] : this.list().filter((s) => s.model === model);
  }

  state(session: SimSession): SessionState {
    if (session.closedAt !== 0) return 'closed';
    return session.endsAt <= this.nowSec() ? 'expired' : 'open';
  }

  close(id: string): boolean {
    const session = this.get(id);
    if (session === undefined || session.closedAt !== 0) return false;
    session.closedAt = this.nowSec();
    return true;
  }

  /** Moves a session's end into the past, so the next request on it answers `session expired`. */
  expire(id: string): boolean {
    const session = this.get(id);
    if (session === undefined) return false;
    session.endsAt = Math.min(session.endsAt, this.nowSec() - 1);
    return true;
  }

  nowSec(): number {
    return Math.floor(this.clockMs() / 1000);
  }

  bidBody(bid: SimBid): BlockchainBidBody {
    return {
      Id: bid.id,
      Provider: bid.provider,
      ModelAgentId: bid.model.id,
      PricePerSecond: '100000000000',
      Nonce: '0',
      CreatedAt: 0,
      DeletedAt: 0,
    };
  }

  toBody(session: SimSession): BlockchainSessionBody {
    return {
      Id: session.id,
      User: session.user,
      Provider: session.provider,
      ModelAgentId: session.model.id,
      BidID: session.bidId,
      Stake: '1000000000000000000',
      PricePerSecond: '100000000000',
      CloseoutReceipt: '0x',
      CloseoutType: 0,
      ProviderWithdrawnAmount: '0',
      OpenedAt: session.openedAt,
      EndsAt: session.endsAt,
      ClosedAt: session.closedAt,
    };
  }
}
