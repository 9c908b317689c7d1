import { isKnownStatus, type InvoiceState, type InvoiceStatus, type SnapshotFields, type StripeInvoiceStatus } from './invoice-state';
import { isOverdue } from './overdue';
import type { InvoiceSnapshot } from './snapshot';

/**
 * Status only moves up this ladder (Stripe's lifecycle): nothing returns to draft, uncollectible
 * can only become paid or void, and paid and void are terminal. A deletion stub ranks below
 * everything so it never overwrites what a real snapshot said.
 */
const STATUS_RANK: Record<InvoiceStatus, number> = { draft: 0, open: 1, uncollectible: 2, paid: 3, void: 3 };
const STUB_RANK = -1;

/**
 * A status Stripe adds later ranks like open. Draft is the only status before finalization and
 * Stripe's lifecycle adds statuses after it, so a new one belongs to a finalized invoice; paid and
 * void are documented as final and uncollectible as leading only to them, so it cannot come after
 * those. Within open's rank the event time decides, as between two open snapshots, so an open
 * snapshot newer than it replaces it and the order stays total (every permutation converges).
 */
const rankOf = (status: StripeInvoiceStatus): number => (isKnownStatus(status) ? STATUS_RANK[status] : STATUS_RANK.open);

/**
 * Orders snapshots of one invoice. Event `created` has one-second resolution, so within a second
 * the status rank decides (finalized, updated and paid often share one), then the amounts and
 * attempts that only grow, then the event id so that the order is total and every replica agrees.
 */
type VersionKey = readonly [rank: number, created: number, paid: number, attempts: number, eventId: string];

function snapshotKey(s: InvoiceSnapshot): VersionKey {
  if (s.fields === null) return [STUB_RANK, s.eventCreated, 0, 0, s.eventId];
  return [rankOf(s.fields.status), s.eventCreated, s.fields.amountPaidCents, s.fields.attemptCount, s.eventId];
}

function stateKey(s: InvoiceState): VersionKey {
  const rank = s.currency === null ? STUB_RANK : rankOf(s.status);
  return [rank, s.lastEventCreatedAt, s.amountPaidCents, s.attemptCount, s.lastEventId];
}

function compareKeys(a: VersionKey, b: VersionKey): number {
  for (let i = 0; i < 4; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a[4] < b[4] ? -1 : a[4] > b[4] ? 1 : 0;
}

const latest = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.max(a, b);
const earliest = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.min(a, b);

const STUB_FIELDS: SnapshotFields = {
  stripeCustomerId: null,
  customerEmail: null,
  customerName: null,
  number: null,
  status: 'draft',
  amountCents: 0,
  amountPaidCents: 0,
  amountRemainingCents: 0,
  totalCents: 0,
  currency: '',
  dueDate: null,
  collectionMethod: null,
  billingReason: null,
  hostedInvoiceUrl: null,
  invoicePdfUrl: null,
  livemode: false,
  metadata: {},
  attemptCount: 0,
  stripeCreatedAt: null,
  finalizedAt: null,
  paidAt: null,
  voidedAt: null,
  markedUncollectibleAt: null,
};

function stateFromSnapshot(s: InvoiceSnapshot): InvoiceState {
  const fields = s.fields ?? { ...STUB_FIELDS, livemode: s.livemode };
  return {
    stripeInvoiceId: s.stripeInvoiceId,
    ...fields,
    currency: s.fields === null ? null : fields.currency,
    overdue: false,
    deletedAt: s.deleted ? s.eventCreated : null,
    lastEventId: s.eventId,
    lastEventCreatedAt: s.eventCreated,
    stripeAccountId: s.account,
  };
}

/**
 * Folds one snapshot into the current row. The result depends only on the set of snapshots seen,
 * never on their order or repetition: the fields come from the greatest snapshot by VersionKey, and
 * the transition timestamps and the deletion mark are joined across all of them.
 */
export function mergeInvoice(current: InvoiceState | null, snapshot: InvoiceSnapshot, nowSeconds: number): InvoiceState {
  const incoming = stateFromSnapshot(snapshot);
  const base =
    current === null || compareKeys(snapshotKey(snapshot), stateKey(current)) > 0 ? incoming : current;
  const merged: InvoiceState = {
    ...base,
    finalizedAt: latest(current?.finalizedAt ?? null, incoming.finalizedAt),
    paidAt: latest(current?.paidAt ?? null, incoming.paidAt),
    voidedAt: latest(current?.voidedAt ?? null, incoming.voidedAt),
    markedUncollectibleAt: latest(current?.markedUncollectibleAt ?? null, incoming.markedUncollectibleAt),
    deletedAt: earliest(current?.deletedAt ?? null, incoming.deletedAt),
  };
  merged.overdue = isOverdue(merged, nowSeconds);
  return merged;
}

const sortedEntries = (m: Record<string, string>) => Object.entries(m).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));

/** Whether two rows differ in anything the database stores, so an unchanged merge writes nothing. */
export function sameState(a: InvoiceState, b: InvoiceState): boolean {
  for (const key of Object.keys(a) as (keyof InvoiceState)[]) {
    if (key === 'metadata') continue;
    if (a[key] !== b[key]) return false;
  }
  return JSON.stringify(sortedEntries(a.metadata)) === JSON.stringify(sortedEntries(b.metadata));
}

/**
 * sameState but for which snapshot the row last took its fields from: a snapshot read again from
 * the API (an import run twice) that says nothing new changes nothing.
 */
export function sameContent(a: InvoiceState, b: InvoiceState): boolean {
  return sameState({ ...b, lastEventId: a.lastEventId, lastEventCreatedAt: a.lastEventCreatedAt }, a);
}
