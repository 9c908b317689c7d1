import fc from 'fast-check';
import type { InvoiceStatus } from '../../src/billing/invoice-state';

/**
 * Test-only builders and a fast-check arbitrary for the Stripe events of ONE invoice.
 * The events are plain JSON, as they arrive on the wire, so every test goes through
 * snapshotFromEvent exactly like production does.
 */

/** A fixed clock: overdue depends on it, so due dates are generated around it. */
export const NOW = 1_760_000_000;
const DAY = 86_400;
const API_VERSION = '2026-10-28.endive';

export interface StatusTransitionsJson {
  finalized_at: number | null;
  paid_at: number | null;
  voided_at: number | null;
  marked_uncollectible_at: number | null;
}

export interface InvoiceJson {
  id: string;
  object: 'invoice';
  status: InvoiceStatus;
  amount_due: number;
  amount_paid: number;
  amount_remaining: number;
  total: number;
  currency: string;
  due_date: number | null;
  collection_method: 'send_invoice' | 'charge_automatically';
  billing_reason: string;
  customer: string;
  customer_email: string | null;
  number: string | null;
  hosted_invoice_url: string | null;
  invoice_pdf: string | null;
  livemode: boolean;
  metadata: Record<string, string>;
  attempt_count: number;
  created: number;
  status_transitions: StatusTransitionsJson;
}

export interface DeletionStubJson {
  id: string;
  object: 'invoice';
  deleted: true;
}

export interface InvoiceEventJson {
  id: string;
  object: 'event';
  type: string;
  created: number;
  livemode: boolean;
  api_version: string;
  data: { object: InvoiceJson | DeletionStubJson };
}

export const isStub = (o: InvoiceJson | DeletionStubJson): o is DeletionStubJson => !('status' in o);

export function draftInvoice(overrides: Partial<InvoiceJson> = {}): InvoiceJson {
  return {
    id: 'in_1TestInvoice0001',
    object: 'invoice',
    status: 'draft',
    amount_due: 2500,
    amount_paid: 0,
    amount_remaining: 2500,
    total: 2500,
    currency: 'eur',
    due_date: NOW - 3 * DAY,
    collection_method: 'send_invoice',
    billing_reason: 'manual',
    customer: 'cus_TestCustomer01',
    customer_email: 'ada@example.com',
    number: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    livemode: false,
    metadata: {},
    attempt_count: 0,
    created: NOW - 10 * DAY,
    status_transitions: { finalized_at: null, paid_at: null, voided_at: null, marked_uncollectible_at: null },
    ...overrides,
  };
}

/** What finalization adds: Stripe assigns the number and the hosted URLs only at this point. */
export function finalize(inv: InvoiceJson, at: number): InvoiceJson {
  return {
    ...inv,
    status: 'open',
    number: `${inv.id.slice(-8).toUpperCase()}-0001`,
    hosted_invoice_url: `https://invoice.stripe.com/i/acct_1Test/test_${inv.id}`,
    invoice_pdf: `https://pay.stripe.com/invoice/acct_1Test/test_${inv.id}/pdf`,
    status_transitions: { ...inv.status_transitions, finalized_at: at },
  };
}

export function pay(inv: InvoiceJson, at: number): InvoiceJson {
  return {
    ...inv,
    status: 'paid',
    amount_paid: inv.amount_due,
    amount_remaining: 0,
    attempt_count: inv.collection_method === 'charge_automatically' ? inv.attempt_count + 1 : inv.attempt_count,
    status_transitions: { ...inv.status_transitions, paid_at: at },
  };
}

export function voidInvoice(inv: InvoiceJson, at: number): InvoiceJson {
  return { ...inv, status: 'void', status_transitions: { ...inv.status_transitions, voided_at: at } };
}

export function markUncollectible(inv: InvoiceJson, at: number): InvoiceJson {
  return { ...inv, status: 'uncollectible', status_transitions: { ...inv.status_transitions, marked_uncollectible_at: at } };
}

export function invoiceEvent(
  id: string,
  type: string,
  created: number,
  object: InvoiceJson | DeletionStubJson,
): InvoiceEventJson {
  const livemode = isStub(object) ? false : object.livemode;
  // A deep copy, so that no two events ever share a nested object a test could mutate.
  return { id, object: 'event', type, created, livemode, api_version: API_VERSION, data: { object: structuredClone(object) } };
}

