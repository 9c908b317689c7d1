/**
 * # The registry of Stripe objects
 *
 * Every kind of Stripe object the processor keeps is one entry here (an `ObjectKind`, see
 * object-kind.ts): the event types that carry it (snapshot and thin), how its snapshot is read
 * (a zod schema that takes every layout Stripe still sends), the key its row is merged under, a
 * pure reducer `(current | null, snapshot, { now }) → next`, its effects, and its repository.
 * Nothing else in the product names a kind or an event type:
 *
 * - ingest asks `kindOfEvent` / `kindOfThinEvent` whether to enqueue; backfill lists each kind's
 *   `eventPattern` and asks the same question; the DLQ summary and the event log read events
 *   through `identifyEvent`;
 * - the pipeline (src/pipeline/) reads a message with the kind's `read`, and applies 1 to N
 *   snapshots of any kinds in one transaction (`applyBatch`): each kind's rows are locked in key
 *   order, folded with `reduce`, written once, and the kind's `effects` run on its changes in the
 *   same transaction. The worker, the Lambda consumer, import, reconcile and replay all go
 *   through it; nothing applies an event any other way.
 *
 * What an entry must hold to (each deserves tests that try to break it):
 * 1. `reduce` is a join: any order and any repetition of an object's snapshots give the same row,
 *    and it hands back `current` itself when a snapshot changes nothing (nothing is written).
 * 2. `read` throws MalformedEventError, saying "missing" for a missing field, for what no layout
 *    explains; the pipeline then fetches the object (with a Stripe key) or stores the event with
 *    its reason. It never throws anything else on bad input.
 * 3. `effects` are decided by pure functions of (previous, next, mode); their writes are
 *    idempotent (unique keys), so replays, reconcile and import can never repeat one.
 * 4. The kind's table has one repository under src/db/, one migration and one entity; no other
 *    file holds SQL for it.
 * 5. Its row keeps the connected account of the snapshot that made it (`stripeAccountId`, from
 *    the snapshot's `account`; see Owned) in a `stripe_account_id` column; the pipeline refuses a
 *    snapshot of any other owner before the reducer sees it.
 *
 * Adding a kind: write its entry (schema, reducer, effects) beside invoice.ts, its migration, its
 * entity and its repository, add it to OBJECT_KINDS, and give it the tests above. The README's
 * "Adding a Stripe object" walks through it.
 */
import type Stripe from 'stripe';
import type { AnyObjectKind, FetchObject } from './object-kind';
import { chargeKind } from './charge';
import { creditNoteKind } from './credit-note';
import { customerKind } from './customer';
import { invoiceKind } from './invoice';
import { invoicePaymentKind } from './invoice-payment';
import { refundKind } from './refund';

/** Every kind the processor keeps, in the order a batch applies them. */
export const OBJECT_KINDS: readonly AnyObjectKind[] = [invoiceKind, invoicePaymentKind, chargeKind, refundKind, creditNoteKind, customerKind];

/** The kind a snapshot event of this type carries, or null: an event the processor does not handle. */
export function kindOfEvent(type: string | null): AnyObjectKind | null {
  if (type === null) return null;
  return OBJECT_KINDS.find((k) => k.carries(type)) ?? null;
}

/** The kind a thin event of this type refers to, or null. */
export function kindOfThinEvent(type: string | null): AnyObjectKind | null {
  if (type === null) return null;
  return OBJECT_KINDS.find((k) => k.carriesThin(type)) ?? null;
}

/** The snapshot event types a webhook endpoint subscribes to: every kind's. */
export const SNAPSHOT_EVENT_TYPES: readonly string[] = OBJECT_KINDS.flatMap((k) => k.eventTypes);

/** The kind of this Stripe `object` name; a name no entry has is a programming error. */
export function kindNamed(object: string): AnyObjectKind {
  const kind = OBJECT_KINDS.find((k) => k.object === object);
  if (!kind) throw new Error(`no registered kind of Stripe object is called ${object}`);
  return kind;
}

/** Stripe's API as the pipeline asks it for objects, each kind through its own retrieve. */
export function objectFetcher(stripe: Stripe): FetchObject {
  return async (object, id, account) => kindNamed(object).retrieve(stripe, id, account);
}
