import { parseEmailAddress } from '../billing/email-address';
import type { Step } from './object-kind';
import type { CustomerSnapshot } from './customer-schema';

/**
 * The columns of billing_contacts that a customer's events write (times in unix seconds).
 * invoice_email is not among them: only `billing contacts set` writes it.
 */
export interface CustomerContactState {
  stripeCustomerId: string;
  /** The fallback address of invoice emails: the customer's email when usable, else null; `contacts set` may override it. */
  primaryEmail: string | null;
  /** The customer's email as Stripe sent it, valid or not. */
  stripeEmail: string | null;
  name: string | null;
  /** When the customer was deleted (the earliest deletion event); never cleared. */
  deletedAt: number | null;
  /** The `created` of the event whose customer state the row holds; null before any (a row `contacts set` made). */
  stripeSyncedAt: number | null;
  lastEventId: string | null;
  /** The connected account of the customer (Connect); null for the platform's own, and on a row no snapshot has written yet. */
  stripeAccountId: string | null;
}

/**
 * Orders what snapshots say about a customer. Stripe's Customer has no version or update time,
 * so the event's `created` decides; within one second the order Stripe made its changes cannot
 * be known, so the one whose email sorts last wins (no email sorting first), then the one whose
 * name does, then the greater event id: one winner on every replica, whatever the order.
 */
type VersionKey = readonly [created: number, email: string | null, name: string | null, eventId: string];

function compareText(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

function compareKeys(a: VersionKey, b: VersionKey): number {
  return a[0] - b[0] || compareText(a[1], b[1]) || compareText(a[2], b[2]) || compareText(a[3], b[3]);
}

const earliest = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));

export function sameContact(a: CustomerContactState, b: CustomerContactState): boolean {
  return (Object.keys(a) as (keyof CustomerContactState)[]).every((k) => a[k] === b[k]);
}

const blank = (id: string): CustomerContactState => ({ stripeCustomerId: id, primaryEmail: null, stripeEmail: null, name: null, deletedAt: null, stripeSyncedAt: null, lastEventId: null, stripeAccountId: null });

/** A row no snapshot has written yet: one `contacts set` made, which the customer's first snapshot, of whatever account, makes its own. */
export const unclaimedContact = (row: CustomerContactState): boolean => row.lastEventId === null && row.stripeSyncedAt === null && row.deletedAt === null;

/**
 * Folds one snapshot into the row. Over snapshots alone it is a join (any order and repetition
 * give the same row). The customer's fields come from the greatest snapshot by VersionKey; a row
 * without Stripe data (stripe_synced_at null) takes any snapshot. primary_email is the winner's
 * email when it is one usable address, else null, so an operator's `contacts set --primary-email`
 * stands until a newer snapshot arrives; a replay, a duplicate or an older event changes nothing,
 * and a re-send of the winning change under another event id moves last_event_id only. A
 * deletion stub changes deleted_at only. Hands back `current` itself when nothing changes.
 */
export function mergeCustomer(current: CustomerContactState | null, s: CustomerSnapshot): CustomerContactState {
  const row = current ?? blank(s.stripeCustomerId);
  let next: CustomerContactState = {
    ...row,
    stripeAccountId: unclaimedContact(row) ? s.account : row.stripeAccountId,
    deletedAt: earliest(row.deletedAt, s.deleted ? s.eventCreated : null),
  };
  const f = s.fields;
  if (f !== null) {
    const key: VersionKey = [s.eventCreated, f.email, f.name, s.eventId];
    const newer = row.stripeSyncedAt === null || compareKeys(key, [row.stripeSyncedAt, row.stripeEmail, row.name, row.lastEventId ?? '']) > 0;
    if (newer) {
      const sameChange = row.stripeSyncedAt === s.eventCreated && row.stripeEmail === f.email && row.name === f.name;
      next = {
        ...next,
        primaryEmail: sameChange ? row.primaryEmail : parseEmailAddress(f.email),
        stripeEmail: f.email,
        name: f.name,
        stripeSyncedAt: s.eventCreated,
        lastEventId: s.eventId,
      };
    }
  }
  return current !== null && sameContact(next, current) ? current : next;
}

export const reduceCustomer: Step<CustomerSnapshot, CustomerContactState> = (current, s) => mergeCustomer(current, s);

/**
 * The reducer for snapshots read again from the API: a re-read that says what the row already
 * holds changes nothing, not even which event it came from.
 */
export const reduceListedCustomer: Step<CustomerSnapshot, CustomerContactState> = (current, s) => {
  const next = mergeCustomer(current, s);
  if (current === null || next === current) return next;
  return sameContact({ ...next, lastEventId: current.lastEventId, stripeSyncedAt: current.stripeSyncedAt }, current) ? current : next;
};