// ---------------------------------------------------------------------------------------------
// Lifecycle arbitrary
// ---------------------------------------------------------------------------------------------

type MetadataPatch = Record<string, string>;

type OpenStep =
  | { kind: 'sent' }
  | { kind: 'payment_failed' }
  | { kind: 'metadata'; patch: MetadataPatch }
  | { kind: 'partial_payment'; percent: number };

type Settlement =
  | { kind: 'stays_open' }
  | { kind: 'paid'; paymentSucceededEvent: boolean }
  | { kind: 'voided' }
  | { kind: 'uncollectible'; metadataWhileUncollectible: MetadataPatch[]; then: 'paid' | 'voided' | 'stays' };

type Ending =
  | { kind: 'deleted'; asStub: boolean }
  | { kind: 'finalized'; openSteps: OpenStep[]; settlement: Settlement; metadataAfter: MetadataPatch[] };

export interface LifecyclePlan {
  invoiceId: string;
  customer: string;
  email: string | null;
  livemode: boolean;
  currency: string;
  amountDue: number;
  collectionMethod: 'send_invoice' | 'charge_automatically';
  dueOffset: number;
  createdAt: number;
  draftMetadata: MetadataPatch[];
  ending: Ending;
  /** Seconds between consecutive events, mostly 0: ties within one second are the hard case. */
  gaps: number[];
  /** Random prefixes for event ids, so the id tie-break is not correlated with chronology. */
  idSeeds: string[];
}

export const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const alnum = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'), minLength: 1, maxLength: 6 });
const metadataPatch: fc.Arbitrary<MetadataPatch> = fc.dictionary(fc.constantFrom('order_ref', 'plan', 'note'), alnum, { maxKeys: 3 });

const gap = fc.oneof(
  { weight: 6, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 20 * DAY }) },
);

const openStep: fc.Arbitrary<OpenStep> = fc.oneof(
  fc.constant({ kind: 'sent' as const }),
  fc.constant({ kind: 'payment_failed' as const }),
  metadataPatch.map((patch) => ({ kind: 'metadata' as const, patch })),
  fc.integer({ min: 1, max: 99 }).map((percent) => ({ kind: 'partial_payment' as const, percent })),
);

const settlement: fc.Arbitrary<Settlement> = fc.oneof(
  fc.constant({ kind: 'stays_open' as const }),
  fc.boolean().map((paymentSucceededEvent) => ({ kind: 'paid' as const, paymentSucceededEvent })),
  fc.constant({ kind: 'voided' as const }),
  fc.record({
    kind: fc.constant('uncollectible' as const),
    metadataWhileUncollectible: fc.array(metadataPatch, { maxLength: 2 }),
    then: fc.constantFrom('paid' as const, 'voided' as const, 'stays' as const),
  }),
);

const ending: fc.Arbitrary<Ending> = fc.oneof(
  { weight: 1, arbitrary: fc.boolean().map((asStub) => ({ kind: 'deleted' as const, asStub })) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('finalized' as const),
      openSteps: fc.array(openStep, { maxLength: 7 }),
      settlement,
      metadataAfter: fc.array(metadataPatch, { maxLength: 2 }),
    }),
  },
);

export const lifecyclePlan: fc.Arbitrary<LifecyclePlan> = fc.record({
  invoiceId: hex(14).map((h) => `in_1${h}`),
  customer: hex(10).map((h) => `cus_${h}`),
  email: fc.option(fc.constantFrom('ada@example.com', 'billing@example.org')),
  livemode: fc.boolean(),
  currency: fc.constantFrom('usd', 'eur', 'jpy', 'gbp'),
  amountDue: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 100, max: 500_000 })),
  collectionMethod: fc.constantFrom('send_invoice' as const, 'charge_automatically' as const),
  // Boundary offsets matter: a due date equal to now is not yet overdue.
  dueOffset: fc.oneof(fc.constantFrom(-1, 0, 1), fc.integer({ min: -40 * DAY, max: 40 * DAY })),
  createdAt: fc.integer({ min: NOW - 90 * DAY, max: NOW - 30 * DAY }),
  draftMetadata: fc.array(metadataPatch, { maxLength: 3 }),
  ending,
  gaps: fc.array(gap, { minLength: 32, maxLength: 32 }),
  idSeeds: fc.array(hex(4), { minLength: 32, maxLength: 32 }),
});

