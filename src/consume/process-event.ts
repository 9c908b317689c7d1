import type { DataSource, EntityManager } from 'typeorm';
import { wallClock } from '../clock';
import type { InvoiceState } from '../billing/invoice-state';
import { mergeInvoice, sameState } from '../billing/merge';
import { MalformedEventError, snapshotFromEvent, type InvoiceSnapshot } from '../billing/snapshot';
import { claimEvent, markProcessed, recordFailure } from '../db/event-log';
import { insertInvoice, lockInvoice, updateInvoice } from '../db/invoice-rows';
import { expandThinEvent, isThinEvent, type FetchInvoice } from '../stripe/thin-events';
import type { NoticeChange } from '../billing/notice-plan';
import type { NoticeEffects } from '../effects/notice-effects';
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

/** An event's change as the notice effects take it: something that happens now. */
export const liveChange = (c: InvoiceChange): NoticeChange => ({ previous: c.previous, next: c.next, event: c.snapshot, mode: 'live' });

export interface ProcessOptions {
  nowSeconds?: () => number;
  /** Runs in the transaction after the rows are written, with every change in processing order (the outbox). */
  afterMerge?: NoticeEffects;
  /**
   * Told when a batch's transaction failed and its messages are being processed one by one: each
   * still gets its own outcome, but a batch that keeps failing costs every message a transaction.
   */
  onBatchFallback?: (error: unknown, messages: number) => void;
  /** Fetches an invoice from Stripe's API for thin events; null when Stripe has no such invoice. */
  fetchInvoice?: FetchInvoice;
}

export interface MessageOptions {
  /** Merge even an event already processed (an engineer's `replay events --force`). */
  force?: boolean;
}


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

/** What a queue message carries, parsed once: the batch and the one-message path both start here. */
export interface PreparedMessage {
  event: unknown;
  /** The event as stored in the log: the message body itself unless it had to be unwrapped or fetched. */
  payload: string;
  snapshot: InvoiceSnapshot;
  force: boolean;
}

/**
 * Parses a message (fetching the invoice of a thin event). A malformed event is recorded in the
 * event log, then thrown: it can never succeed.
 */
export async function prepareMessage(ds: DataSource, body: string, options: ProcessOptions, now: number, message: MessageOptions = {}): Promise<PreparedMessage> {
  let { event, payload } = parseMessageBody(body);
  try {
    // Inside the try: a thin event whose invoice Stripe does not have is malformed too, and its
    // reason belongs in the event log like any other.
    if (isThinEvent(event)) {
      event = await expandThinEvent(event, options.fetchInvoice, now);
      payload = JSON.stringify(event);
    }
    return { event, payload, snapshot: snapshotFromEvent(event), force: message.force === true };
  } catch (err) {
    if (err instanceof MalformedEventError) await recordMalformed(ds, event, err.message);
    throw err;
  }
}

export const resultBase = (s: InvoiceSnapshot) => ({ eventId: s.eventId, type: s.eventType, invoiceId: s.stripeInvoiceId });

/** One prepared message in its own transaction; a failure is recorded in the event log, then thrown. */
export async function applyMessage(ds: DataSource, p: PreparedMessage, options: ProcessOptions, now: number): Promise<ProcessResult> {
  const base = resultBase(p.snapshot);
  try {
    return await ds.transaction('READ COMMITTED', async (db) => {
      const claim = await claimEvent(db, p.snapshot, p.payload);
      if (claim === 'done' && !p.force) return { ...base, outcome: 'duplicate' as const };
      const change = await mergeLocked(db, p.snapshot, now);
      if (options.afterMerge) await options.afterMerge(db, [liveChange(change)], now);
      await markProcessed(db, p.snapshot.eventId);
      return { ...base, outcome: change.written ? ('merged' as const) : ('unchanged' as const) };
    });
  } catch (err) {
    await recordFailure(ds.manager, identify(p.snapshot), p.event, errorText(err)).catch(() => undefined);
    throw err;
  }
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
  return applyMessage(ds, await prepareMessage(ds, body, options, now, message), options, now);
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
  // A thin event names its invoice in related_object and dates itself with an ISO string.
  const object = (e['data'] as { object?: Record<string, unknown> } | undefined)?.object ?? (e['related_object'] as Record<string, unknown> | undefined);
  const iso = typeof e['created'] === 'string' ? Date.parse(e['created']) : NaN;
  const created = typeof e['created'] === 'number' && Number.isSafeInteger(e['created']) ? e['created'] : Number.isFinite(iso) ? Math.floor(iso / 1000) : 0;
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
