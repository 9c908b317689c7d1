import type { DataSource, EntityManager } from 'typeorm';
import type { InvoiceState } from '../billing/invoice-state';
import { mergeInvoice, sameState } from '../billing/merge';
import { MalformedEventError, snapshotFromEvent, type InvoiceSnapshot } from '../billing/snapshot';
import { claimEvent, markProcessed, recordFailure } from '../db/event-log';
import { insertInvoice, lockInvoice, updateInvoice } from '../db/invoice-rows';
import { expandThinEvent, isThinEvent, type FetchInvoice } from '../stripe/thin-events';
import { parseMessageBody } from './message-body';

export type Outcome = 'merged' | 'unchanged' | 'duplicate';

export interface InvoiceChange {
  snapshot: InvoiceSnapshot;
  previous: InvoiceState | null;
  next: InvoiceState;
}

export interface ProcessResult {
  outcome: Outcome;
  eventId: string;
  type: string;
  invoiceId: string;
}

/** Runs inside the event's transaction after the merge; issue-specific effects (the outbox) hang here. */
export type AfterMerge = (db: EntityManager, change: InvoiceChange, nowSeconds: number) => Promise<void>;

export interface ProcessOptions {
  nowSeconds?: () => number;
  afterMerge?: AfterMerge;
  /** Fetches an invoice from Stripe's API for thin events; null when Stripe has no such invoice. */
  fetchInvoice?: FetchInvoice;
}

export interface MessageOptions {
  /** Merge even an event already processed (an engineer's `replay events --force`). */
  force?: boolean;
}

const wallClock = () => Math.floor(Date.now() / 1000);

async function mergeLocked(db: EntityManager, snapshot: InvoiceSnapshot, now: number): Promise<InvoiceChange & { written: boolean }> {
  const previous = await lockInvoice(db, snapshot.stripeInvoiceId);
  const next = mergeInvoice(previous, snapshot, now);
  if (previous === null) {
    if (await insertInvoice(db, next)) return { snapshot, previous, next, written: true };
    // Another consumer inserted this invoice between our lock attempt and insert: merge into theirs.
    return mergeLocked(db, snapshot, now);
  }
  if (sameState(previous, next)) return { snapshot, previous, next, written: false };
  await updateInvoice(db, next);
  return { snapshot, previous, next, written: true };
}

/**
 * One queue message, one transaction: record the event (a known id is a no-op), merge the
 * invoice, run the after-merge effects, mark the event processed. The caller deletes the message
 * only after this resolves.
 */
export async function processMessage(
  ds: DataSource,
  body: string,
  options: ProcessOptions = {},
  message: MessageOptions = {},
): Promise<ProcessResult> {
  const now = (options.nowSeconds ?? wallClock)();
  let { event, payload } = parseMessageBody(body);
  if (isThinEvent(event)) {
    event = await expandThinEvent(event, options.fetchInvoice, now);
    payload = JSON.stringify(event);
  }
  let snapshot: InvoiceSnapshot;
  try {
    snapshot = snapshotFromEvent(event);
  } catch (err) {
    if (err instanceof MalformedEventError) await recordMalformed(ds, event, err.message);
    throw err;
  }
  const base = { eventId: snapshot.eventId, type: snapshot.eventType, invoiceId: snapshot.stripeInvoiceId };

  try {
    return await ds.transaction('READ COMMITTED', async (db) => {
      const claim = await claimEvent(db, snapshot, payload);
      if (claim === 'done' && !message.force) return { ...base, outcome: 'duplicate' as const };
      const change = await mergeLocked(db, snapshot, now);
      if (options.afterMerge) await options.afterMerge(db, change, now);
      await markProcessed(db, snapshot.eventId);
      return { ...base, outcome: change.written ? ('merged' as const) : ('unchanged' as const) };
    });
  } catch (err) {
    await recordFailure(ds.manager, identify(snapshot), event, errorText(err)).catch(() => undefined);
    throw err;
  }
}

function identify(s: InvoiceSnapshot) {
  return {
    id: s.eventId,
    type: s.eventType,
    stripeInvoiceId: s.stripeInvoiceId,
    created: s.eventCreated,
    livemode: s.livemode,
    apiVersion: s.apiVersion,
  };
}

/** A verified event whose invoice is unusable still belongs in the log, with the reason. */
async function recordMalformed(ds: DataSource, event: unknown, reason: string): Promise<void> {
  const e = event as Record<string, unknown> | null;
  if (!e || typeof e['id'] !== 'string' || typeof e['type'] !== 'string') return;
  const object = (e['data'] as { object?: Record<string, unknown> } | undefined)?.object;
  const created = typeof e['created'] === 'number' && Number.isSafeInteger(e['created']) ? e['created'] : 0;
  await recordFailure(
    ds.manager,
    {
      id: e['id'].slice(0, 255),
      type: e['type'].slice(0, 255),
      stripeInvoiceId: typeof object?.['id'] === 'string' ? object['id'].slice(0, 255) : null,
      created,
      livemode: e['livemode'] === true,
      apiVersion: typeof e['api_version'] === 'string' ? e['api_version'].slice(0, 255) : null,
    },
    event,
    reason,
  ).catch(() => undefined);
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
