import type Stripe from 'stripe';
import type { EntityManager } from 'typeorm';
import type { EventMeta } from '../billing/event-envelope';
import type { ObjectRepository } from '../db/object-repository';
import type { NoticeEffects } from '../effects/notice-effects';

export type { EventMeta } from '../billing/event-envelope';

/**
 * How a change's effects read it. `live`: it happens now (an event, a repair of a known row), so
 * the customer hears of it. `baseline`: a row the processor did not know, read from the API (an
 * import, a row reconcile inserts): what happened before `baselineAt` is history, not news.
 */
export type ChangeMode = { mode: 'live' } | { mode: 'baseline'; baselineAt: number };

/** One snapshot merged into its row: what the effects of a kind are computed from. */
export interface Change<S, R> {
  /** The caller's position of the snapshot; changes come back in this order. */
  index: number;
  snapshot: S;
  previous: R | null;
  next: R;
  /** False when the row was left as it was. */
  written: boolean;
}

/** The effect writers a deployment turns on; each kind uses those it has effects for. */
export interface EffectRunners {
  /** The invoice email outbox (NOTICE_KINDS, NOTICE_MAX_EVENT_AGE_HOURS): invoices' notices, and with `payments` the money kinds'. */
  notices?: NoticeEffects;
}

export interface EffectCounts {
  /** Outbox rows to be sent. */
  queued: number;
  /** Outbox rows that only record what was not sent. */
  skipped: number;
}

/**
 * What every kind's row keeps of who it belongs to. Stripe ids are unique across all of Stripe, so
 * a row is keyed by its object's id alone and records the connected account its snapshots came
 * from (an event's `account`, or the account an API read was made as); null for the platform's
 * own objects. A row's account is set by the snapshot that makes it and never changes: the
 * pipeline refuses a snapshot of any other owner (see applyObjects).
 */
export interface Owned {
  stripeAccountId: string | null;
}

/** One snapshot folded into a row (or none); returns the row itself when nothing changes. */
export type Step<S, R> = (current: R | null, snapshot: S, meta: { now: number }) => R;

/**
 * One kind of Stripe object the processor keeps. Everything the pipeline, ingest and the
 * recovery commands need to know about the kind is here; none of them names a kind.
 */
export interface ObjectKind<S extends EventMeta, R extends Owned> {
  /** Stripe's `object` value, e.g. `invoice`. */
  readonly object: string;
  /** The snapshot event types that carry it, as a webhook endpoint subscribes to them. */
  readonly eventTypes: readonly string[];
  /** The thin (`v1.*`) event types that refer to it. */
  readonly thinEventTypes: readonly string[];
  /** Stripe's wildcard for listing its events (`invoice.*`), which `carries` then narrows. */
  readonly eventPattern: string;
  /** Whether an event of this type carries this object; also types Stripe adds later under the same prefix. */
  carries(type: string): boolean;
  /** Whether a thin event of this type refers to this object. */
  carriesThin(type: string): boolean;
  /** Reads a snapshot event, envelope and object (any API version Stripe still sends); throws MalformedEventError saying what is wrong. */
  read(event: unknown): S;
  /** The key its row is merged under. */
  key(snapshot: S): string;
  /**
   * Locks this object shares with objects of other kinds whose effects read it (the payment that
   * an invoice payment, its charges and their refunds belong to), named `<scope>:<id>`. The batch
   * takes them with its own objects' locks, in one pass, before anything is written; so effects
   * that link objects of two kinds see what a concurrent transaction committed for the other.
   */
  sharedLocks?(snapshot: S): readonly string[];
  /**
   * Locks of objects that this kind's effects read and that only stored rows can name (the
   * invoice a refund's charge was linked to, whose wallet the refund moves): looked up before the
   * batch's one lock pass and taken in it, like sharedLocks, so effects never wait for a lock
   * while holding others that another batch may want (see lockObjectNames).
   */
  relatedLocks?(db: EntityManager, snapshots: readonly S[]): Promise<readonly string[]>;
  /**
   * Objects of other kinds that this snapshot carries whole (the refunds a charge lists), already
   * read by their kind's reader. The batch applies them with their kind, after this one, as if
   * they had come in events of their own; they have no event of their own in the log.
   */
  nested?(snapshot: S): ReadonlyArray<{ object: string; snapshot: EventMeta }>;
  /** The invoice the event log files the snapshot's event under, when it concerns one. */
  invoiceOf(snapshot: S): string | null;
  /** The same for an event that could not be read, from its object's id alone. */
  invoiceOfObjectId(id: string): string | null;
  /**
   * The pure reducer: the next row from the current one (or none) and a snapshot. Any order and
   * any repetition of one object's snapshots must give the same row; it returns `current` itself
   * when the snapshot changes nothing, so nothing is written.
   */
  reduce: Step<S, R>;
  /** The same reducer for snapshots read again from the API (import): a re-read that says nothing new changes nothing. */
  reduceListed: Step<S, R>;
  repository: ObjectRepository<R>;
  /**
   * Whether no snapshot has written this row yet, so that the first one, of whatever account,
   * makes it its own (a contact that `billing contacts set` made before the customer's first
   * event). Without it, every row belongs to the account its first snapshot named.
   */
  unclaimed?(row: R): boolean;
  /** Runs in the transaction that wrote the changes: the effects those changes have (notices; ledger entries). */
  effects(db: EntityManager, changes: ReadonlyArray<Change<S, R> & ChangeMode>, nowSeconds: number, runners: EffectRunners): Promise<EffectCounts>;
  /**
   * What a thin event means when Stripe no longer has its object: the deletion stub a
   * `*.deleted` event stands for, or null (the event cannot be used).
   */
  goneObject(eventType: string, id: string): Record<string, unknown> | null;
  /** Retrieves the object from Stripe's API (thin events; snapshots that cannot be read); null when Stripe has none. */
  retrieve(stripe: Stripe, id: string, account: string | null): Promise<Record<string, unknown> | null>;
}

/**
 * Fetches an object from Stripe's API (thin events; snapshots that cannot be read), as the
 * connected account named by the event sees it; null when Stripe has none.
 */
export type FetchObject = (object: string, id: string, account: string | null) => Promise<Record<string, unknown> | null>;

/** A kind of any snapshot and row type, as the registry holds them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyObjectKind = ObjectKind<any, any>;