/** Replays a plan through Stripe's state machine, one full invoice snapshot per event. */
export function eventsFromPlan(plan: LifecyclePlan): InvoiceEventJson[] {
  const events: InvoiceEventJson[] = [];
  let now = plan.createdAt;
  let revision = 0;
  let inv = draftInvoice({
    id: plan.invoiceId,
    customer: plan.customer,
    customer_email: plan.email,
    livemode: plan.livemode,
    currency: plan.currency,
    amount_due: plan.amountDue,
    amount_remaining: plan.amountDue,
    total: plan.amountDue,
    collection_method: plan.collectionMethod,
    // Stripe only has a due date for send_invoice.
    due_date: plan.collectionMethod === 'send_invoice' ? NOW + plan.dueOffset : null,
    created: plan.createdAt,
  });

  const tick = (minGap: number): number => {
    const i = events.length;
    now += Math.max(plan.gaps[i % plan.gaps.length]!, minGap);
    return now;
  };
  const emit = (type: string, at: number, object: InvoiceJson | DeletionStubJson = inv) => {
    const i = events.length;
    const id = `evt_${plan.idSeeds[i % plan.idSeeds.length]}${String(i).padStart(2, '0')}`;
    events.push(invoiceEvent(id, type, at, object));
  };
  // Metadata-only edits never share a second with the previous event: otherwise two snapshots with
  // the same status, amounts and attempts in one second would have no defined chronological order.
  const editMetadata = (patch: MetadataPatch) => {
    const at = tick(1);
    revision += 1;
    inv = { ...inv, metadata: { ...patch, rev: String(revision) } };
    emit('invoice.updated', at);
  };

  emit('invoice.created', now);
  plan.draftMetadata.forEach(editMetadata);

  const end = plan.ending;
  if (end.kind === 'deleted') {
    const at = tick(0);
    emit('invoice.deleted', at, end.asStub ? { id: inv.id, object: 'invoice', deleted: true } : inv);
    return events;
  }

  let at = tick(0);
  inv = finalize(inv, at);
  emit('invoice.finalized', at);

  for (const step of end.openSteps) {
    if (step.kind === 'metadata') {
      editMetadata(step.patch);
      continue;
    }
    at = tick(0);
    if (step.kind === 'payment_failed') {
      inv = { ...inv, attempt_count: inv.attempt_count + 1 };
      emit('invoice.payment_failed', at);
    } else if (step.kind === 'partial_payment' && inv.amount_remaining >= 2) {
      // A partial payment keeps the invoice open; only amount_paid grows.
      const part = Math.min(inv.amount_remaining - 1, Math.max(1, Math.floor((inv.amount_remaining * step.percent) / 100)));
      inv = { ...inv, amount_paid: inv.amount_paid + part, amount_remaining: inv.amount_remaining - part };
      emit('invoice.updated', at);
    } else {
      emit('invoice.sent', at);
    }
  }

  const s = end.settlement;
  if (s.kind === 'paid') {
    at = tick(0);
    inv = pay(inv, at);
    emit('invoice.paid', at);
    if (s.paymentSucceededEvent) emit('invoice.payment_succeeded', at);
  } else if (s.kind === 'voided') {
    at = tick(0);
    inv = voidInvoice(inv, at);
    emit('invoice.voided', at);
  } else if (s.kind === 'uncollectible') {
    at = tick(0);
    inv = markUncollectible(inv, at);
    emit('invoice.marked_uncollectible', at);
    s.metadataWhileUncollectible.forEach(editMetadata);
    if (s.then === 'paid') {
      at = tick(0);
      inv = pay(inv, at);
      emit('invoice.paid', at);
    } else if (s.then === 'voided') {
      at = tick(0);
      inv = voidInvoice(inv, at);
      emit('invoice.voided', at);
    }
  }
  end.metadataAfter.forEach(editMetadata);
  return events;
}

export const lifecycle: fc.Arbitrary<InvoiceEventJson[]> = lifecyclePlan.map(eventsFromPlan);

/** Every order of all the items (shuffledSubarray at full length is a permutation). */
export const permutationOf = <T>(items: readonly T[]): fc.Arbitrary<T[]> =>
  fc.shuffledSubarray([...items], { minLength: items.length, maxLength: items.length });
