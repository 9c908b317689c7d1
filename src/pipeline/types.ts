import type { DataSource } from 'typeorm';
import type { HealthRepairResult } from '../recovery/health-repair';
import type { EffectRunners, FetchObject } from '../stripe-objects/object-kind';

export type { FetchObject };

/** What applying one message did: its object changed, did not, or its event was already applied. */
export type Outcome = 'merged' | 'unchanged' | 'duplicate';

export interface ProcessResult {
  outcome: Outcome;
  eventId: string;
  type: string;
  /** Stripe's `object` value of what the event carried, e.g. `invoice`. */
  object: string;
  objectId: string;
  /** When Stripe created the event (unix seconds), also for a thin event whose object was fetched later. */
  created: number;
  /** Applied before and forced again (`replay events --force`): its `created` says nothing of how far behind the worker is. */
  reapplied?: true;
}

/** A queue message to apply. */
export interface BatchItem {
  body: string;
  /** Merge even an event already processed (an engineer's `replay events --force`). */
  force: boolean;
}

/**
 * Each message's own outcome: ok only once that message's event has committed. A failure names
 * the registry's `object` of its event when its type told it.
 */
export type BatchOutcome = { ok: true; result: ProcessResult } | { ok: false; error: unknown; object?: string };

export interface ProcessOptions {
  nowSeconds?: () => number;
  /** The effects the deployment turns on (the notice outbox), run in each batch's transaction. */
  effects?: EffectRunners;
  /**
   * Told when a batch's transaction failed and its messages are being applied one by one: each
   * still gets its own outcome, but a batch that keeps failing costs every message a transaction.
   */
  onBatchFallback?: (error: unknown, messages: number) => void;
  /** Set with STRIPE_SECRET_KEY: thin events, and snapshots that cannot be read, are fetched. */
  fetchObject?: FetchObject;
  /** Set with STRIPE_SECRET_KEY: the object of a Stripe health alert is read again (see applyHealthAlert). */
  repairAlert?: RepairAlert;
}

/** Repairs a stored health alert and records the outcome on its event (repairAndRecord, with the deployment's client and effects). */
export type RepairAlert = (ds: DataSource, eventId: string, account: string | null) => Promise<HealthRepairResult>;

/** The log field that names a result's object: `invoiceId` for an invoice. */
export function objectIdField(object: string): string {
  return `${object.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())}Id`;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
